"""aiohttp through the gptnb fixture: answered in-process, streamed as the app produces it, other hosts
untouched, and google-genai's async client (which prefers aiohttp) kept off the network."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest
from google import genai

from mockserver import media
from mockserver.app import MockApp
from mockserver.config import Settings
from mockserver.faults.physics import Physics
from pytest_plugin.bridge import ASGIBridge
from pytest_plugin.interception import Interceptor

BASE = "https://goapi.gptnb.ai"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello aiohttp"}]}

pytestmark = pytest.mark.anyio


async def test_a_json_answer_with_session_headers_and_the_journal(gptnb) -> None:
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer sk-test"}) as session:
        async with session.post(f"{BASE}/v1/chat/completions", json=CHAT) as response:
            assert response.status == 200 and response.headers["content-type"] == "application/json"
            reply = await response.json()
        async with session.get(f"{BASE}/v1/models", params={"limit": "2"}) as listed:
            assert listed.status == 200 and (await listed.json())["data"]
    assert "Hello aiohttp" in reply["choices"][0]["message"]["content"]
    assert [c.contract_id for c in gptnb.calls] == ["openai.chat.completions", "openai.models.list"]
    assert gptnb.calls[0].body == CHAT and gptnb.calls[1].query == {"limit": "2"}


async def test_errors_and_form_bodies_arrive_as_sent(gptnb) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{BASE}/v1/chat/completions", json=CHAT) as missing_key:
            assert missing_key.status == 401 and "error" in await missing_key.json()
        form = aiohttp.FormData({"model": "whisper-1"})
        form.add_field("file", media.sample("tone.wav"), filename="a.wav", content_type="audio/wav")
        async with session.post(f"{BASE}/v1/audio/transcriptions", data=form, headers={"Authorization": "Bearer k"}) as uploaded:
            assert uploaded.status == 200 and "a.wav" in (await uploaded.json())["text"]
    assert gptnb.calls.last.body["file"] == [{"filename": "a.wav", "content_type": "audio/wav", "size": len(media.sample("tone.wav"))}]


async def test_a_stream_arrives_event_by_event(gptnb) -> None:
    arrivals: list[float] = []
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer k"}) as session:
        async with session.post(f"{BASE}/v1/chat/completions", json={**CHAT, "stream": True}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            async for line in response.content:
                if line.startswith(b"data: "):
                    arrivals.append(time.monotonic())
                    data = line[len(b"data: ") :].strip()
    assert data == b"[DONE]" and len(arrivals) > 3


async def test_a_slow_stream_is_read_before_it_ends() -> None:
    app = MockApp(Settings(physics=Physics(tps=1000 / 30)))  # an event every 30 ms
    with ASGIBridge(app) as bridge, Interceptor(bridge, ["slow.example"]):
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer k"}) as session:
            async with session.post("https://slow.example/v1/chat/completions", json={**CHAT, "stream": True}) as response:
                first = await response.content.readline()
                started = time.monotonic()
                rest = await response.content.read()
    assert first.startswith(b"data: {") and json.loads(first[6:])["object"] == "chat.completion.chunk"
    assert time.monotonic() - started > 0.1 and rest.endswith(b"data: [DONE]\n\n")


async def test_other_hosts_go_to_the_network(gptnb, gptnb_server) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"{gptnb_server.url}/__mock/health") as response:
        assert response.status == 200 and (await response.json())["status"] == "ok"
    assert gptnb.calls == [] and gptnb_server.calls == []  # admin calls are not journalled


async def test_a_host_with_a_port_matches_that_port_only() -> None:
    with ASGIBridge(MockApp(Settings())) as bridge, Interceptor(bridge, ["api.example:8443"]):
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer k"}) as session:
            async with session.get("https://api.example:8443/v1/models") as response:
                assert response.status == 200
            with pytest.raises(aiohttp.ClientConnectorError):
                async with session.get("http://api.example:8080/v1/models", timeout=aiohttp.ClientTimeout(total=5)):
                    pass


async def test_google_genai_async_uses_aiohttp_and_stays_in_process(gptnb) -> None:
    sdk = genai.Client(api_key="sk-test", http_options={"base_url": BASE})
    assert sdk.aio._api_client._use_aiohttp()  # what makes this test about aiohttp
    whole = await sdk.aio.models.generate_content(model="gemini-2.0-flash", contents="Async over aiohttp")
    pieces = [c.text async for c in await sdk.aio.models.generate_content_stream(model="gemini-2.0-flash", contents="Async over aiohttp")]
    assert "Async over aiohttp" in whole.text and "".join(pieces) == whole.text
    assert [c.contract_id for c in gptnb.calls] == ["gemini.models.generate_content", "gemini.models.stream_generate_content"]
