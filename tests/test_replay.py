"""Replay: recorded exchanges answer matching requests byte for byte and at the recorded pace, task
sequences play on the mock's clocks, and requests no recording answers fall back to the fake (or are
refused with --replay-strict) with their nearest recording named."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest
import websockets

from mockserver.app import MockApp
from mockserver.config import Settings
from mockserver.proxy.cassette import body_bytes, load
from mockserver.proxy.matching import Normaliser, differences
from mockserver.proxy.replay import Replay, parse_timing
from mockserver.contracts import default_registry
from mockserver.state import MockState
from mockserver.store import DEFAULT_NAMESPACE, Limits, run_sync
from mockserver.store.redis import RedisStore

from processes import running_server
from proxy_helpers import CHAT, SPEECH, STREAM, proxy_to, served, wait_for
from standin_upstream import STREAM_GAP, StandIn

AUTH = {"Authorization": "Bearer sk-replay-client"}
POLL_GAP = 0.3


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Exchanges recorded through the proxy from the stand-in, and what the client received each time."""
    directory = tmp_path_factory.mktemp("cassettes")
    received: dict[str, bytes] = {}
    standin = StandIn()
    with served(standin) as upstream, proxy_to(upstream.url, record=directory) as (_, url), httpx.Client(base_url=url, headers=AUTH, timeout=30) as client:
        received["chat"] = client.post("/v1/chat/completions", json=CHAT).content
        received["stream"] = client.post("/v1/chat/completions", json=STREAM).content
        received["speech"] = client.post("/v1/audio/speech", json=SPEECH).content
        received["error"] = client.get("/v1/models/broken-model").content
        received["ignored"] = client.post("/v1/chat/completions", json={**CHAT, "request_id": "r-1", "metadata": {"trace": str(uuid.uuid4())}}).content
        first = client.post("/mj/submit/imagine", json={"prompt": "a lighthouse"}, headers={"mj-api-secret": "sk-mj"}).json()["result"]
        statuses = []
        while not statuses or statuses[-1] != "SUCCESS":
            time.sleep(POLL_GAP)
            statuses.append(client.get(f"/mj/task/{first}/fetch", headers={"mj-api-secret": "sk-mj"}).json()["status"])
        second = client.post("/mj/submit/imagine", json={"prompt": "a lighthouse"}, headers={"mj-api-secret": "sk-mj"}).json()["result"]
    return {"dir": directory, "received": received, "task": first, "statuses": statuses, "second": second}


def mock_with(replay: Replay, clock: str = "real", strict: bool = True, store_url: str | None = None) -> MockApp:
    """A mock answering from ``replay``: its own in-memory store, or a replica on the Redis at ``store_url``."""
    settings = Settings(strict=strict, clock=clock)
    state = MockState(settings, store=RedisStore(store_url, Limits(), clock) if store_url else None)
    state.replay = replay
    return MockApp(state=state)


def journal_of(app: MockApp) -> list:
    return run_sync(app.state.store.journal(DEFAULT_NAMESPACE))


def timed(client: httpx.Client, method: str, path: str, **kwargs) -> tuple[httpx.Response, bytes, list[float]]:
    started, arrivals, data = time.perf_counter(), [], b""
    with client.stream(method, path, **kwargs) as answer:
        for chunk in answer.iter_raw():
            arrivals.append(time.perf_counter() - started)
            data += chunk
    return answer, data, arrivals


def test_replay_answers_byte_identical_bodies(recorded) -> None:
    replay = Replay.load(recorded["dir"], timing=0.0)
    with served(mock_with(replay, strict=False)) as mock, httpx.Client(base_url=mock.url, headers={"Authorization": "Bearer sk-another"}) as client:
        got = {
            "chat": client.post("/v1/chat/completions", json=CHAT),
            "stream": client.post("/v1/chat/completions", json=STREAM),
            "speech": client.post("/v1/audio/speech", json=SPEECH),
            "error": client.get("/v1/models/broken-model"),
        }
    for name, answer in got.items():
        assert answer.content == recorded["received"][name], name
        assert answer.headers["x-gptnb-replay"].endswith(".json")
    assert got["error"].status_code == 500 and got["speech"].headers["content-type"] == "audio/mpeg"
    assert got["stream"].headers["content-type"] == "text/event-stream"
    assert replay.misses == []


def test_replay_keeps_the_recorded_cadence(recorded) -> None:
    stream = next(c for c in load(recorded["dir"]) if c.request.get("body", {}).get("json", {}).get("stream"))
    moments = [c["at_ms"] / 1000 for c in stream.response["body"]["stream"]]
    recorded_offsets = [m - moments[0] for m in moments]
    assert len(moments) >= 3 and recorded_offsets[-1] >= 2 * STREAM_GAP  # paced events, however the load cut them
    for timing, scale in (("real", 1.0), ("x3", 1 / 3)):
        with served(mock_with(Replay.load(recorded["dir"], timing=parse_timing(timing)))) as mock, httpx.Client(base_url=mock.url, headers=AUTH) as client:
            _, data, arrivals = timed(client, "POST", "/v1/chat/completions", json=STREAM)
        assert data == recorded["received"]["stream"]
        offsets = [a - arrivals[0] for a in arrivals]
        for replayed, original in zip(offsets, recorded_offsets):
            # Each chunk is due at its recorded moment (scaled) after the first: never early, beyond a
            # little jitter of the first one's delivery; late by no more than a loaded machine's slack.
            assert original * scale - 0.03 <= replayed <= original * scale + 0.3, (timing, offsets, recorded_offsets)
    with served(mock_with(Replay.load(recorded["dir"], timing=0.0))) as mock, httpx.Client(base_url=mock.url, headers=AUTH) as client:
        _, _, arrivals = timed(client, "POST", "/v1/chat/completions", json=STREAM)
    assert arrivals[-1] - arrivals[0] < recorded_offsets[-1] / 2


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:])]


def test_a_recorded_task_plays_one_state_per_poll_on_the_step_clock(recorded) -> None:
    with served(mock_with(Replay.load(recorded["dir"], timing=0.0), clock="step")) as mock, httpx.Client(base_url=mock.url, headers={"mj-api-secret": "k"}) as client:
        assert client.post("/mj/submit/imagine", json={"prompt": "a lighthouse"}).json()["result"] == recorded["task"]
        seen = [client.get(f"/mj/task/{recorded['task']}/fetch").json()["status"] for _ in range(len(recorded["statuses"]) + 2)]
    assert seen == recorded["statuses"] + ["SUCCESS", "SUCCESS"]
    assert "QUEUED" in seen  # the upstream's own words, not the fake's


def test_a_recorded_task_follows_the_manual_clock(recorded) -> None:
    app = mock_with(Replay.load(recorded["dir"], timing=0.0), clock="manual")
    polls = [c for c in load(recorded["dir"]) if c.task and c.task["role"] == "poll" and c.task["id"] == recorded["task"]]
    submit = next(c for c in load(recorded["dir"]) if c.task == {"id": recorded["task"], "role": "submit", "lifecycle": "midjourney"})
    offsets = [p.started_at - submit.started_at for p in polls]
    with served(app) as mock, httpx.Client(base_url=mock.url, headers={"mj-api-secret": "k"}) as client:
        client.post("/mj/submit/imagine", json={"prompt": "a lighthouse"})
        fetch = f"/mj/task/{recorded['task']}/fetch"
        standing = [client.get(fetch).json()["status"] for _ in range(3)]
        run_sync(app.state.store.advance_clock(DEFAULT_NAMESPACE, offsets[2] + 0.01))
        later = client.get(fetch).json()["status"]
        run_sync(app.state.store.advance_clock(DEFAULT_NAMESPACE, offsets[-1]))
        last = client.get(fetch).json()["status"]
    assert standing == [recorded["statuses"][0]] * 3  # the clock stands still, so does the task
    assert later == recorded["statuses"][2] and last == "SUCCESS"


def test_matching_recordings_play_in_order_then_the_last_repeats(recorded) -> None:
    with served(mock_with(Replay.load(recorded["dir"], timing=0.0))) as mock, httpx.Client(base_url=mock.url, headers={"mj-api-secret": "k"}) as client:
        ids = [client.post("/mj/submit/imagine", json={"prompt": "a lighthouse"}).json()["result"] for _ in range(3)]
    assert ids == [recorded["task"], recorded["second"], recorded["second"]]


def test_timestamps_ids_and_key_order_do_not_stop_a_match(recorded) -> None:
    replay = Replay.load(recorded["dir"], timing=0.0)
    body = {"metadata": {"trace": str(uuid.uuid4())}, "request_id": "r-2", "messages": CHAT["messages"], "model": CHAT["model"]}
    with served(mock_with(replay)) as mock:
        answer = httpx.post(mock.url + "/v1/chat/completions", json=body, headers=AUTH)
    assert answer.content == recorded["received"]["ignored"] and replay.misses == []


def test_an_unmatched_request_gets_the_fake_and_a_near_miss_report(recorded) -> None:
    replay = Replay.load(recorded["dir"], timing=0.0)
    with served(mock_with(replay)) as mock:
        answer = httpx.post(mock.url + "/v1/chat/completions", json={**CHAT, "messages": [{"role": "user", "content": "Hello"}]}, headers=AUTH)
    assert answer.status_code == 200 and "x-gptnb-replay" not in answer.headers
    assert "Hello" in answer.json()["choices"][0]["message"]["content"]  # the contract-driven fake
    (miss,) = replay.misses
    assert str(miss).startswith("no recording answers POST /v1/chat/completions (openai.chat.completions); nearest 0001-openai.chat.completions.json differs at")
    assert "/body/messages/0/content: recorded 'Hi', sent 'Hello'" in str(miss)


def test_replay_strict_refuses_what_was_not_recorded(recorded) -> None:
    replay = Replay.load(recorded["dir"], timing=0.0, strict=True)
    with served(mock_with(replay)) as mock:
        answer = httpx.post(mock.url + "/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"}, headers=AUTH)
    assert answer.status_code == 404
    assert "gptnb-mock replay: no recording answers POST /v1/embeddings (openai.embeddings.create): none of that contract was recorded" in answer.json()["error"]["message"]


def test_strict_mode_judges_replayed_answers_as_the_proxy_did(recorded) -> None:
    app = mock_with(Replay.load(recorded["dir"], timing=0.0))
    with served(app) as mock:
        httpx.post(mock.url + "/v1/chat/completions", json=CHAT, headers=AUTH)
        httpx.post(mock.url + "/v1/chat/completions", json=STREAM, headers=AUTH).read()
    chat, stream = [c for c in load(recorded["dir"]) if c.contract == "openai.chat.completions"][:2]
    plain_entry, stream_entry = journal_of(app)
    assert plain_entry.violations == chat.data["verdict"]["violations"] and plain_entry.violations
    assert stream_entry.violations == stream.data["verdict"]["violations"] and stream_entry.violations


def test_a_reset_plays_from_the_start_again(recorded) -> None:
    with served(mock_with(Replay.load(recorded["dir"], timing=0.0))) as mock, httpx.Client(base_url=mock.url, headers={"mj-api-secret": "k"}) as client:
        first = client.post("/mj/submit/imagine", json={"prompt": "a lighthouse"}).json()["result"]
        httpx.post(mock.url + "/__mock/reset")
        again = client.post("/mj/submit/imagine", json={"prompt": "a lighthouse"}).json()["result"]
    assert first == again == recorded["task"]


def test_each_namespace_plays_the_recordings_from_the_start(recorded) -> None:
    app = mock_with(Replay.load(recorded["dir"], timing=0.0))

    def imagine(namespace: str) -> str:
        return httpx.post(f"{mock.url}/__mock/ns/{namespace}/mj/submit/imagine", json={"prompt": "a lighthouse"}, headers={"mj-api-secret": "k"}).json()["result"]

    with served(app) as mock:
        ids = [imagine("a"), imagine("b"), imagine("a"), imagine("b")]
        assert httpx.post(f"{mock.url}/__mock/reset", headers={"X-Mock-Namespace": "a"}).json() == {"reset": True}
        after_reset = [imagine("a"), imagine("b")]
    assert ids == [recorded["task"], recorded["task"], recorded["second"], recorded["second"]]
    assert after_reset == [recorded["task"], recorded["second"]]  # a's reset rewound a alone


def test_replicas_on_one_redis_play_one_sequence(recorded, redis_url) -> None:
    """How far the replay has got is in the store: what one replica played, the other does not play
    again, and a recorded task polled through both moves one recorded state per poll (step clock)."""
    replay = Replay.load(recorded["dir"], timing=0.0)
    headers = {"mj-api-secret": "k"}
    with served(mock_with(replay, clock="step", store_url=redis_url)) as a, served(mock_with(replay, clock="step", store_url=redis_url)) as b:
        submitted = [httpx.post(url + "/mj/submit/imagine", json={"prompt": "a lighthouse"}, headers=headers).json()["result"] for url in (a.url, b.url, a.url)]
        polls = len(recorded["statuses"]) + 1
        seen = [httpx.get(f"{(a.url, b.url)[i % 2]}/mj/task/{recorded['task']}/fetch", headers=headers).json()["status"] for i in range(polls)]
    assert submitted == [recorded["task"], recorded["second"], recorded["second"]]
    assert seen == recorded["statuses"] + ["SUCCESS"]


def test_serve_workers_read_the_recordings_and_share_the_replay(recorded, redis_url, tmp_path) -> None:
    flags = ("--replay", str(recorded["dir"]), "--replay-timing", "fast", "--clock", "step", "--store", redis_url, "--workers", "2")
    with running_server(tmp_path / "workers.log", *flags) as url:
        headers = {"mj-api-secret": "k"}
        # A connection each, so the requests spread over both workers.
        submitted = [httpx.post(url + "/mj/submit/imagine", json={"prompt": "a lighthouse"}, headers=headers).json()["result"] for _ in range(3)]
        seen = [httpx.get(f"{url}/mj/task/{recorded['task']}/fetch", headers=headers).json()["status"] for _ in range(len(recorded["statuses"]))]
        speech = httpx.post(url + "/v1/audio/speech", json=SPEECH, headers=AUTH)
    assert submitted == [recorded["task"], recorded["second"], recorded["second"]]
    assert seen == recorded["statuses"]
    assert speech.content == recorded["received"]["speech"] and speech.headers["x-gptnb-replay"].endswith(".json")


def test_the_normalising_rules() -> None:
    contract = default_registry()["kling.videos.text2video"]  # absent values "", null, 0, []; callback_url
    normaliser = Normaliser(ignored={"nickname"}, secret_query={"key"})
    recorded = normaliser.request(
        contract, "POST", "/kling/v1/videos/text2video", {"key": "<redacted>"},
        {"prompt": "a", "callback_url": "http://127.0.0.1:1/cb", "image": "", "timestamp": 1, "nickname": "x", "trace": str(uuid.uuid4())},
    )
    sent = normaliser.request(
        contract, "post", "/kling/v1/videos/text2video", {"key": "sk-real"},
        {"trace": str(uuid.uuid4()), "prompt": "a", "callback_url": "http://127.0.0.1:2/cb", "timestamp": 2, "nickname": "y"},
    )
    assert differences(recorded, sent) == []
    assert differences(recorded, {**sent, "body": {**sent["body"], "prompt": "b"}}) == ["/body/prompt: recorded 'a', sent 'b'"]


@pytest.mark.parametrize(("text", "factor"), [("real", 1.0), ("fast", 0.0), ("x4", 0.25), ("x0.5", 2.0)])
def test_replay_timings(text: str, factor: float) -> None:
    assert parse_timing(text) == factor


@pytest.mark.parametrize("text", ["slow", "x0", "x", "4x"])
def test_replay_timing_mistakes_are_named(text: str) -> None:
    with pytest.raises(ValueError, match="real, fast or xN"):
        parse_timing(text)


def test_gptnb_mock_serve_replays_from_the_command_line(recorded) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--replay", str(recorded["dir"]), "--replay-strict", "--replay-timing", "fast", "--log-level", "warning"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/__mock/health")
        replayed = httpx.post(url + "/v1/audio/speech", json=SPEECH, headers=AUTH)
        refused = httpx.post(url + "/v1/audio/speech", json={**SPEECH, "input": "something else"}, headers=AUTH)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert replayed.content == recorded["received"]["speech"]
    assert refused.status_code == 404 and "differs at /body/input" in refused.json()["error"]["message"]
    assert f"replaying {len(load(recorded['dir']))} recorded exchanges" in stderr
    assert "replay miss: no recording answers POST /v1/audio/speech" in stderr


def test_serve_names_a_directory_without_cassettes(tmp_path) -> None:
    result = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--replay", str(tmp_path / "nowhere")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "no such directory of cassettes" in result.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "0001-x.json").write_text("{}", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--replay", str(broken)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "0001-x.json: not a gptnb-mock cassette" in result.stderr


def test_a_cassette_written_by_hand_replays(tmp_path) -> None:
    """The format is small enough to write or edit by hand: JSON with a layout, text, or base64."""
    cassette = {
        "gptnb_cassette": 1,
        "contract": "openai.models.list",
        "request": {"method": "GET", "path": "/v1/models"},
        "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"json": {"object": "list", "data": []}, "layout": "spaced"}},
    }
    (tmp_path / "0001-models.json").write_text(json.dumps(cassette), encoding="utf-8")
    (loaded,) = load(tmp_path)
    assert body_bytes(loaded.response["body"]) == b'{"object": "list", "data": []}'
    with served(mock_with(Replay.load(tmp_path, timing=0.0))) as mock:
        assert httpx.get(mock.url + "/v1/models", headers=AUTH).content == b'{"object": "list", "data": []}'


def test_a_recorded_realtime_session_replays_frame_for_frame(tmp_path) -> None:
    async def turn(url: str) -> list[str]:
        received = []
        async with websockets.connect(url + "/v1/realtime?model=gpt-4o-realtime-preview", subprotocols=["realtime"], additional_headers={"Authorization": "Bearer k"}) as ws:
            received.append(await ws.recv())
            await ws.send(json.dumps({"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}}))
            await ws.send(json.dumps({"type": "response.create", "response": {"modalities": ["text"]}}))
            async for raw in ws:
                received.append(raw)
                if json.loads(raw)["type"] == "response.done":
                    return received
        return received

    with served(MockApp(Settings(seed=3))) as upstream, proxy_to(upstream.url, record=tmp_path) as (_, url):
        recorded = asyncio.run(turn(url.replace("http://", "ws://")))
    replay = Replay.load(tmp_path, timing=0.0)
    app = mock_with(replay)
    with served(app) as mock:
        replayed = asyncio.run(turn(mock.url.replace("http://", "ws://")))
    assert replayed == recorded and len(recorded) > 5  # the upstream's own ids and words, byte for byte
    (entry,) = journal_of(app)
    assert entry.status == 101 and entry.violations == [] and entry.response.startswith("replayed 0001-openai.realtime.session.json")
    assert replay.misses == []


def test_replay_strict_refuses_a_session_that_was_not_recorded(recorded) -> None:
    async def status(url: str) -> int:
        try:
            async with websockets.connect(url + "/v1/realtime?model=gpt-4o-realtime-preview", additional_headers={"Authorization": "Bearer k"}):
                return 101
        except websockets.InvalidStatus as exc:
            assert b"gptnb-mock replay: no recording answers GET /v1/realtime" in exc.response.body
            return exc.response.status_code

    with served(mock_with(Replay.load(recorded["dir"], timing=0.0, strict=True))) as mock:
        assert asyncio.run(status(mock.url.replace("http://", "ws://"))) == 404
