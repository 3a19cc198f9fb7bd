"""The Realtime API over WebSocket: the official SDK, raw clients, garbage, auth, cancel."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import subprocess
import sys
import time

import httpx
import openai
import pytest
import websockets

from mockserver.contracts import default_registry
from mockserver.responses import ResponseJudge

JUDGE = ResponseJudge(default_registry()["openai.realtime.session"], default_registry())
MODEL = "gpt-4o-realtime-preview"


def ws_base(http_url: str) -> str:
    return http_url.replace("http://", "ws://") + "/v1"


def sdk_text_turn(http_url: str) -> tuple[str, dict]:
    client = openai.OpenAI(base_url=http_url + "/v1", websocket_base_url=ws_base(http_url), api_key="sk-test")
    with client.beta.realtime.connect(model=MODEL) as connection:
        connection.session.update(session={"modalities": ["text"], "instructions": "Be brief."})
        connection.conversation.item.create(item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "What is two plus two?"}]})
        connection.response.create()
        deltas = []
        for event in connection:
            if event.type == "response.text.delta":
                deltas.append(event.delta)
            if event.type == "response.done":
                return "".join(deltas), event.response.model_dump()
    raise AssertionError("no response.done")


def test_the_sdk_realtime_client_runs_a_text_turn_on_the_live_server(gptnb_server) -> None:
    text, response = sdk_text_turn(gptnb_server.url)
    assert "What is two plus two?" in text
    assert response["status"] == "completed" and response["output"][0]["content"][0]["text"] == text
    usage = response["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    session = gptnb_server.calls.last
    assert session.contract_id == "openai.realtime.session" and session.status == 101


@pytest.fixture(scope="module")
def served():
    """`gptnb-mock serve` as a real process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--strict", "--log-level", "warning"], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/__mock/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def test_the_sdk_realtime_client_runs_a_text_turn_on_gptnb_mock_serve(served) -> None:
    text, response = sdk_text_turn(served)
    assert "two plus two" in text and response["status"] == "completed"
    assert httpx.get(served + "/__mock/journal").json()["calls"][-1]["violations"] == []


async def collect(ws, until: str) -> list[dict]:
    events = []
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), 10))
        events.append(event)
        if event["type"] == until:
            return events


def check_frames(events: list[dict]) -> None:
    for index, event in enumerate(events):
        assert JUDGE.frame_violations(101, event, index) == [], event


def test_garbage_gets_error_events_and_other_sessions_keep_working(gptnb_server) -> None:
    url = ws_base(gptnb_server.url) + f"/realtime?model={MODEL}"
    auth = {"Authorization": "Bearer sk-test", "OpenAI-Beta": "realtime=v1"}

    async def scenario() -> None:
        async with websockets.connect(url, additional_headers=auth) as noisy, websockets.connect(url, additional_headers=auth) as calm:
            await collect(noisy, "conversation.created")
            await collect(calm, "conversation.created")
            garbage = ["not json", "[1, 2]", json.dumps({"no": "type"}), json.dumps({"type": "dance"}), json.dumps({"type": "session.update", "session": {"voice": "robot"}}), json.dumps({"type": "input_audio_buffer.append", "audio": "@@@"})]
            for frame in garbage:
                await noisy.send(frame)
                error = json.loads(await asyncio.wait_for(noisy.recv(), 10))
                assert error["type"] == "error" and error["error"]["message"], frame
                check_frames([error])
            await noisy.send(b"\x00\x01binary")
            assert json.loads(await noisy.recv())["error"]["code"] == "invalid_frame"
            await calm.send(json.dumps({"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "still here?"}]}}))
            await calm.send(json.dumps({"type": "response.create"}))
            events = await collect(calm, "response.done")
            check_frames(events)
            assert events[-1]["response"]["status"] == "completed"
            await noisy.send(json.dumps({"type": "response.create", "response": {"modalities": ["text"]}}))
            assert (await collect(noisy, "response.done"))[-1]["response"]["status"] == "completed"

    asyncio.run(scenario())


def test_audio_turn_streams_real_pcm16_and_transcript_deltas_with_ga_names(gptnb_server) -> None:
    url = ws_base(gptnb_server.url) + f"/realtime?model={MODEL}"

    async def scenario() -> list[dict]:
        async with websockets.connect(url, additional_headers={"Authorization": "Bearer sk-test"}) as ws:
            await collect(ws, "session.created")
            await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
            assert (await collect(ws, "error"))[-1]["error"]["code"] == "input_audio_buffer_commit_empty"
            await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(b"\x00\x01" * 2400).decode()}))
            await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
            committed = await collect(ws, "conversation.item.done")
            assert committed[0]["type"] == "input_audio_buffer.committed"
            await ws.send(json.dumps({"type": "response.create", "response": {"modalities": ["audio", "text"]}}))
            return await collect(ws, "response.done")

    events = asyncio.run(scenario())
    check_frames(events)
    kinds = [e["type"] for e in events]
    assert "response.output_audio.delta" in kinds and "response.output_audio_transcript.delta" in kinds and "response.text.delta" not in kinds
    pcm = b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta")
    assert len(pcm) > 0 and len(pcm) % 2 == 0  # 16-bit samples
    transcript = "".join(e["delta"] for e in events if e["type"] == "response.output_audio_transcript.delta")
    assert transcript == next(e["transcript"] for e in events if e["type"] == "response.output_audio_transcript.done")


@pytest.mark.gptnb(physics={"tps": 50})
def test_response_cancel_ends_with_a_cancelled_response(gptnb_server) -> None:
    url = ws_base(gptnb_server.url) + f"/realtime?model={MODEL}"

    async def scenario() -> list[dict]:
        async with websockets.connect(url, additional_headers={"Authorization": "Bearer sk-test", "OpenAI-Beta": "realtime=v1"}) as ws:
            await collect(ws, "conversation.created")
            await ws.send(json.dumps({"type": "response.cancel"}))
            assert (await collect(ws, "error"))[-1]["error"]["code"] == "response_cancel_not_active"
            await ws.send(json.dumps({"type": "response.create", "response": {"modalities": ["text"]}}))
            await collect(ws, "response.text.delta")
            await ws.send(json.dumps({"type": "response.cancel"}))
            return await collect(ws, "response.done")

    events = asyncio.run(scenario())
    assert events[-1]["response"]["status"] == "cancelled"


def test_auth_and_query_are_checked_before_the_upgrade(gptnb_server) -> None:
    base = ws_base(gptnb_server.url) + "/realtime"

    async def status_of(url: str, **kwargs) -> int:
        try:
            async with websockets.connect(url, **kwargs):
                return 101
        except websockets.InvalidStatus as refused:
            return refused.response.status_code

    assert asyncio.run(status_of(f"{base}?model={MODEL}")) == 401
    assert asyncio.run(status_of(f"{base}?model=gpt-9-voice", additional_headers={"Authorization": "Bearer k"})) == 503
    assert asyncio.run(status_of(base, additional_headers={"Authorization": "Bearer k"})) == 400
    assert asyncio.run(status_of(f"{base}?model={MODEL}", subprotocols=["realtime", "openai-insecure-api-key.sk-browser"])) == 101
    plain = httpx.get(f"{gptnb_server.url}/v1/realtime?model={MODEL}", headers={"Authorization": "Bearer k"})
    assert plain.status_code == 426 and "WebSocket" in plain.json()["error"]["message"]
