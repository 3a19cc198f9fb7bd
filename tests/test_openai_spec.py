"""The mock's OpenAI-format answers judged by OpenAI's own published OpenAPI document.

``tests/specs/openai-openapi.json`` is the part of openai/openai-openapi ``openapi.yaml`` the mock's
OpenAI endpoints answer (``tools/openai_spec.py`` cuts it). Every 2xx JSON body and every event of every
stream the mock sends for a broad set of requests — the features one by one, the documented examples,
the real-traffic corpus and requests generated from the contracts — must satisfy the document's schema
for that path, and every Realtime server event the document's event schemas. The contracts are the
relay's view; this is OpenAI's, and the mock answers both.

Where the document is known to differ from what OpenAI itself sends, the difference is applied below
by name and nowhere else (see ``DOCUMENT_FIXES``).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mockserver import sse
from mockserver.contracts import default_registry
from mockserver.resources import fixtures_dir
from pytest_plugin.strategies import documented_requests, sample_requests

SPEC_FILE = Path(__file__).parent / "specs" / "openai-openapi.json"
BASE = "https://goapi.gptnb.ai"
AUTH = {"Authorization": "Bearer sk-spec"}
URI = "urn:openai-openapi"
REGISTRY = default_registry()
OPENAI_CONTRACTS = sorted(c.id for c in REGISTRY if c.family == "openai" and c.kind != "websocket")
GENERATED_PER_CONTRACT = 4

# Contract path (OpenAI's, without /v1) for every OpenAI contract the mock serves over HTTP.
SPEC_PATHS = {
    "openai.chat.completions": "/chat/completions",
    "openai.chat.gpts": "/chat/completions",
    "openai.chat.gpt4all_image": "/chat/completions",
    "openai.completions.create": "/completions",
    "openai.embeddings.create": "/embeddings",
    "openai.images.generate": "/images/generations",
    "openai.audio.transcriptions": "/audio/transcriptions",
    "openai.audio.translations": "/audio/translations",
    "openai.audio.speech": "/audio/speech",
    "openai.models.list": "/models",
    "openai.models.retrieve": "/models/{model}",
}


# --- the document, as JSON Schema -----------------------------------------------------------------


def as_json_schema(node: Any) -> Any:
    """OpenAPI leftovers the document still carries, read as JSON Schema 2020-12 says them:
    ``nullable: true`` is a null branch, and its unions are written as ``oneOf`` where branches overlap
    (a text content part is also a valid "any object"), which OpenAI's own SDKs read as ``anyOf``."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: as_json_schema(value) for key, value in node.items() if key != "discriminator"}
    if "oneOf" in out:
        branches = out.pop("oneOf")
        out = {**out, "anyOf": branches} if "anyOf" not in out else {**out, "allOf": [*out.get("allOf", []), {"anyOf": branches}]}
    if out.pop("nullable", False):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _embedding_may_be_base64(spec: dict[str, Any]) -> None:
    """encoding_format=base64 returns each vector as a base64 string; the document only says numbers."""
    embedding = spec["components"]["schemas"]["Embedding"]["properties"]["embedding"]
    spec["components"]["schemas"]["Embedding"]["properties"]["embedding"] = {"anyOf": [embedding, {"type": "string"}]}


def _completion_chunks(spec: dict[str, Any]) -> None:
    """/completions streams have no stream schema: each chunk is a completion object whose choices
    carry finish_reason null until the last one (and logprobs may be left out)."""
    chunk = copy.deepcopy(spec["components"]["schemas"]["CreateCompletionResponse"])
    choice = chunk["properties"]["choices"]["items"]
    choice["properties"]["finish_reason"] = {"anyOf": [choice["properties"]["finish_reason"], {"type": "null"}]}
    choice["required"] = [name for name in choice["required"] if name != "logprobs"]
    spec["components"]["schemas"]["CreateCompletionStreamChunk"] = chunk
    spec["paths"]["/completions"]["post"]["responses"]["200"]["content"]["text/event-stream"] = {
        "schema": {"$ref": "#/components/schemas/CreateCompletionStreamChunk"}
    }


def _realtime_nulls(spec: dict[str, Any]) -> None:
    """The document's own examples of response.created (usage, status_details) and session.created
    (audio.input transcription and noise_reduction) carry null where its schemas say objects."""
    schemas = spec["components"]["schemas"]
    nullable = [
        *((schemas[name]["properties"], field) for name in ("RealtimeResponse", "RealtimeBetaResponse") for field in ("usage", "status_details")),
        *((schemas["RealtimeSessionCreateResponseGA"]["properties"]["audio"]["properties"]["input"]["properties"], field) for field in ("transcription", "noise_reduction")),
    ]
    for properties, field in nullable:
        properties[field] = {"anyOf": [properties[field], {"type": "null"}]}


# The places where the document is known to be stricter than what OpenAI sends (shared/specs README and
# the document's own examples), each fixed here by name.
DOCUMENT_FIXES: list[Callable[[dict[str, Any]], None]] = [_embedding_may_be_base64, _completion_chunks, _realtime_nulls]


def load_spec() -> dict[str, Any]:
    spec = as_json_schema(json.loads(SPEC_FILE.read_text(encoding="utf-8")))
    for fix in DOCUMENT_FIXES:
        fix(spec)
    return spec


SPEC = load_spec()
SPEC_REGISTRY = Registry().with_resource(URI, Resource.from_contents(SPEC, default_specification=DRAFT202012))


def pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def validator_for(ref: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{URI}#{ref}"}, registry=SPEC_REGISTRY)


def response_schema(path: str, method: str, status: int, media: str) -> Draft202012Validator | None:
    responses = SPEC["paths"][path][method.lower()]["responses"]
    entry = responses.get(str(status), {}).get("content", {}).get(media)
    if entry is None or "schema" not in entry or entry["schema"].get("format") == "binary":
        return None
    return validator_for("/" + pointer("paths", path, method.lower(), "responses", str(status), "content", media, "schema"))


def violations(checker: Draft202012Validator, instance: Any) -> list[str]:
    error = best_match(checker.iter_errors(instance))
    return [] if error is None else [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message[:300]}"]


# --- the requests ---------------------------------------------------------------------------------

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]},
    },
}
SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}, "score": {"type": "number"}}, "required": ["title", "score"], "additionalProperties": False}
USER = [{"role": "user", "content": "What's the weather like in Paris?"}]
CHAT = {"model": "gpt-4o-mini", "messages": USER}
TONE = fixtures_dir() / "media" / "tone.wav"


def json_request(path: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"method": "POST", "url": BASE + path, "json": body, "headers": AUTH}


def upload(path: str, **form: Any) -> dict[str, Any]:
    return {"method": "POST", "url": BASE + path, "data": form, "files": {"file": ("tone.wav", TONE.read_bytes(), "audio/wav")}, "headers": AUTH}


FEATURES: dict[str, tuple[str, dict[str, Any]]] = {
    "chat": ("openai.chat.completions", json_request("/v1/chat/completions", CHAT)),
    "chat-n3-logprobs": ("openai.chat.completions", json_request("/v1/chat/completions", {**CHAT, "n": 3, "logprobs": True, "top_logprobs": 2})),
    "chat-stop-length": ("openai.chat.completions", json_request("/v1/chat/completions", {**CHAT, "stop": ["weather"], "max_tokens": 3})),
    "chat-tools": ("openai.chat.completions", json_request("/v1/chat/completions", {**CHAT, "tools": [WEATHER], "tool_choice": "required"})),
    "chat-functions": ("openai.chat.completions", json_request("/v1/chat/completions", {**CHAT, "functions": [WEATHER["function"]], "function_call": "auto"})),
    "chat-json-object": ("openai.chat.completions", json_request("/v1/chat/completions", {**CHAT, "response_format": {"type": "json_object"}})),
    "chat-json-schema": (
        "openai.chat.completions",
        json_request("/v1/chat/completions", {**CHAT, "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA, "strict": True}}}),
    ),
    "chat-stream": ("openai.chat.completions", json_request("/v1/chat/completions", {**CHAT, "stream": True})),
    "chat-stream-usage-logprobs-n2": (
        "openai.chat.completions",
        json_request("/v1/chat/completions", {**CHAT, "stream": True, "stream_options": {"include_usage": True}, "logprobs": True, "n": 2}),
    ),
    "chat-stream-tools": ("openai.chat.completions", json_request("/v1/chat/completions", {**CHAT, "stream": True, "tools": [WEATHER], "tool_choice": "required"})),
    "chat-stream-functions": (
        "openai.chat.completions",
        json_request("/v1/chat/completions", {**CHAT, "stream": True, "functions": [WEATHER["function"]], "function_call": {"name": "get_weather"}}),
    ),
    "gpts": ("openai.chat.gpts", json_request("/v1/chat/completions", {**CHAT, "model": "gpt-4-gizmo-g-2fkFE8rbu"})),
    "gpts-stream": ("openai.chat.gpts", json_request("/v1/chat/completions", {**CHAT, "model": "gpt-4-gizmo-g-2fkFE8rbu", "stream": True})),
    "gpt-4-all": ("openai.chat.gpt4all_image", json_request("/v1/chat/completions", {**CHAT, "model": "gpt-4-all"})),
    "gpt-4-all-stream": ("openai.chat.gpt4all_image", json_request("/v1/chat/completions", {**CHAT, "model": "gpt-4-all", "stream": True})),
    "completions": ("openai.completions.create", json_request("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": ["a", "b"], "n": 2, "logprobs": 2, "echo": True})),
    "completions-stream": (
        "openai.completions.create",
        json_request("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "Say", "stream": True, "logprobs": 1, "stream_options": {"include_usage": True}}),
    ),
    "embeddings-float": ("openai.embeddings.create", json_request("/v1/embeddings", {"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 8})),
    "embeddings-base64": ("openai.embeddings.create", json_request("/v1/embeddings", {"model": "text-embedding-3-large", "input": "a", "encoding_format": "base64"})),
    "images-url": ("openai.images.generate", json_request("/v1/images/generations", {"model": "dall-e-3", "prompt": "a lighthouse"})),
    "images-b64": ("openai.images.generate", json_request("/v1/images/generations", {"model": "dall-e-2", "prompt": "a lighthouse", "n": 2, "response_format": "b64_json", "size": "256x256"})),
    "transcription-json": ("openai.audio.transcriptions", upload("/v1/audio/transcriptions", model="whisper-1")),
    "transcription-verbose": (
        "openai.audio.transcriptions",
        upload("/v1/audio/transcriptions", model="whisper-1", response_format="verbose_json", **{"timestamp_granularities[]": ["word", "segment"]}),
    ),
    "transcription-diarized": ("openai.audio.transcriptions", upload("/v1/audio/transcriptions", model="gpt-4o-transcribe-diarize", response_format="diarized_json")),
    "transcription-tokens-logprobs": ("openai.audio.transcriptions", upload("/v1/audio/transcriptions", model="gpt-4o-transcribe", **{"include[]": "logprobs"})),
    "transcription-stream": (
        "openai.audio.transcriptions",
        upload("/v1/audio/transcriptions", model="gpt-4o-mini-transcribe", stream="true", **{"include[]": "logprobs"}),
    ),
    "translation-json": ("openai.audio.translations", upload("/v1/audio/translations", model="whisper-1")),
    "translation-verbose": ("openai.audio.translations", upload("/v1/audio/translations", model="whisper-1", response_format="verbose_json")),
    "speech-stream": ("openai.audio.speech", json_request("/v1/audio/speech", {"model": "gpt-4o-mini-tts", "input": "Hello", "voice": "alloy", "stream_format": "sse"})),
    "models": ("openai.models.list", {"method": "GET", "url": BASE + "/v1/models", "headers": AUTH}),
    "model": ("openai.models.retrieve", {"method": "GET", "url": BASE + "/v1/models/gpt-4o-mini", "headers": AUTH}),
}


def documented() -> dict[str, tuple[str, dict[str, Any]]]:
    cases = {}
    for contract_id in OPENAI_CONTRACTS:
        for name, request, answer in documented_requests(contract_id, registry=REGISTRY):
            if answer.get("status", 200) < 300:  # documented refusals are the relay's envelope, not OpenAI's
                cases[f"{contract_id}[example {name}]"] = (contract_id, request.httpx_kwargs(BASE))
        for index, request in enumerate(sample_requests(contract_id, GENERATED_PER_CONTRACT, registry=REGISTRY)):
            cases[f"{contract_id}[generated {index}]"] = (contract_id, request.httpx_kwargs(BASE))
    for path in sorted((fixtures_dir() / "real_world" / "openai").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        request = data.get("request")
        if request and data["contract"] in SPEC_PATHS:
            kwargs = {"method": request["method"], "url": BASE + request["path"], "headers": AUTH, "params": request.get("query")}
            kwargs.update({"data": request["form"]} if "form" in request else {"json": request.get("body")})
            cases[f"real_world/{path.stem}"] = (data["contract"], kwargs)
    return cases


CASES = {**FEATURES, **documented()}


# --- the checks -----------------------------------------------------------------------------------


def spec_violations(contract_id: str, response: httpx.Response) -> list[str]:
    path = SPEC_PATHS[contract_id]
    method = REGISTRY[contract_id].method
    media = response.headers.get("content-type", "").split(";")[0].strip()
    checker = response_schema(path, method, response.status_code, media)
    if media == "text/event-stream":
        assert checker is not None, f"OpenAI's document has no event schema for {path}"
        found = []
        for index, event in enumerate(sse.parse(response.text)):
            if event.data != "[DONE]":
                found += [f"event {index}: {v}" for v in violations(checker, event.json())]
        return found
    if checker is None:
        return []  # audio bytes, or text/srt/vtt transcripts: the document declares no schema for them
    return violations(checker, response.json())


def test_every_openai_contract_is_checked() -> None:
    assert set(OPENAI_CONTRACTS) == set(SPEC_PATHS)
    assert {contract for contract, _ in CASES.values()} == set(SPEC_PATHS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_answer_satisfies_openai_s_document(case: str, gptnb: Any) -> None:
    contract_id, request = CASES[case]
    response = httpx.request(**request)
    if "generated" in case and 400 <= response.status_code < 500:
        return  # a generated request the fake refuses for a rule no schema states (dall-e-3 with n=2, …)
    assert response.status_code == 200, response.text[:300]
    assert gptnb.calls.last.contract_id == contract_id
    assert spec_violations(contract_id, response) == []


def test_the_document_judge_is_not_blind(gptnb: Any) -> None:
    """A chunk without choices, a reply whose message role is wrong and a list without data are caught."""
    stream = httpx.post(BASE + "/v1/chat/completions", json={**CHAT, "stream": True}, headers=AUTH)
    broken = stream.text.replace('"choices":', '"choice":', 1)
    assert spec_violations("openai.chat.completions", httpx.Response(200, text=broken, headers={"content-type": "text/event-stream"}))
    reply = httpx.post(BASE + "/v1/chat/completions", json=CHAT, headers=AUTH).json()
    reply["choices"][0]["message"]["role"] = "user"
    assert spec_violations("openai.chat.completions", httpx.Response(200, json=reply))
    assert spec_violations("openai.models.list", httpx.Response(200, json={"object": "list"}))


# --- Realtime ---------------------------------------------------------------------------------------
#
# The GA protocol is judged here. The document no longer describes the beta protocol (OpenAI-Beta:
# realtime=v1): its "RealtimeBeta" events carry the GA names and item shapes (response.output_text.delta,
# output_text content), so beta sessions are judged by the contract's own event schemas (test_realtime).

GA_EVENT = validator_for("/components/schemas/RealtimeServerEvent")
REALTIME_MODEL = "gpt-4o-realtime-preview"


async def realtime_session(url: str) -> list[dict[str, Any]]:
    """A session update, a text turn, an audio turn and a bad frame; every server event, in order."""
    headers = {"Authorization": "Bearer sk-spec"}
    events: list[dict[str, Any]] = []

    async def until(kind: str) -> None:
        while True:
            events.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            if events[-1]["type"] == kind:
                return

    async with websockets.connect(f"{url}/realtime?model={REALTIME_MODEL}", additional_headers=headers) as ws:
        await until("session.created")
        await ws.send(json.dumps({"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief."}}))
        await until("session.updated")
        item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Two plus two?"}]}
        await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
        await ws.send(json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}}))
        await until("response.done")
        await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(b"\x00\x01" * 2400).decode()}))
        await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
        await ws.send(json.dumps({"type": "response.create", "response": {"output_modalities": ["audio"]}}))
        await until("response.done")
        await ws.send(json.dumps({"type": "dance"}))
        await until("error")
    return events


def test_ga_realtime_server_events_satisfy_openai_s_document(gptnb_server: Any) -> None:
    events = asyncio.run(realtime_session(gptnb_server.url.replace("http://", "ws://") + "/v1"))
    assert {"session.created", "response.output_text.delta", "response.output_audio.delta", "error"} <= {e["type"] for e in events}
    assert [(e["type"], v) for e in events for v in violations(GA_EVENT, e)] == []
