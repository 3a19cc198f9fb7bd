"""The pytest plugin as a downstream project meets it: installed, found through its pytest11 entry point.

Every test writes a small downstream test suite with ``pytester`` and runs it. ``runpytest_inprocess``
works with the entry-point plugin (a fresh ``Config`` loads the pytest11 entry points again) and is
several times faster than a subprocess, so it is the default; one test runs the suite in a fresh
interpreter to prove nothing of this process (imports, this project's conftest or ini) helps it along.
"""

from __future__ import annotations

import re
import shutil

# httpx2, openai and requests are imported for speed only: pytester's in-process runs drop the modules
# they import themselves, so each downstream suite would otherwise import the SDK afresh (about a second).
import httpx2  # noqa: F401
import openai  # noqa: F401
import pytest
import requests  # noqa: F401

# Imported here for correctness, not speed: a module first imported inside an in-process run is
# dropped afterwards and imported again later, but httptools' compiled parser keeps raising the first
# copy's HttpParserUpgrade, which the second copy of uvicorn does not catch: every WebSocket upgrade
# to a live server started later in this process would then be dropped.
import uvicorn.protocols.http.auto  # noqa: F401
import uvicorn.protocols.http.httptools_impl  # noqa: F401
import uvicorn.protocols.websockets.auto  # noqa: F401

# What a downstream project's conftest would hold: an SDK client pointed at the real GPTNB host.
DOWNSTREAM_CONFTEST = """
import openai
import pytest

BASE_URL = "https://goapi.gptnb.ai/v1"


@pytest.fixture
def client(gptnb):
    return openai.OpenAI(base_url=BASE_URL, api_key="sk-test", max_retries=0)


# A complete chat.completion body: a canned reply the contract accepts.
CANNED = {
    "id": "chatcmpl-canned",
    "object": "chat.completion",
    "created": 1732531500,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "canned answer", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
}


def ask(client, text="hello", **extra):
    return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}], **extra)
"""


@pytest.fixture
def downstream(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(DOWNSTREAM_CONFTEST)
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def run_in_a_fresh_interpreter(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)


def printed(result: pytest.RunResult, label: str) -> list[str]:
    """What the downstream tests printed after ``label`` (with -s it shares a line with the progress)."""
    return re.findall(rf"{label}(.*)$", result.stdout.str(), flags=re.MULTILINE)


# --- the gptnb fixture with the official openai SDK ----------------------------------------------


def test_openai_sdk_sync_async_and_stream_reach_the_fake(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import openai
        import pytest
        from conftest import BASE_URL, ask


        def test_sync(gptnb, client):
            reply = ask(client, "ping")
            assert reply.object == "chat.completion"
            assert reply.choices[0].message.content
            call = gptnb.calls.last
            assert (call.method, call.path, call.contract_id) == ("POST", "/v1/chat/completions", "openai.chat.completions")
            assert call.status == 200
            assert call.body["messages"] == [{"role": "user", "content": "ping"}]
            assert gptnb.calls.call_count == 1
            assert gptnb.route("openai.chat.completions").called
            assert gptnb.openai_base_url == BASE_URL


        @pytest.mark.anyio
        async def test_async(gptnb):
            client = openai.AsyncOpenAI(base_url=BASE_URL, api_key="sk-test", max_retries=0)
            reply = await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "async ping"}])
            assert reply.choices[0].message.content
            stream = await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True)
            chunks = [chunk async for chunk in stream]
            assert chunks[-1].choices[0].finish_reason == "stop"
            assert [c.body["messages"][0]["content"] for c in gptnb.calls] == ["async ping", "x"]


        def test_stream(gptnb, client):
            chunks = list(ask(client, "stream me", stream=True))
            assert {c.object for c in chunks} == {"chat.completion.chunk"}
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            assert "stream me" in text
            assert gptnb.calls.last.body["stream"] is True
            assert gptnb.calls.last.response == "(event stream)"


        def test_embeddings_and_models(gptnb, client):
            vector = client.embeddings.create(model="text-embedding-3-small", input="hi").data[0].embedding
            assert len(vector) == 1536
            assert any(m.id == "gpt-4o-mini" for m in client.models.list())
            assert [c.contract_id for c in gptnb.calls] == ["openai.embeddings.create", "openai.models.list"]
        """
    )
    result = run(downstream)
    result.assert_outcomes(passed=4)


def test_respond_json_is_what_the_sdk_sees(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        from conftest import CANNED, ask


        def test_canned(gptnb, client):
            route = gptnb.route("openai.chat.completions").respond(json=CANNED)
            reply = ask(client)
            assert reply.id == "chatcmpl-canned"
            assert reply.choices[0].message.content == "canned answer"
            assert route.call_count == 1
            assert route.calls.last.response == CANNED


        def test_documented_example(gptnb, client):
            gptnb.route("openai.chat.completions").example("tool_call")
            reply = ask(client, "weather?")
            assert reply.choices[0].message.tool_calls[0].function.name == "get_weather"


        def test_canned_text_and_status(gptnb, client):
            gptnb.route("openai.models.list").respond(status=200, json={"object": "list", "data": []})
            assert list(client.models.list()) == []
        """
    )
    run(downstream).assert_outcomes(passed=3)


def test_fail_429_raises_rate_limit_error(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import openai
        import pytest
        from conftest import CANNED, ask


        def test_rate_limited(gptnb, client):
            gptnb.route("openai.chat.completions").fail(429, "slow down")
            with pytest.raises(openai.RateLimitError) as caught:
                ask(client)
            assert caught.value.status_code == 429
            assert "slow down" in caught.value.body["message"]
            assert gptnb.calls.last.status == 429


        def test_glob_route_fails_every_openai_call(gptnb, client):
            gptnb.route("openai.*").fail(503)
            with pytest.raises(openai.InternalServerError):
                client.models.list()
            with pytest.raises(openai.InternalServerError):
                ask(client)
        """
    )
    run(downstream).assert_outcomes(passed=2)


def test_mock_side_effect_decides_the_answer(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import copy
        from conftest import CANNED, ask


        def echo_upper(call):
            body = copy.deepcopy(CANNED)
            body["choices"][0]["message"]["content"] = call.body["messages"][-1]["content"].upper()
            return body


        def test_side_effect_sees_the_request(gptnb, client):
            gptnb.route("openai.chat.completions").mock(side_effect=echo_upper)
            assert ask(client, "shout").choices[0].message.content == "SHOUT"
            assert ask(client, "again").choices[0].message.content == "AGAIN"


        def test_side_effect_none_falls_through_to_the_fake(gptnb, client):
            seen = []
            gptnb.route("openai.chat.completions").mock(side_effect=lambda call: seen.append(call.body["model"]))
            reply = ask(client, "fall through")
            assert seen == ["gpt-4o-mini"]
            assert reply.id != "chatcmpl-canned" and reply.choices[0].message.content
        """
    )
    run(downstream).assert_outcomes(passed=2)


def test_side_effect_may_return_httpx_and_httpx2_responses(downstream: pytest.Pytester) -> None:
    """What a respx user writes: status, headers and body of the Response reach the client."""
    downstream.makepyfile(
        """
        import httpx
        import httpx2
        import openai
        import pytest
        from conftest import CANNED, ask


        @pytest.mark.parametrize("library", [httpx, httpx2], ids=["httpx", "httpx2"])
        def test_json_status_and_headers(gptnb, client, library):
            gptnb.route("openai.chat.completions").mock(side_effect=lambda call: library.Response(200, json=CANNED, headers={"x-canned": "yes"}))
            raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
            assert raw.headers["x-canned"] == "yes"
            assert raw.parse().choices[0].message.content == "canned answer"


        @pytest.mark.parametrize("library", [httpx, httpx2], ids=["httpx", "httpx2"])
        def test_an_error_response_is_the_sdk_error(gptnb, client, library):
            body = {"error": {"message": "slow down", "type": "rate_limit", "param": None, "code": "rate_limit_exceeded"}}
            gptnb.route("openai.chat.completions").mock(side_effect=lambda call: library.Response(429, json=body))
            with pytest.raises(openai.RateLimitError, match="slow down"):
                ask(client)


        def test_text_and_bytes(gptnb):
            gptnb.route("openai.audio.speech").mock(side_effect=lambda call: httpx.Response(200, content=b"ID3fake", headers={"content-type": "audio/mpeg"}))
            answer = httpx.post("https://goapi.gptnb.ai/v1/audio/speech", json={"model": "tts-1", "input": "x", "voice": "alloy"}, headers={"Authorization": "Bearer k"})
            assert answer.content == b"ID3fake" and answer.headers["content-type"] == "audio/mpeg"


        CHUNK = dict(CANNED, object="chat.completion.chunk", choices=[{"index": 0, "delta": {"content": "streamed"}, "finish_reason": None}])


        def events():
            yield b"data: " + httpx.Response(200, json=CHUNK).content + b"\\n\\n"
            yield b"data: [DONE]\\n\\n"


        async def async_events():
            for chunk in events():
                yield chunk


        @pytest.mark.parametrize("body", [events, async_events], ids=["iterator", "async-iterator"])
        @pytest.mark.parametrize("library", [httpx, httpx2], ids=["httpx", "httpx2"])
        def test_a_streamed_body_reaches_the_sdk_stream(gptnb, client, library, body):
            gptnb.route("openai.chat.completions").mock(
                side_effect=lambda call: library.Response(200, content=body(), headers={"content-type": "text/event-stream"})
            )
            chunks = list(ask(client, stream=True))
            assert [c.choices[0].delta.content for c in chunks] == ["streamed"]


        def test_an_async_side_effect(gptnb, client):
            async def later(call):
                return httpx2.Response(200, json={"object": "list", "data": []})
            gptnb.route("openai.models.list").mock(side_effect=later)
            assert client.models.list().data == []
        """
    )
    run(downstream).assert_outcomes(passed=10)


def test_a_streamed_side_effect_that_breaks_the_contract_fails_in_strict_mode(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import httpx
        from conftest import ask


        def test_broken_stream(gptnb, client):
            broken = b'data: {"object": "chat.completion.chunk"}\\n\\n'  # no choices, and no [DONE]
            gptnb.route("openai.chat.completions").mock(side_effect=lambda call: httpx.Response(200, content=iter([broken]), headers={"content-type": "text/event-stream"}))
            list(ask(client, stream=True))
        """
    )
    result = run(downstream)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*-> 200: event 0*", "*does not end with data: ?DONE?*"])


def test_times_one_then_the_fake_answers_again(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import openai
        import pytest
        from conftest import CANNED, ask


        def test_respond_once(gptnb, client):
            gptnb.route("openai.chat.completions").respond(json=CANNED, times=1)
            assert ask(client).id == "chatcmpl-canned"
            assert ask(client).id != "chatcmpl-canned"


        def test_fail_once_then_recover(gptnb, client):
            gptnb.route("openai.chat.completions").fail(500, times=1)
            with pytest.raises(openai.InternalServerError):
                ask(client)
            assert ask(client).choices[0].message.content
            assert [c.status for c in gptnb.calls] == [500, 200]
        """
    )
    run(downstream).assert_outcomes(passed=2)


def test_rules_and_calls_do_not_leak_into_the_next_test(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import openai
        import pytest
        from conftest import CANNED, ask


        def test_1_leaves_a_fault_behind(gptnb, client):
            gptnb.route("openai.chat.completions").fail(500)
            with pytest.raises(openai.InternalServerError):
                ask(client)


        def test_2_starts_clean(gptnb, client):
            assert gptnb.calls == [] and gptnb.controls.rules() == []
            assert ask(client).choices[0].message.content


        def test_3_snapshot_rollback_and_reset(gptnb, client):
            gptnb.snapshot()
            gptnb.route("openai.chat.completions").respond(json=CANNED)
            assert ask(client).id == "chatcmpl-canned"
            gptnb.rollback()
            assert ask(client).id != "chatcmpl-canned"
            gptnb.route("openai.chat.completions").fail(500)
            gptnb.reset()
            assert gptnb.calls == []
            assert ask(client).choices[0].message.content


        def test_4_server_leaves_a_fault_behind(gptnb_server):
            import requests
            gptnb_server.route("openai.models.list").fail(500)
            assert requests.get(gptnb_server.url + "/v1/models", headers={"Authorization": "Bearer sk-1"}).status_code == 500


        def test_5_server_starts_clean(gptnb_server):
            import requests
            assert gptnb_server.calls == []
            assert requests.get(gptnb_server.url + "/v1/models", headers={"Authorization": "Bearer sk-1"}).status_code == 200
        """
    )
    run(downstream).assert_outcomes(passed=5)


# --- gptnb_server: a real socket for clients httpx does not carry ---------------------------------


def test_gptnb_server_answers_requests_urllib_and_curl(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import json
        import shutil
        import subprocess
        import urllib.request

        import pytest
        import requests

        AUTH = {"Authorization": "Bearer sk-live"}
        CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "over the wire"}]}


        def test_requests(gptnb_server):
            assert gptnb_server.url.startswith("http://127.0.0.1:")
            reply = requests.post(gptnb_server.url + "/v1/chat/completions", json=CHAT, headers=AUTH, timeout=10)
            assert reply.status_code == 200 and reply.json()["object"] == "chat.completion"
            assert gptnb_server.calls.last.body == CHAT
            assert requests.get(gptnb_server.url + "/__mock/health", timeout=10).json()["status"] == "ok"


        def test_requests_stream(gptnb_server):
            url = gptnb_server.url + "/v1/chat/completions"
            with requests.post(url, json={**CHAT, "stream": True}, headers=AUTH, stream=True, timeout=10) as reply:
                lines = [line for line in reply.iter_lines(decode_unicode=True) if line]
            assert reply.headers["content-type"].startswith("text/event-stream")
            assert lines[-1] == "data: [DONE]"


        def test_urllib(gptnb_server):
            request = urllib.request.Request(gptnb_server.url + "/v1/models", headers=AUTH)
            with urllib.request.urlopen(request, timeout=10) as reply:
                assert json.load(reply)["object"] == "list"
            assert gptnb_server.calls.last.contract_id == "openai.models.list"


        @pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
        def test_curl(gptnb_server):
            out = subprocess.run(
                ["curl", "-sS", "-X", "POST", gptnb_server.url + "/v1/chat/completions", "-H", "Authorization: Bearer sk-live",
                 "-H", "Content-Type: application/json", "-d", json.dumps(CHAT)],
                capture_output=True, text=True, timeout=30, check=True,
            )
            assert json.loads(out.stdout)["choices"][0]["message"]["content"]


        def test_steering_over_the_wire(gptnb_server):
            gptnb_server.route("openai.chat.completions").fail(429, times=1)
            first = requests.post(gptnb_server.url + "/v1/chat/completions", json=CHAT, headers=AUTH, timeout=10)
            second = requests.post(gptnb_server.url + "/v1/chat/completions", json=CHAT, headers=AUTH, timeout=10)
            assert (first.status_code, second.status_code) == (429, 200)
            assert "error" in first.json()
        """
    )
    result = run(downstream, "-rs")
    if shutil.which("curl"):
        result.assert_outcomes(passed=5)
    else:
        result.assert_outcomes(passed=4, skipped=1)


# --- configuration: ini, command line, marker -------------------------------------------------------


def test_ini_gptnb_hosts_adds_an_intercepted_host(downstream: pytest.Pytester) -> None:
    downstream.makeini(
        """
        [pytest]
        gptnb_hosts =
            my.proxy.example
        """
    )
    downstream.makepyfile(
        """
        import openai


        def test_proxy_host_is_intercepted(gptnb):
            client = openai.OpenAI(base_url="https://my.proxy.example/v1", api_key="sk-test", max_retries=0)
            reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "via proxy"}])
            assert reply.choices[0].message.content
            assert gptnb.calls.last.path == "/v1/chat/completions"


        def test_default_hosts_still_intercepted(gptnb):
            client = openai.OpenAI(base_url="https://api.gptnb.ai/v1", api_key="sk-test", max_retries=0)
            assert list(client.models.list())
        """
    )
    run(downstream).assert_outcomes(passed=2)


def test_gptnb_host_option_adds_an_intercepted_host(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import httpx


        def test_option_host(gptnb):
            reply = httpx.get("https://relay.internal.example:8443/v1/models", headers={"Authorization": "Bearer sk-1"})
            assert reply.status_code == 200 and reply.json()["object"] == "list"
        """
    )
    run(downstream, "--gptnb-host", "relay.internal.example:8443").assert_outcomes(passed=1)


def test_gptnb_seed_changes_replies_and_the_same_seed_repeats_them(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        from conftest import CANNED, ask


        def test_print_reply(client):
            reply = ask(client, "tell me something")
            embedding = client.embeddings.create(model="text-embedding-3-small", input="x").data[0].embedding
            print("REPLY:", reply.choices[0].message.content, "|", embedding[:4])
        """
    )

    def reply_with(*args: str) -> str:
        result = run(downstream, "-s", *args)
        result.assert_outcomes(passed=1)
        [line] = printed(result, "REPLY:")
        return line

    seed_1, seed_1_again, seed_2 = reply_with("--gptnb-seed", "1"), reply_with("--gptnb-seed", "1"), reply_with("--gptnb-seed", "2")
    assert seed_1 == seed_1_again
    assert seed_1 != seed_2

    downstream.makeini("[pytest]\ngptnb_seed = 2\n")
    assert reply_with() == seed_2, "ini gptnb_seed sets the same seed as --gptnb-seed"


def test_marker_seed_overrides_the_command_line(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import pytest
        from conftest import CANNED, ask


        def reply(client):
            return ask(client, "same question").choices[0].message.content


        @pytest.mark.gptnb(seed=7)
        def test_a(client):
            print("A:", reply(client))


        @pytest.mark.gptnb(seed=7)
        def test_b(client):
            print("B:", reply(client))
        """
    )
    result = run(downstream, "-s", "--gptnb-seed", "3")
    result.assert_outcomes(passed=2)
    a, b = printed(result, "A:"), printed(result, "B:")
    assert a == b and a


STRICT_VIOLATION = """
from conftest import ask


def test_broken_canned_reply(gptnb, client):
    gptnb.route("openai.chat.completions").respond(json={"nope": 1})
    ask(client)
"""


def test_strict_mode_fails_a_test_whose_canned_reply_breaks_the_contract(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(STRICT_VIOLATION)
    result = run(downstream)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*gptnb-mock answers broke their contracts:*",
            "*POST /v1/chat/completions -> 200: body*\"choices\" is a required property*",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_strict_mode_fails_a_server_test_too(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import requests


        def test_broken_over_the_wire(gptnb_server):
            gptnb_server.route("openai.models.list").respond(json={"data": "not a list"})
            assert requests.get(gptnb_server.url + "/v1/models", headers={"Authorization": "Bearer sk-1"}).status_code == 200
        """
    )
    result = run(downstream)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*GET /v1/models -> 200: body*data*"])


@pytest.mark.parametrize(
    ("how", "args"),
    [
        ("marker", ()),
        ("option", ("--gptnb-strict", "off")),
        ("ini", ()),
    ],
)
def test_strict_off_lets_a_contract_breaking_reply_pass(downstream: pytest.Pytester, how: str, args: tuple[str, ...]) -> None:
    source = STRICT_VIOLATION
    if how == "marker":
        source = source.replace("def test_broken", "import pytest\n\n@pytest.mark.gptnb(strict=False)\ndef test_broken")
    if how == "ini":
        downstream.makeini("[pytest]\ngptnb_strict = false\n")
    downstream.makepyfile(source)
    result = run(downstream, *args)
    result.assert_outcomes(passed=1)
    assert "broke their contracts" not in result.stdout.str()


def test_strict_violation_is_reported_when_the_test_itself_failed(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(STRICT_VIOLATION + "    assert False, 'the test failed on its own'\n")
    result = run(downstream)
    result.assert_outcomes(failed=1, errors=1)
    # pytest prints errors before failures
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_broken_canned_reply*", "*broke their contracts*", "*the test failed on its own*"]
    )


def test_marker_api_keys_restricts_keys(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import openai
        import pytest
        from conftest import BASE_URL, ask


        @pytest.mark.gptnb(api_keys=["sk-good"])
        def test_wrong_key_is_refused(gptnb):
            client = openai.OpenAI(base_url=BASE_URL, api_key="sk-wrong", max_retries=0)
            with pytest.raises(openai.AuthenticationError) as caught:
                ask(client)
            assert caught.value.status_code == 401
            assert gptnb.calls.last.status == 401


        @pytest.mark.gptnb(api_keys=["sk-good"])
        def test_right_key_is_accepted(gptnb):
            client = openai.OpenAI(base_url=BASE_URL, api_key="sk-good", max_retries=0)
            assert ask(client).choices[0].message.content


        def test_without_the_marker_any_key_is_accepted(client):
            assert ask(client).choices[0].message.content
        """
    )
    run(downstream).assert_outcomes(passed=3)


def test_marker_clock_and_latency(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import time
        import pytest
        from conftest import CANNED, ask


        @pytest.mark.gptnb(clock="manual", latency_ms=150)
        def test_manual_clock(gptnb, client):
            start = gptnb.clock.now()
            time.sleep(0.05)
            assert gptnb.clock.now() == start
            gptnb.clock.advance(3600)
            began = time.monotonic()
            reply = ask(client)
            assert time.monotonic() - began >= 0.15
            assert reply.created >= int(start + 3600) - 1
        """
    )
    run(downstream).assert_outcomes(passed=1)


def test_marker_misuse_is_a_clear_usage_error(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import pytest


        @pytest.mark.gptnb(clock="sometimes")
        def test_bad_clock(gptnb):
            pass


        @pytest.mark.gptnb(colour="blue")
        def test_bad_keyword(gptnb):
            pass
        """
    )
    result = run(downstream)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*must be one of*", "*unexpected keyword argument 'colour'*"])


def test_unknown_route_id_names_known_ones(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import pytest


        def test_typo(gptnb):
            with pytest.raises(KeyError, match="openai.chat.completions"):
                gptnb.route("openai.chat.completion")
        """
    )
    run(downstream).assert_outcomes(passed=1)


def test_other_hosts_are_not_intercepted(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import httpx
        import httpx2
        import openai
        import pytest


        class Real(BaseHTTPRequestHandler):
            def do_GET(self):
                body = b'{"object": "list", "data": [{"id": "real-model", "object": "model", "created": 0, "owned_by": "me"}]}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass


        @pytest.fixture
        def real_server():
            server = ThreadingHTTPServer(("127.0.0.1", 0), Real)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            yield f"http://127.0.0.1:{server.server_port}"
            server.shutdown()
            server.server_close()


        def test_local_server_answers_for_real(gptnb, real_server):
            assert httpx.get(real_server + "/v1/models").json()["data"][0]["id"] == "real-model"
            assert httpx2.get(real_server + "/v1/models").json()["data"][0]["id"] == "real-model"
            client = openai.OpenAI(base_url=real_server + "/v1", api_key="sk-x", max_retries=0)
            assert [m.id for m in client.models.list()] == ["real-model"]
            assert gptnb.calls == []
            # ... while the GPTNB host is still the fake
            fake = openai.OpenAI(base_url=gptnb.openai_base_url, api_key="sk-x", max_retries=0)
            assert "real-model" not in [m.id for m in fake.models.list()]
            assert len(gptnb.calls) == 1
        """
    )
    run(downstream).assert_outcomes(passed=1)


def test_plugin_is_listed_and_documents_its_options(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--help")
    result.stdout.fnmatch_lines(
        ["*gptnb-mock*", "*--gptnb-host*", "*--gptnb-seed*", "*--gptnb-strict*", "*gptnb_hosts*", "*gptnb_seed*", "*gptnb_strict*"]
    )
    markers = run(pytester, "--markers")
    [line] = [line for line in markers.outlines if line.startswith("@pytest.mark.gptnb(")]
    for keyword in ("seed=", "strict=", "api_keys=", "clock=", "latency_ms="):
        assert keyword in line


def test_a_fresh_interpreter_finds_the_plugin_through_its_entry_point(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        """
        from conftest import ask


        def test_plugin_came_from_the_entry_point(request, gptnb, client):
            # registered under the entry point's name, not through a -p option or a conftest
            plugin = request.config.pluginmanager.get_plugin("gptnb")
            assert plugin is not None and plugin.__name__ == "pytest_plugin.plugin"
            assert ask(client).choices[0].message.content
            assert gptnb.calls.last.status == 200
        """
    )
    result = run_in_a_fresh_interpreter(downstream)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["plugins:*gptnb-mock-*"])

