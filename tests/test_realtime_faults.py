"""Faults and physics of a Realtime WebSocket session, seen by the openai SDK's Realtime client and by
a raw websockets client on the served mock."""

from __future__ import annotations

import asyncio
import json
import time

import openai
import pytest
import websockets

MODEL = "gpt-4o-realtime-preview"
TURN = {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}}


def sdk_turn(url: str, scenario: str) -> list[str]:
    """The SDK client runs one text turn; the event types it received, until the session ended."""
    client = openai.OpenAI(base_url=url + "/v1", websocket_base_url=url.replace("http://", "ws://") + "/v1", api_key="sk-test")
    seen: list[str] = []
    with client.beta.realtime.connect(model=MODEL, extra_headers={"X-Mock-Scenario": scenario}) as connection:
        connection.session.update(session={"modalities": ["text"]})
        connection.conversation.item.create(item=TURN["item"])
        connection.response.create()
        for event in connection:
            seen.append(event.type)
            if event.type == "response.done":
                break
    return seen


def raw_session(url: str, scenario: str, count: int) -> tuple[list, object]:
    """Raw server frames of a text turn (up to ``count``, or its response.done), and how the session
    ended (None: still open)."""

    async def run() -> tuple[list, object]:
        frames: list = []
        headers = {"Authorization": "Bearer sk-test", "OpenAI-Beta": "realtime=v1", "X-Mock-Scenario": scenario}
        async with websockets.connect(url.replace("http://", "ws://") + f"/v1/realtime?model={MODEL}", additional_headers=headers) as ws:
            await ws.send(json.dumps(TURN))
            await ws.send(json.dumps({"type": "response.create", "response": {"modalities": ["text"]}}))
            try:
                while len(frames) < count and '"response.done"' not in (frames[-1] if frames else ""):
                    frames.append(await asyncio.wait_for(ws.recv(), 5))
            except websockets.ConnectionClosed as closed:
                return frames, closed
        return frames, None

    return asyncio.run(run())


def test_drop_after_drops_the_socket_under_the_sdk(gptnb_server) -> None:
    with pytest.raises(websockets.ConnectionClosedError) as closed:
        sdk_turn(gptnb_server.url, "drop_after=4")
    assert closed.value.rcvd is None  # no close frame: the connection just ended (1006)
    assert gptnb_server.calls.last.fault == "drop_after=4"


def test_close_after_closes_with_the_code_asked_for(gptnb_server) -> None:
    frames, closed = raw_session(gptnb_server.url, "close_after=3:4008", 50)
    assert len(frames) == 3
    assert isinstance(closed, websockets.ConnectionClosed) and closed.rcvd is not None and closed.rcvd.code == 4008


def test_malformed_at_and_missing_usage_reach_the_client(gptnb_server) -> None:
    frames, _ = raw_session(gptnb_server.url, "malformed_at=1; missing_usage", 200)
    with pytest.raises(json.JSONDecodeError):
        json.loads(frames[1])
    events = [json.loads(frame) for i, frame in enumerate(frames) if i != 1]
    done = next(e for e in events if e["type"] == "response.done")
    assert done["response"]["usage"] is None and done["response"]["status"] == "completed"


def test_physics_pace_each_answer(gptnb_server) -> None:
    started = time.perf_counter()
    frames, _ = raw_session(gptnb_server.url, "ttft=300; tps=100", 200)
    took = time.perf_counter() - started
    kinds = [json.loads(f)["type"] for f in frames]
    assert "response.done" in kinds
    assert took >= 0.3 + (len(frames) - 2) / 100  # a first wait per burst, then the rate


def test_a_reset_refuses_the_session_and_http_faults_are_refused_by_name(gptnb_server) -> None:
    with pytest.raises((websockets.InvalidHandshake, ConnectionError, OSError)):
        raw_session(gptnb_server.url, "reset", 1)
    with pytest.raises(websockets.InvalidStatus) as refused:
        raw_session(gptnb_server.url, "no_done", 1)
    assert refused.value.response.status_code == 400 and b"no_done" in refused.value.response.body
    with pytest.raises(websockets.InvalidStatus) as injected:
        raw_session(gptnb_server.url, "code=503", 1)
    assert injected.value.response.status_code == 503
