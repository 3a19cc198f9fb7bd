"""Stream physics (per request, rule, model profile, serve-wide) and seeded chaos, through the openai SDK.

Times are checked only from below (a stream must take at least what its physics ask); how close to the
asked rate streams keep under load is measured in benchmarks/, not asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import openai
import pytest

from mockserver.app import MockApp
from mockserver.config import Settings
from mockserver.faults.chaos import Chaos
from mockserver.store import DEFAULT_NAMESPACE, run_sync
from pytest_plugin.bridge import ASGIBridge
from test_serve import running_server

BASE = "https://goapi.gptnb.ai"
AUTH = {"Authorization": "Bearer sk-test"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Tell me about lighthouses"}]}


def timed_stream(scenario: str | None = None, model: str = "gpt-4o-mini") -> tuple[float, float, int]:
    """Seconds to the first chunk, seconds to the last, and the chunks, of one SDK stream."""
    client = openai.OpenAI(base_url=BASE + "/v1", api_key="sk-test", max_retries=0)
    started = time.perf_counter()
    first = None
    count = 0
    headers = {"X-Mock-Scenario": scenario} if scenario else {}
    for _ in client.chat.completions.create(**{**CHAT, "model": model}, stream=True, extra_headers=headers):
        first = first or time.perf_counter() - started
        count += 1
    return first or 0.0, time.perf_counter() - started, count


def test_ttft_and_tps_from_the_scenario_header(gptnb) -> None:
    first, total, chunks = timed_stream("ttft=250; tps=200")
    assert first >= 0.25
    assert total >= 0.25 + (chunks - 1) / 200
    assert gptnb.calls.last.fault is None  # physics are not a fault


def test_physics_from_a_fixture_rule(gptnb) -> None:
    gptnb.route("openai.chat.completions").physics(ttft=200, tps=500, times=1)
    first, total, chunks = timed_stream()
    assert first >= 0.2 and total >= 0.2 + (chunks - 1) / 500


@pytest.mark.gptnb(physics={"ttft": 300, "tps": 40})
def test_serve_wide_physics_apply_to_every_stream_and_a_header_changes_what_it_names(gptnb) -> None:
    first, slow, _ = timed_stream()
    assert first >= 0.3
    first, fast, _ = timed_stream("tps=2000")  # ttft stays the server's
    assert first >= 0.3 and fast < slow


@pytest.mark.gptnb(model_physics="builtin", physics={"tps": 1000})
def test_the_builtin_profile_paces_each_model_like_itself(gptnb) -> None:
    mini, _, _ = timed_stream(model="gpt-4o-mini")  # 450 ms in the profile
    old, _, _ = timed_stream(model="gpt-3.5-turbo")  # 300 ms
    assert mini >= 0.45 and old >= 0.3
    quick, _, _ = timed_stream("ttft=0", model="gpt-4o-mini")  # a request's physics beat the profile
    assert quick < mini


def test_a_whole_answer_comes_when_a_model_would_have_finished_it(gptnb) -> None:
    client = openai.OpenAI(base_url=BASE + "/v1", api_key="sk-test", max_retries=0)
    started = time.perf_counter()
    reply = client.chat.completions.create(**CHAT, extra_headers={"X-Mock-Scenario": "ttft=100; tps=500"})
    assert time.perf_counter() - started >= 0.1 + reply.usage.completion_tokens / 500


def test_a_profile_file_paces_the_served_mock_and_bad_files_are_refused(tmp_path) -> None:
    profile = tmp_path / "physics.json"
    profile.write_text(json.dumps({"$comment": "slow mini", "gpt-4o-mini": {"ttft": 400}, "*": {"ttft": 0}}))
    firsts = {}
    with running_server(tmp_path / "serve.log", "--model-physics", str(profile)) as base:
        for model in ("gpt-4o-mini", "gpt-3.5-turbo"):
            started = time.perf_counter()  # before the request: the first event cannot come sooner than ttft after it
            with httpx.Client(timeout=10) as client, client.stream("POST", base + "/v1/chat/completions", json={**CHAT, "model": model, "stream": True}, headers=AUTH) as response:
                next(response.iter_lines())
                firsts[model] = time.perf_counter() - started
    assert firsts["gpt-4o-mini"] >= 0.4 and firsts["gpt-3.5-turbo"] < firsts["gpt-4o-mini"]
    bad = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--model-physics", str(tmp_path / "missing.json")], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "missing.json" in bad.stderr
    profile_bad = tmp_path / "bad.json"
    profile_bad.write_text(json.dumps({"gpt-4o": {"tps": -1}}))
    worse = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--model-physics", str(profile_bad)], capture_output=True, text=True, timeout=60)
    assert worse.returncode == 2 and "'gpt-4o'" in worse.stderr and "tps=-1" in worse.stderr


def faults_of(settings: Settings, calls: int) -> list[str | None]:
    """Run ``calls`` chat requests against a fresh mock; the journal's fault of each."""
    app = MockApp(settings)
    with ASGIBridge(app) as bridge, httpx.Client(transport=httpx.MockTransport(bridge.handle_sync), base_url=BASE, headers=AUTH) as client:
        for _ in range(calls):
            try:
                client.post("/v1/chat/completions", json=CHAT)
            except httpx.TransportError:
                pass
    return [entry.fault for entry in run_sync(app.state.store.journal(DEFAULT_NAMESPACE))]


def test_chaos_is_repeatable_by_seed_and_journalled() -> None:
    chaos = Chaos(0.5, ("reset", "empty", "code=503", "truncate=8"))
    first = faults_of(Settings(chaos=chaos, chaos_seed=7), 40)
    again = faults_of(Settings(chaos=chaos, chaos_seed=7), 40)
    other = faults_of(Settings(chaos=chaos, chaos_seed=8), 40)
    assert first == again and first != other
    assert set(first) == {"chaos: none", "chaos: reset", "chaos: empty", "chaos: code=503", "chaos: truncate=8"}
    assert 10 < sum(f != "chaos: none" for f in first) < 30


def test_chaos_picks_only_what_can_happen_to_the_request(gptnb) -> None:
    gptnb.route("openai.embeddings.create").chaos(1.0, ("no_done", "drop_after=1", "code=500"))
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        codes = {client.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"}).status_code for _ in range(5)}
    assert codes == {500}  # the stream faults cannot happen to an embeddings answer
    assert {call.fault for call in gptnb.calls} == {"chaos: code=500"}


def test_chaos_from_the_header_with_the_sdk(gptnb) -> None:
    client = openai.OpenAI(base_url=BASE + "/v1", api_key="sk-test", max_retries=0)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(**CHAT, extra_headers={"X-Mock-Scenario": "chaos=1; chaos_mix=code=500"})
    assert gptnb.calls.last.fault == "chaos: code=500" and gptnb.calls.last.status == 500


def test_serve_takes_chaos_and_physics_flags_and_refuses_bad_ones() -> None:
    for flags, says in (
        (["--chaos", "1.5"], "chaos=1.5"),
        (["--chaos", "0.1", "--chaos-mix", "reset|nope"], "nope"),
        (["--chaos-mix", "reset"], "--chaos-mix needs --chaos"),
        (["--tps", "0"], "tps=0"),
        (["--chunk-delay", "20", "--tps", "5"], "give one"),
    ):
        done = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", *flags], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and says in done.stderr, (flags, done.stderr)
