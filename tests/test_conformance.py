"""The conformance runner and checks: they pass on the mock and catch each kind of breakage."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import httpx2
import pytest
import requests as requests_lib

from mockserver.app import MockApp
from mockserver.config import Settings
from mockserver.journal import violations
from mockserver.state import MockState
from mockserver.store import DEFAULT_NAMESPACE, run_sync
from pytest_plugin.bridge import ASGIBridge
from pytest_plugin.checks import assert_conforms
from mockserver.cli import main
from pytest_plugin.conformance import ConformanceRunner, RunnerOptions, default_budget
from pytest_plugin.conformance_cli import EXIT_INCOMPLETE, exit_code
from pytest_plugin.conformance_pytest import REMOTE_BUDGET
from pytest_plugin.reports import as_json, as_junit, family_table, write_report

BASE = "https://goapi.gptnb.ai"
Mutation = Callable[[str, bytes], bytes]


class Breaker:
    """Wraps the mock and rewrites the bodies of chosen paths: a deliberately broken server."""

    def __init__(self, app: Any, mutate: Mutation) -> None:
        self.app = app
        self.mutate = mutate

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = self.mutate(scope["path"], b"".join(chunks))
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"] + [(b"content-length", str(len(body)).encode())]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def runner_for(app: Any, *only: str, **options: Any) -> ConformanceRunner:
    bridge = ASGIBridge(app)
    client = httpx.Client(transport=httpx.MockTransport(bridge.handle_sync))
    settings = {"allow_paid": True, "examples": 1, "max_requests": 100_000, "poll_interval": 0.0, "task_timeout": 30.0, **options}
    return ConformanceRunner(RunnerOptions(BASE, only=only, **settings), client=client)


def step_mock() -> MockApp:
    return MockApp(state=MockState(Settings(strict=True, clock="step")))


def test_the_mock_conforms_to_every_contract_in_the_registry() -> None:
    app = step_mock()
    runner = runner_for(app)
    outcomes = runner.run(runner.plan())
    failed = [f"{o.case.id}: {o.first_violation}" for o in outcomes if not o.passed]
    assert failed == []
    families = {o.case.contract.family for o in outcomes}
    assert {"openai", "midjourney"} <= families
    assert any(o.case.kind == "lifecycle" and not o.skipped for o in outcomes)
    assert violations(run_sync(app.state.store.journal(DEFAULT_NAMESPACE))) == []


def json_mutation(path_part: str, change: Callable[[Any], Any]) -> Mutation:
    def mutate(path: str, body: bytes) -> bytes:
        if path_part not in path:
            return body
        try:
            data = json.loads(body)
        except ValueError:  # streams and binaries pass untouched
            return body
        return json.dumps(change(data)).encode()

    return mutate


def first_failure(app: Any, *only: str) -> str:
    runner = runner_for(app, *only, negatives=False, examples=0, task_timeout=2.0)
    outcomes = runner.run(runner.plan())
    failures = [v for o in outcomes for v in o.violations]
    assert failures, "the broken server was not caught"
    return failures[0]


def test_a_field_of_the_wrong_type_is_reported_with_its_path() -> None:
    def created_as_text(data: Any) -> Any:
        data["data"][0]["created"] = "yesterday"
        return data

    failure = first_failure(Breaker(step_mock(), json_mutation("/v1/models", created_as_text)), "openai.models.list")
    assert failure.startswith("response_schema_conformance") and "data/0/created" in failure and "integer" in failure


def test_a_missing_required_field_is_reported() -> None:
    def without_choices(data: Any) -> Any:
        data.pop("choices", None)
        return data

    failure = first_failure(Breaker(step_mock(), json_mutation("/v1/completions", without_choices)), "openai.completions.create")
    assert "choices" in failure and "required" in failure


def test_a_wrong_status_word_is_reported() -> None:
    def done(data: Any) -> Any:
        if isinstance(data, dict) and data.get("status") == "SUCCESS":
            data["status"] = "DONE"
        return data

    failure = first_failure(Breaker(step_mock(), json_mutation("/fetch", done)), "midjourney.submit.imagine")
    assert "status" in failure and "DONE" in failure


def _message(change: Callable[[dict[str, Any]], None]) -> Callable[[Any], Any]:
    def mutate(data: Any) -> Any:
        for choice in data.get("choices", []) if isinstance(data, dict) else []:
            if "message" in choice:
                change(choice)
        return data

    return mutate


# The chat contract requires only what every server sends (no content next to tool calls, no id from
# some upstreams): what it still requires is still checked.
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_message(lambda choice: choice["message"].pop("role")), '"role" is a required property'),
        (_message(lambda choice: choice["message"].update(role="user")), "assistant"),
        (_message(lambda choice: choice.pop("finish_reason")), '"finish_reason" is a required property'),
        (_message(lambda choice: choice.update(finish_reason="done")), "done"),
        (lambda data: {**data, "object": "chat.completion.chunk"}, "chat.completion"),
        (lambda data: {k: v for k, v in data.items() if k != "usage"}, '"usage" is a required property'),
        (lambda data: {**data, "created": "now"}, "integer"),
        (lambda data: {**data, "choices": {"0": data.get("choices")}}, "array"),
    ],
    ids=["no-role", "wrong-role", "no-finish-reason", "wrong-finish-reason", "wrong-object", "no-usage", "created-text", "choices-not-a-list"],
)
def test_a_broken_chat_completion_is_still_caught(change: Callable[[Any], Any], expected: str) -> None:
    failure = first_failure(Breaker(step_mock(), json_mutation("/v1/chat/completions", change)), "openai.chat.completions")
    assert failure.startswith("response_schema_conformance") and expected in failure, failure


@pytest.mark.parametrize(
    ("before", "after"),
    [(b'"delta":', b'"dlt":'), (b'"object":"chat.completion.chunk"', b'"object":"chat.completion"'), (b'"choices":', b'"choice":'), (b"\n\n", b"\n")],
    ids=["chunk-without-delta", "chunk-with-the-wrong-object", "chunk-without-choices", "framing"],
)
def test_a_broken_chat_stream_is_still_caught(before: bytes, after: bytes) -> None:
    def rewrite(path: str, body: bytes) -> bytes:
        return body.replace(before, after) if path == "/v1/chat/completions" and body.startswith(b"data: ") else body

    runner = runner_for(Breaker(step_mock(), rewrite), "openai.chat.completions", negatives=False, examples=0)
    outcomes = runner.run(case for case in runner.plan() if case.id.endswith("example[stream]"))
    assert outcomes and outcomes[0].verdict == "failed" and "sse_conformance" in outcomes[0].first_violation


def test_broken_sse_framing_is_reported() -> None:
    def squash(path: str, body: bytes) -> bytes:
        return body.replace(b"\n\n", b"\n") if b"data: " in body else body

    runner = runner_for(Breaker(step_mock(), squash), "openai.completions.create", negatives=False, examples=0)
    outcomes = runner.run(case for case in runner.plan() if case.id.endswith("example[stream]"))
    assert outcomes and "sse_conformance" in outcomes[0].first_violation


def test_an_event_whose_name_is_not_its_type_is_reported() -> None:
    def rename(path: str, body: bytes) -> bytes:  # Anthropic clients drop events without the right name
        return body.replace(b"event: content_block_delta", b"event: delta", 1)

    runner = runner_for(Breaker(step_mock(), rename), "claude.messages.create", negatives=False, examples=0)
    outcomes = runner.run(case for case in runner.plan() if case.id.endswith("example[stream]"))
    assert outcomes and "sse_conformance" in outcomes[0].first_violation and "'delta'" in outcomes[0].first_violation


def test_a_task_status_going_backwards_is_reported() -> None:
    seen: dict[str, int] = {}

    def backwards(data: Any) -> Any:
        if isinstance(data, dict) and data.get("status") == "SUCCESS":
            count = seen[data["id"]] = seen.get(data["id"], 0) + 1
            if count == 1:
                data["status"] = "IN_PROGRESS"  # SUCCESS is replaced, so IN_PROGRESS follows a terminal...
        return data

    def flip(path: str, body: bytes) -> bytes:
        return json_mutation("/fetch", backwards)(path, body)

    app = Breaker(step_mock(), flip)
    runner = runner_for(app, "midjourney.submit.imagine", negatives=False, examples=0)
    statuses: list[str] = []
    lifecycle = [c for c in runner.plan() if c.kind == "lifecycle"][0]
    outcome = runner.run_case(lifecycle)
    statuses = [x["response"]["body"].get("status") for x in outcome.exchanges[1:]]
    assert "SUCCESS" not in statuses[:-1]  # the breaker really rewrote the first SUCCESS
    from pytest_plugin.checks import CheckFailure, task_lifecycle_conformance
    from mockserver.lifecycles import lifecycles

    with pytest.raises(CheckFailure, match="went backwards: SUCCESS -> IN_PROGRESS"):
        task_lifecycle_conformance(["NOT_START", "IN_PROGRESS", "SUCCESS", "IN_PROGRESS", "SUCCESS"], lifecycles()["midjourney"])
    with pytest.raises(CheckFailure, match="unknown status word"):
        task_lifecycle_conformance(["NOT_START", "DONE"], lifecycles()["midjourney"])


def test_negative_requests_that_are_accepted_are_reported() -> None:
    def accept_everything(path: str, body: bytes) -> bytes:
        return body

    class Lenient:
        """A server that answers every embeddings request with a valid 200, bad ones included."""

        def __init__(self) -> None:
            self.mock = step_mock()

        async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["path"] == "/v1/embeddings":
                body = json.dumps({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.0]}], "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1}}).encode()
                await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body})
                return
            await self.mock(scope, receive, send)

    runner = runner_for(Lenient(), "openai.embeddings.create", examples=0)
    outcomes = runner.run(runner.plan())
    rejected = [o for o in outcomes if o.case.kind == "negative" and not o.passed]
    assert rejected and all("negative_rejected" in o.first_violation for o in rejected)


def test_budget_free_only_and_dry_plan() -> None:
    runner = runner_for(step_mock(), allow_paid=False, max_requests=3)
    cases = runner.plan()
    assert cases and all(case.contract.cost == "free" for case in cases)
    outcomes = runner.run(cases)
    assert sum(o.verdict == "unfinished" and "budget" in (o.skipped or "") for o in outcomes) == len(outcomes) - 3
    # A run the budget cut short never reads as a pass: its last line and its exit status say so.
    last = family_table(outcomes).splitlines()[-1]
    assert last.startswith("INCOMPLETE: 3 passed, 0 failed, ") and f"{len(outcomes) - 3} of {len(outcomes)} cases were not checked" in last
    assert exit_code(outcomes) == EXIT_INCOMPLETE
    assert json.loads(json.dumps(as_json(outcomes)))["summary"]["complete"] is False


@pytest.mark.parametrize(
    ("base_url", "budget"),
    [
        ("http://127.0.0.1:8000", None),
        ("http://localhost:8000", None),
        ("http://[::1]:8000", None),
        ("http://127.0.0.2", None),
        ("https://goapi.gptnb.ai", REMOTE_BUDGET),
        ("http://10.0.0.5:8000", REMOTE_BUDGET),
    ],
)
def test_only_a_remote_server_gets_a_request_budget_by_default(base_url: str, budget: int | None) -> None:
    assert default_budget(base_url) == budget
    assert ConformanceRunner(RunnerOptions(base_url)).budget == budget
    assert ConformanceRunner(RunnerOptions(base_url, max_requests=7)).budget == 7


def test_the_readme_check_line_runs_every_case_against_a_local_mock(gptnb_server, capsys: pytest.CaptureFixture[str]) -> None:
    """``gptnb-mock check http://127.0.0.1:PORT --allow-paid``: no budget cut on this machine, exit 0, a last
    line that counts every case (narrowed with --only to keep the suite fast)."""
    assert main(["check", gptnb_server.url, "--allow-paid", "--only", "openai.models.*", "--only", "openai.embeddings.*"]) == 0
    out = capsys.readouterr().out.splitlines()
    planned = ConformanceRunner(RunnerOptions(gptnb_server.url, only=("openai.models.*", "openai.embeddings.*"), allow_paid=True)).plan()
    assert out[-1] == f"conformance: {len(planned)} passed, 0 failed"


def test_a_budget_cut_run_exits_3_and_says_so_last(gptnb_server, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", gptnb_server.url, "--only", "openai.models.*", "--max-requests", "2"]) == EXIT_INCOMPLETE
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("INCOMPLETE: 2 passed, 0 failed, ") and "request budget of 2 used up" in last


def test_reports_in_every_format(tmp_path) -> None:
    runner = runner_for(step_mock(), "openai.models.*")
    outcomes = runner.run(runner.plan())
    assert "openai" in family_table(outcomes)
    for name in ("r.xml", "r.html", "r.json"):
        write_report(tmp_path / name, outcomes)
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["passed"] == len(outcomes)
    assert b"<testsuite" in as_junit(outcomes) and "<table>" in (tmp_path / "r.html").read_text()
    with pytest.raises(ValueError):
        write_report(tmp_path / "r.txt", outcomes)


def test_the_key_is_never_written_to_reports(tmp_path) -> None:
    runner = runner_for(step_mock(), "openai.models.*", api_key="sk-secret-never-shown")
    outcomes = runner.run(runner.plan())
    write_report(tmp_path / "r.json", outcomes)
    write_report(tmp_path / "r.html", outcomes)
    assert "sk-secret-never-shown" not in (tmp_path / "r.json").read_text() + (tmp_path / "r.html").read_text()


def test_assert_conforms_reads_httpx_httpx2_and_requests_responses(gptnb, gptnb_server) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    auth = {"Authorization": "Bearer sk-test"}
    assert_conforms(httpx.post(f"{BASE}/v1/chat/completions", json=body, headers=auth), "openai.chat.completions")
    assert_conforms(httpx2.post(f"{BASE}/v1/chat/completions", json=body, headers=auth), "openai.chat.completions")
    assert_conforms(requests_lib.post(f"{gptnb_server.url}/v1/chat/completions", json=body, headers=auth, timeout=10), "openai.chat.completions")
    gptnb.route("openai.chat.completions").respond(json={"id": 5})
    with pytest.raises(AssertionError, match=r"response_schema_conformance: .*\"choices\" is a required property.*id: 5 is not of types"):
        assert_conforms(httpx.post(f"{BASE}/v1/chat/completions", json=body, headers=auth), "openai.chat.completions")
    gptnb.controls.clear_journal()  # the canned reply above was broken on purpose


def test_websocket_conformance_names_the_broken_frame() -> None:
    from mockserver.contracts import default_registry
    from pytest_plugin.checks import CheckFailure, websocket_conformance

    contract = default_registry()["openai.realtime.session"]
    good = {"type": "input_audio_buffer.cleared", "event_id": "event_1"}
    websocket_conformance([good], contract)
    with pytest.raises(CheckFailure, match="frame 1"):
        websocket_conformance([good, {"type": "response.done", "event_id": "event_2", "response": {"id": "nope"}}], contract)


def test_pytest_option_collects_one_item_per_case(pytester: pytest.Pytester, gptnb_server) -> None:
    pytester.makeini("[pytest]\n")
    args = ["-p", "no:cacheprovider", f"--gptnb-conformance={gptnb_server.url}", "--gptnb-only", "openai.models.*", "-q"]
    collected = pytester.runpytest_subprocess(*args, "--collect-only")
    items = [line for line in collected.outlines if "gptnb-conformance::openai.models" in line]
    assert any("example[basic]" in line for line in items) and any("negative[missing API key]" in line for line in items)
    result = pytester.runpytest_subprocess(*args, "--junitxml=junit.xml")
    result.assert_outcomes(passed=len(items))
    assert (pytester.path / "junit.xml").read_text().count("<testcase") == len(items)
    only_examples = pytester.runpytest_subprocess(*args, "-k", "example")
    only_examples.assert_outcomes(passed=sum("example[" in line for line in items), deselected=sum("example[" not in line for line in items))


def test_generated_requests_are_realistic(gptnb) -> None:
    from hypothesis import HealthCheck, given, settings

    from pytest_plugin.strategies import PLACEHOLDER_KEY, requests

    # A task is visible to the key that made it: submit with the key the strategies send.
    key = {"Authorization": f"Bearer {PLACEHOLDER_KEY}"}
    task_id = httpx.post(f"{BASE}/mj/submit/imagine", json={"prompt": "a fox"}, headers=key).json()["result"]

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(fetch=requests("midjourney.task.fetch", task_ids=[task_id]), blend=requests("midjourney.submit.blend"))
    def check(fetch, blend) -> None:
        assert fetch.path == f"/mj/task/{task_id}/fetch"
        assert httpx.get(BASE + fetch.path, headers=fetch.headers).status_code == 200
        assert all(image.startswith("data:image/png;base64,iVBOR") for image in blend.json["base64Array"])

    check()
