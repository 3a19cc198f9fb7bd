"""Cassettes in a downstream project's tests: ``@pytest.mark.gptnb(cassette=...)`` with
``--gptnb-record=once|new|none``, for both fixtures, recorded from a local stand-in upstream."""

from __future__ import annotations

import pytest

# Imported up front for the in-process runs, as tests/test_plugin.py explains.
import openai  # noqa: F401
import uvicorn.protocols.http.auto  # noqa: F401
import uvicorn.protocols.http.httptools_impl  # noqa: F401
import uvicorn.protocols.websockets.auto  # noqa: F401

from mockserver.proxy.cassette import load
from mockserver.steering import rule_from_json

from proxy_helpers import files_under, served
from standin_upstream import StandIn

KEY = "sk-recording-key-in-env-4242"
EMBEDDING = {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.25, 0.5]}], "model": "text-embedding-3-small", "usage": {"prompt_tokens": 1, "total_tokens": 1}}
MODELS = {"object": "list", "data": [{"id": "upstream-only-model", "object": "model", "created": 1626777600, "owned_by": "openai"}], "success": True}

DOWNSTREAM = """
import httpx
import openai
import pytest

TEXT = "{text}"


@pytest.mark.gptnb(cassette="embed")
def test_in_process(gptnb):
    client = openai.OpenAI(base_url="https://goapi.gptnb.ai/v1", api_key="sk-test", max_retries=0)
    vector = client.embeddings.create(model="text-embedding-3-small", input=TEXT).data[0].embedding
    assert vector == [0.25, 0.5]  # what the upstream answered, not the fake's 1536 numbers
    assert gptnb.calls.last.contract_id == "openai.embeddings.create"


@pytest.mark.gptnb(cassette="models")
def test_live_server(gptnb_server):
    answer = httpx.get(gptnb_server.url + "/v1/models", headers={{"Authorization": "Bearer sk-test"}})
    assert [m["id"] for m in answer.json()["data"]] == ["upstream-only-model"]
    assert gptnb_server.calls.last.contract_id == "openai.models.list"  # in this test's namespace, recorded or replayed
"""


@pytest.fixture
def upstream():
    standin = StandIn()
    standin.add_rule(rule_from_json({"contract": "openai.embeddings.create", "body": EMBEDDING}))
    standin.add_rule(rule_from_json({"contract": "openai.models.list", "body": MODELS}))
    with served(standin) as server:
        standin.url = server.url
        yield standin


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def test_record_once_then_replay_without_the_upstream(pytester: pytest.Pytester, upstream, monkeypatch) -> None:
    monkeypatch.setenv("GPTNB_API_KEY", KEY)
    pytester.makepyfile(test_downstream=DOWNSTREAM.format(text="hello"))
    run(pytester, f"--gptnb-upstream={upstream.url}", "--gptnb-record=once").assert_outcomes(passed=2)
    cassettes = pytester.path / "cassettes"
    assert [c.contract for c in load(cassettes / "embed")] == ["openai.embeddings.create"]
    assert [c.contract for c in load(cassettes / "models")] == ["openai.models.list"]
    # The key came from the environment, replaced the test's own, and is on no disk.
    assert {h.get("authorization") for _, path, h in upstream.seen} == {f"Bearer {KEY}"}
    assert all(KEY.encode() not in path.read_bytes() for path in files_under(cassettes))
    upstream.seen.clear()
    # Offline now: the default mode (none) replays, and nothing reaches the upstream.
    run(pytester, "--gptnb-upstream=http://127.0.0.1:9").assert_outcomes(passed=2)
    assert upstream.seen == []


def test_once_does_not_record_again(pytester: pytest.Pytester, upstream) -> None:
    pytester.makepyfile(test_downstream=DOWNSTREAM.format(text="hello"))
    run(pytester, f"--gptnb-upstream={upstream.url}", "--gptnb-record=once").assert_outcomes(passed=2)
    upstream.seen.clear()
    run(pytester, f"--gptnb-upstream={upstream.url}", "--gptnb-record=once").assert_outcomes(passed=2)
    assert upstream.seen == [] and len(files_under(pytester.path / "cassettes")) == 2


def test_a_request_the_cassette_does_not_answer_fails_the_test(pytester: pytest.Pytester, upstream) -> None:
    pytester.makepyfile(test_downstream=DOWNSTREAM.format(text="hello"))
    run(pytester, f"--gptnb-upstream={upstream.url}", "--gptnb-record=once").assert_outcomes(passed=2)
    pytester.makepyfile(test_downstream=DOWNSTREAM.format(text="goodbye"))
    result = run(pytester, "-k", "in_process")
    result.assert_outcomes(failed=1, deselected=1)  # the client saw the refusal; no teardown error besides
    result.stdout.fnmatch_lines(["*gptnb-mock replay: no recording answers POST /v1/embeddings*differs at /body/input: recorded 'hello', sent 'goodbye'*"])
    # Code that swallows the error does not hide the miss: the plugin fails the test itself.
    pytester.makepyfile(
        test_swallowing="""
        import openai
        import pytest


        @pytest.mark.gptnb(cassette="embed")
        def test_in_process(gptnb):
            client = openai.OpenAI(base_url="https://goapi.gptnb.ai/v1", api_key="sk-test", max_retries=0)
            try:
                client.embeddings.create(model="text-embedding-3-small", input="goodbye")
            except openai.NotFoundError:
                pass
        """
    )
    result = run(pytester, "test_swallowing.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*cassette 'embed' does not answer every request (record it again with --gptnb-record=new):*", "*recorded 'hello', sent 'goodbye'*"])


def test_new_records_what_the_cassette_does_not_answer(pytester: pytest.Pytester, upstream) -> None:
    pytester.makepyfile(test_downstream=DOWNSTREAM.format(text="hello"))
    run(pytester, f"--gptnb-upstream={upstream.url}", "--gptnb-record=once").assert_outcomes(passed=2)
    pytester.makepyfile(test_downstream=DOWNSTREAM.format(text="goodbye"))
    upstream.seen.clear()
    run(pytester, f"--gptnb-upstream={upstream.url}", "--gptnb-record=new").assert_outcomes(passed=2)
    # Only the new request went upstream; the recorded models list was replayed.
    assert [path for _, path, _ in upstream.seen] == ["/v1/embeddings"]
    assert [c.request["body"]["json"]["input"] for c in load(pytester.path / "cassettes" / "embed")] == ["hello", "goodbye"]
    run(pytester).assert_outcomes(passed=2)


def test_a_cassette_never_recorded_fails_under_none(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_downstream=DOWNSTREAM.format(text="hello"))
    result = run(pytester)
    result.assert_outcomes(errors=2)  # the test cannot even be set up
    result.stdout.fnmatch_lines(["*cassette 'embed' was never recorded*--gptnb-record=once*"])


def test_recording_reaches_an_upstream_the_test_also_intercepts(pytester: pytest.Pytester, upstream) -> None:
    """Recording from the real goapi.gptnb.ai means recording from a host the gptnb fixture intercepts:
    the proxy's own requests must pass the interception. Here the stand-in's host plays that part."""
    host = upstream.url.removeprefix("http://")
    pytester.makepyfile(
        test_intercepted=f"""
        import httpx
        import pytest


        @pytest.mark.gptnb(cassette="intercepted")
        def test_models(gptnb):
            answer = httpx.get("{upstream.url}/v1/models", headers={{"Authorization": "Bearer sk-test"}}, timeout=20)
            assert [m["id"] for m in answer.json()["data"]] == ["upstream-only-model"]
            assert gptnb.calls.last.contract_id == "openai.models.list"
        """
    )
    run(pytester, f"--gptnb-host={host}", f"--gptnb-upstream={upstream.url}", "--gptnb-record=once").assert_outcomes(passed=1)
    assert [p for _, p, _ in upstream.seen] == ["/v1/models"]


def test_recording_from_gptnb_without_a_key_stops_before_calling_anything(pytester: pytest.Pytester, monkeypatch) -> None:
    monkeypatch.delenv("GPTNB_API_KEY", raising=False)
    pytester.makepyfile(test_downstream=DOWNSTREAM.format(text="hello"))
    result = run(pytester, "--gptnb-record=once", "-k", "in_process")
    result.assert_outcomes(errors=1, deselected=1)
    result.stdout.fnmatch_lines(["*recording cassette 'embed' from https://goapi.gptnb.ai needs the key in $GPTNB_API_KEY*"])
    assert not (pytester.path / "cassettes").exists()


def test_a_marker_with_a_bad_cassette_name_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest


        @pytest.mark.gptnb(cassette="/etc/passwd")
        def test_x(gptnb):
            pass
        """
    )
    result = run(pytester)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*cassette=...) is a relative name*"])
