"""``gptnb-mock serve`` as a real process on a real port, driven by the official SDK, requests and the admin API."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import time
import wave
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
import requests
from google import genai
from PIL import Image

from processes import COMMAND, free_port, running_server

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello server"}]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Default settings plus --strict, so every answer is also checked against its contract."""
    with running_server(tmp_path_factory.mktemp("serve") / "server.log", "--strict") as url:
        yield url


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One key only, a clock that moves only when told, minimal generated JSON."""
    flags = ("--api-key", "sk-a", "--clock", "manual", "--generated-json", "minimal")
    with running_server(tmp_path_factory.mktemp("serve") / "locked.log", *flags) as url:
        yield url


@pytest.fixture
def base(server: str) -> Iterator[str]:
    """The main server, reset before the test; after it, no answer may have broken its contract."""
    assert requests.post(server + "/__mock/reset", timeout=10).status_code == 200
    yield server
    calls = journal(server)
    broken = [(c["method"], c["path"], c["violations"]) for c in calls if c["violations"]]
    assert not broken, f"the mock's answers broke their contracts: {broken}"


@pytest.fixture
def client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base + "/v1", api_key="sk-anything", max_retries=0)


def journal(url: str, **params: Any) -> list[dict[str, Any]]:
    reply = requests.get(url + "/__mock/journal", params=params, timeout=10)
    assert reply.status_code == 200
    return reply.json()["calls"]


def wav_bytes(seconds: float = 1.0, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


# --- the official openai SDK over a real socket -----------------------------------------------------------


def test_health(base: str) -> None:
    health = requests.get(base + "/__mock/health", timeout=10).json()
    assert health["status"] == "ok"
    listed = requests.get(base + "/__mock/contracts", timeout=10).json()["contracts"]
    assert health["contracts"] == len(listed)
    assert {"openai.chat.completions", "openai.embeddings.create", "openai.audio.speech"} <= {c["id"] for c in listed}
    assert health["strict"] is True


def test_chat(client: openai.OpenAI, base: str) -> None:
    reply = client.chat.completions.create(**CHAT)
    assert reply.object == "chat.completion"
    assert reply.choices[0].finish_reason == "stop" and reply.choices[0].message.content
    assert reply.usage is not None and reply.usage.total_tokens > 0
    [call] = journal(base)
    assert (call["method"], call["path"], call["contract"]) == ("POST", "/v1/chat/completions", "openai.chat.completions")
    assert call["status"] == 200
    assert call["body"] == CHAT


def test_chat_stream(client: openai.OpenAI) -> None:
    with client.chat.completions.create(**CHAT, stream=True, stream_options={"include_usage": True}) as stream:
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "hello server" in text
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].choices == []


def test_async_client(base: str) -> None:
    async def ask() -> str:
        async with openai.AsyncOpenAI(base_url=base + "/v1", api_key="sk-x", max_retries=0) as client:
            reply = await client.chat.completions.create(**CHAT)
            return reply.choices[0].message.content or ""

    assert asyncio.run(ask())


def test_embeddings_default_encoding(client: openai.OpenAI, base: str) -> None:
    vector = client.embeddings.create(model="text-embedding-3-small", input="hi").data[0].embedding
    assert len(vector) == 1536 and all(isinstance(x, float) for x in vector)
    # the SDK asks for base64 when not told otherwise, and decodes it; the mock answered in kind
    [call] = journal(base)
    assert call["body"]["encoding_format"] == "base64"
    assert isinstance(call["response"]["data"][0]["embedding"], str)
    floats = client.embeddings.create(model="text-embedding-3-small", input="hi", encoding_format="float").data[0].embedding
    assert floats == pytest.approx(vector, rel=1e-6)


def test_images_and_download_the_url(client: openai.OpenAI, base: str) -> None:
    image = client.images.generate(model="dall-e-3", prompt="a lighthouse at dusk", size="1024x1024").data[0]
    assert image.url and image.url.startswith(base + "/")
    download = requests.get(image.url, timeout=10)
    assert download.status_code == 200 and download.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(download.content)).size == (1024, 1024)


def test_speech(client: openai.OpenAI) -> None:
    mp3 = client.audio.speech.create(model="tts-1", voice="alloy", input="hello")
    assert mp3.response.headers["content-type"] == "audio/mpeg"
    assert mp3.content[:3] == b"ID3" or mp3.content[:2] == b"\xff\xfb"
    wav = client.audio.speech.create(model="tts-1", voice="alloy", input="hello", response_format="wav")
    assert wav.content[:4] == b"RIFF" and wav.content[8:12] == b"WAVE"


def test_transcription_upload(client: openai.OpenAI, base: str) -> None:
    upload = ("meeting.wav", wav_bytes(), "audio/wav")
    text = client.audio.transcriptions.create(model="whisper-1", file=upload)
    assert "meeting.wav" in text.text
    verbose = client.audio.transcriptions.create(model="whisper-1", file=upload, response_format="verbose_json")
    assert verbose.duration == pytest.approx(1.0, abs=0.1)
    call = journal(base)[-1]
    assert call["contract"] == "openai.audio.transcriptions"
    assert call["body"]["file"] == [{"filename": "meeting.wav", "content_type": "audio/wav", "size": len(upload[1])}]


def test_sdk_sees_relay_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "robot", "content": "x"}])  # type: ignore[misc,list-item]
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 503


# --- any HTTP client --------------------------------------------------------------------------------------


def test_anthropic_sdk_messages_stream_and_tools(base: str) -> None:
    claude = anthropic.Anthropic(base_url=base, api_key="sk-anything", max_retries=0)
    weather = {"name": "get_weather", "description": "Weather for a city", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    message = claude.messages.create(model="claude-sonnet-4-20250514", max_tokens=256, messages=[{"role": "user", "content": "hello server"}])
    assert "hello server" in message.content[0].text and message.stop_reason == "end_turn"
    with claude.messages.stream(model="claude-sonnet-4-20250514", max_tokens=256, tools=[weather], messages=[{"role": "user", "content": "Weather in Pune?"}]) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use" and isinstance(final.content[-1].input["city"], str)
    assert [c["contract"] for c in journal(base)] == ["claude.messages.create"] * 2


def test_google_genai_sdk_generate_stream_and_schema(base: str) -> None:
    gemini = genai.Client(api_key="sk-anything", http_options={"base_url": base})
    answer = gemini.models.generate_content(model="gemini-2.0-flash", contents="hello server")
    assert "hello server" in answer.text
    assert "".join(c.text for c in gemini.models.generate_content_stream(model="gemini-2.0-flash", contents="hello server")) == answer.text
    shaped = gemini.models.generate_content(
        model="gemini-2.5-flash", contents="A city", config={"response_mime_type": "application/json", "response_schema": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}}
    )
    assert isinstance(shaped.parsed["city"], str)
    assert [c["contract"] for c in journal(base)] == ["gemini.models.generate_content", "gemini.models.stream_generate_content", "gemini.models.generate_content"]


def test_requests(base: str) -> None:
    auth = {"Authorization": "Bearer sk-requests"}
    chat = requests.post(base + "/v1/chat/completions", json=CHAT, headers=auth, timeout=10)
    assert chat.status_code == 200 and chat.json()["choices"][0]["message"]["role"] == "assistant"
    assert chat.headers["x-oneapi-request-id"]
    models = requests.get(base + "/v1/models", headers=auth, timeout=10).json()
    assert {"gpt-4o-mini", "whisper-1"} <= {m["id"] for m in models["data"]}
    missing = requests.get(base + "/v1/no/such/path", headers=auth, timeout=10)
    assert missing.status_code == 404 and "error" in missing.json()
    no_key = requests.post(base + "/v1/chat/completions", json=CHAT, timeout=10)
    assert no_key.status_code == 401


def test_prefer_header_picks_an_error_without_setup(base: str) -> None:
    headers = {"Authorization": "Bearer sk-1", "Prefer": "code=429"}
    assert requests.post(base + "/v1/chat/completions", json=CHAT, headers=headers, timeout=10).status_code == 429
    assert requests.post(base + "/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer sk-1"}, timeout=10).status_code == 200


# --- the admin API ------------------------------------------------------------------------------------------


def test_journal_shows_the_calls(client: openai.OpenAI, base: str) -> None:
    client.chat.completions.create(**CHAT)
    client.models.list()
    client.embeddings.create(model="text-embedding-3-small", input="x")
    calls = journal(base)
    assert [c["contract"] for c in calls] == ["openai.chat.completions", "openai.models.list", "openai.embeddings.create"]
    assert [c["seq"] for c in calls] == sorted(c["seq"] for c in calls)
    assert all(c["status"] == 200 and c["duration_ms"] >= 0 for c in calls)
    assert [c["contract"] for c in journal(base, contract="openai.models.list")] == ["openai.models.list"]
    assert [c["contract"] for c in journal(base, limit=1)] == ["openai.embeddings.create"]


def test_rule_fails_the_next_call_then_recovers(client: openai.OpenAI, base: str) -> None:
    created = requests.post(base + "/__mock/rules", json={"contract": "openai.chat.completions", "status": 503, "times": 1}, timeout=10)
    assert created.status_code == 201
    rule = created.json()
    assert (rule["contract"], rule["reply"]["status"], rule["times"], rule["hits"]) == ("openai.chat.completions", 503, 1, 0)
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(**CHAT)
    assert caught.value.status_code == 503
    assert client.chat.completions.create(**CHAT).choices[0].message.content
    [listed] = requests.get(base + "/__mock/rules", timeout=10).json()["rules"]
    assert (listed["id"], listed["hits"]) == (rule["id"], 1)
    assert [c["status"] for c in journal(base)] == [503, 200]


def test_delete_rules(client: openai.OpenAI, base: str) -> None:
    first = requests.post(base + "/__mock/rules", json={"contract": "openai.models.list", "status": 500}, timeout=10).json()
    requests.post(base + "/__mock/rules", json={"contract": "openai.chat.*", "status": 429}, timeout=10)
    with pytest.raises(openai.InternalServerError):
        client.models.list()
    assert requests.delete(f"{base}/__mock/rules/{first['id']}", timeout=10).json() == {"deleted": first["id"]}
    assert requests.delete(f"{base}/__mock/rules/{first['id']}", timeout=10).status_code == 404
    assert list(client.models.list())
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(**CHAT)
    assert requests.delete(base + "/__mock/rules", timeout=10).status_code == 200
    assert requests.get(base + "/__mock/rules", timeout=10).json() == {"rules": []}
    assert client.chat.completions.create(**CHAT).choices[0].message.content


def test_a_malformed_rule_is_refused(base: str) -> None:
    for bad in ({"contract": "openai.chat.completions", "status": 999}, {"colour": "red"}, [1, 2]):
        reply = requests.post(base + "/__mock/rules", json=bad, timeout=10)
        assert reply.status_code == 400 and reply.json()["error"]["type"] == "mock_admin_error"
    assert requests.get(base + "/__mock/rules", timeout=10).json() == {"rules": []}


def test_reset_empties_the_journal_and_the_rules(client: openai.OpenAI, base: str) -> None:
    client.models.list()
    requests.post(base + "/__mock/rules", json={"contract": "*", "status": 500}, timeout=10)
    assert journal(base)
    assert requests.post(base + "/__mock/reset", timeout=10).json() == {"reset": True}
    assert journal(base) == []
    assert requests.get(base + "/__mock/rules", timeout=10).json() == {"rules": []}
    assert list(client.models.list())


def test_unknown_admin_route(base: str) -> None:
    reply = requests.get(base + "/__mock/nope", timeout=10)
    assert reply.status_code == 404 and reply.json()["error"]["type"] == "mock_admin_error"


# --- a configured server: --api-key, --clock manual, --generated-json minimal ----------------------------


def test_api_key_rejects_other_keys(locked_server: str) -> None:
    good = openai.OpenAI(base_url=locked_server + "/v1", api_key="sk-a", max_retries=0)
    assert good.chat.completions.create(**CHAT).choices[0].message.content
    wrong = openai.OpenAI(base_url=locked_server + "/v1", api_key="sk-b", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        wrong.chat.completions.create(**CHAT)
    assert caught.value.status_code == 401
    raw = requests.get(locked_server + "/v1/models", headers={"Authorization": "Bearer sk-b"}, timeout=10)
    assert raw.status_code == 401 and "error" in raw.json()
    # the admin API is the operator's: no key needed
    assert requests.get(locked_server + "/__mock/health", timeout=10).status_code == 200


def test_manual_clock(locked_server: str) -> None:
    clock = requests.get(locked_server + "/__mock/clock", timeout=10).json()
    assert clock["mode"] == "manual"
    time.sleep(0.2)
    assert requests.get(locked_server + "/__mock/clock", timeout=10).json()["now"] == clock["now"]
    moved = requests.post(locked_server + "/__mock/clock", json={"advance": 3600}, timeout=10).json()
    assert moved["now"] == pytest.approx(clock["now"] + 3600)
    reply = openai.OpenAI(base_url=locked_server + "/v1", api_key="sk-a", max_retries=0).chat.completions.create(**CHAT)
    assert reply.created == int(moved["now"])
    target = moved["now"] + 86400
    assert requests.post(locked_server + "/__mock/clock", json={"set": target}, timeout=10).json()["now"] == pytest.approx(target)
    backwards = requests.post(locked_server + "/__mock/clock", json={"set": clock["now"]}, timeout=10)
    assert backwards.status_code == 400
    assert requests.post(locked_server + "/__mock/clock", json={"tick": 1}, timeout=10).status_code == 400


def test_minimal_generated_json_leaves_optional_arguments_out(locked_server: str) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]},
        },
    }
    client = openai.OpenAI(base_url=locked_server + "/v1", api_key="sk-a", max_retries=0)
    for seed in range(4):
        reply = client.chat.completions.create(**CHAT, tools=[tool], tool_choice="required", seed=seed)
        assert json.loads(reply.choices[0].message.tool_calls[0].function.arguments).keys() == {"city"}


# --- start-up failures -----------------------------------------------------------------------------------


def test_bad_settings_exit_2_before_binding() -> None:
    command = [*COMMAND, "serve", "--port", str(free_port()), "--clock-speed", "0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "clock speed must be positive" in result.stderr
