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
from mockserver.responses import ResponseJudge
from pytest_plugin.strategies import documented_requests, sample_requests
from test_real_world import file_part

SPEC_FILE = Path(__file__).parent / "specs" / "openai-openapi.json"
BASE = "https://goapi.gptnb.ai"
AUTH = {"Authorization": "Bearer sk-spec"}
URI = "urn:openai-openapi"
REGISTRY = default_registry()
OPENAI_CONTRACTS = sorted(c.id for c in REGISTRY if c.family == "openai" and c.kind != "websocket")
GENERATED_PER_CONTRACT = 4

# new-api's own routes in the OpenAI family (and OpenAI's retired billing routes it still answers):
# OpenAI's document has no such path.
RELAY_ROUTES = {
    "openai.rerank", "openai.video.generations.create", "openai.video.generations.get",
    "openai.billing.subscription", "openai.billing.usage", "openai.billing.credits",
}  # fmt: skip
# Routes of OpenAI's document the relay never answers with OpenAI's body, only its own refusal (400
# without a model, 503 for a model without a channel, 501 api_not_implemented): nothing to judge by it.
RELAY_REFUSALS = {
    "openai.files.list", "openai.files.create", "openai.files.retrieve", "openai.files.delete", "openai.files.content",
    "openai.fine_tunes.list", "openai.fine_tunes.create", "openai.fine_tunes.retrieve", "openai.fine_tunes.cancel", "openai.fine_tunes.events",
    "openai.models.delete",
}  # fmt: skip
# OpenAI's path (without /v1) for every other OpenAI contract the mock serves over HTTP.
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
    "openai.images.edits": "/images/edits",
    "openai.images.variations": "/images/variations",
    "openai.moderations.create": "/moderations",
    "openai.responses.create": "/responses",
    "openai.responses.retrieve": "/responses/{response_id}",
    "openai.responses.delete": "/responses/{response_id}",
    "openai.responses.cancel": "/responses/{response_id}/cancel",
    "openai.responses.input_items": "/responses/{response_id}/input_items",
    "openai.responses.compact": "/responses/compact",
    "openai.videos.create": "/videos",
    "openai.videos.list": "/videos",
    "openai.videos.retrieve": "/videos/{video_id}",
    "openai.videos.delete": "/videos/{video_id}",
    "openai.videos.content": "/videos/{video_id}/content",
    "openai.videos.remix": "/videos/{video_id}/remix",
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


def _response_nulls(spec: dict[str, Any]) -> None:
    """Response objects carry "user": null, and usage null until they finish (the document's examples of
    POST /responses and of response.created show both); the schemas say a string and an object."""
    schemas = spec["components"]["schemas"]
    for properties, field in ((schemas["ModelResponseProperties"]["properties"], "user"), (schemas["Response"]["allOf"][2]["properties"], "usage")):
        properties[field] = {"anyOf": [properties[field], {"type": "null"}]}


def _relay_submitted_video(spec: dict[str, Any]) -> None:
    """Not the document's error but the relay's answer: POST /v1/videos and remix answer new-api's
    OpenAIVideo (QuantumNous/new-api dto/openai_video.go), which leaves completed_at, expires_at,
    remixed_from_video_id and error out while they are empty (omitempty) and has no prompt. Judged by
    VideoResource without those; GET /v1/videos/{id} answers OpenAI's full object and is judged whole."""
    video = copy.deepcopy(spec["components"]["schemas"]["VideoResource"])
    left_out = {"completed_at", "expires_at", "remixed_from_video_id", "error", "prompt"}
    video["required"] = [name for name in video["required"] if name not in left_out]
    spec["components"]["schemas"]["_RelaySubmittedVideo"] = video
    for path in ("/videos", "/videos/{video_id}/remix"):
        spec["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/_RelaySubmittedVideo"}


# The places where the document is known to be stricter than what OpenAI sends (shared/specs README and
# the document's own examples), and where the relay's answer knowingly differs, each applied here by name.
DOCUMENT_FIXES: list[Callable[[dict[str, Any]], None]] = [
    _embedding_may_be_base64,
    _completion_chunks,
    _realtime_nulls,
    _response_nulls,
    _relay_submitted_video,
]


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


OTTER = fixtures_dir() / "openai" / "otter.png"
Request = dict[str, Any] | Callable[[], dict[str, Any]]  # a callable first makes what the request needs


def json_request(path: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"method": "POST", "url": BASE + path, "json": body, "headers": AUTH}


def get(path: str, **params: Any) -> dict[str, Any]:
    return {"method": "GET", "url": BASE + path, "params": params, "headers": AUTH}


def upload(path: str, **form: Any) -> dict[str, Any]:
    return {"method": "POST", "url": BASE + path, "data": form, "files": {"file": ("tone.wav", TONE.read_bytes(), "audio/wav")}, "headers": AUTH}


def image_upload(path: str, **form: Any) -> dict[str, Any]:
    return {"method": "POST", "url": BASE + path, "data": form, "files": {"image": ("otter.png", OTTER.read_bytes(), "image/png")}, "headers": AUTH}


def stored_response(**extra: Any) -> str:
    created = httpx.post(BASE + "/v1/responses", json={"model": "gpt-4o-mini", "input": "Hello", **extra}, headers=AUTH)
    assert created.status_code == 200, created.text
    return created.json()["id"]


def finished_video() -> str:
    """A video task polled until it completes (the test runs under the step clock)."""
    video = httpx.post(BASE + "/v1/videos", json={"model": "sora-2", "prompt": "a cat at a piano"}, headers=AUTH).json()
    while video["status"] not in ("completed", "failed"):
        video = httpx.get(f"{BASE}/v1/videos/{video['id']}", headers=AUTH).json()
    assert video["status"] == "completed", video
    return video["id"]


FEATURES: dict[str, tuple[str, Request]] = {
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
    "models": ("openai.models.list", get("/v1/models")),
    "model": ("openai.models.retrieve", get("/v1/models/gpt-4o-mini")),
    "image-edit": ("openai.images.edits", image_upload("/v1/images/edits", model="gpt-image-1", prompt="add a hat", quality="low")),
    "image-edit-dall-e-2-b64": ("openai.images.edits", image_upload("/v1/images/edits", model="dall-e-2", prompt="a hat", response_format="b64_json", n="2")),
    "image-variation": ("openai.images.variations", image_upload("/v1/images/variations", model="dall-e-2", n="2", size="256x256")),
    "moderation": ("openai.moderations.create", json_request("/v1/moderations", {"model": "omni-moderation-latest", "input": ["I want to kill them.", "Hello"]})),
    "response": ("openai.responses.create", json_request("/v1/responses", {"model": "gpt-4o-mini", "instructions": "Be brief.", "input": "Hello"})),
    "response-tools": (
        "openai.responses.create",
        json_request("/v1/responses", {"model": "gpt-4o-mini", "input": "Weather in Paris?", "tools": [{"type": "function", **WEATHER["function"]}], "tool_choice": "required"}),
    ),
    "response-json-schema": (
        "openai.responses.create",
        json_request("/v1/responses", {"model": "gpt-4o-mini", "input": "Data", "text": {"format": {"type": "json_schema", "name": "x", "schema": SCHEMA, "strict": True}}}),
    ),
    "response-stream": ("openai.responses.create", json_request("/v1/responses", {"model": "gpt-4o-mini", "input": "Hello", "stream": True})),
    "response-stream-tools": (
        "openai.responses.create",
        json_request("/v1/responses", {"model": "gpt-4o-mini", "input": "Weather?", "stream": True, "tools": [{"type": "function", **WEATHER["function"]}], "tool_choice": "required"}),
    ),
    "response-retrieve": ("openai.responses.retrieve", lambda: get(f"/v1/responses/{stored_response()}")),
    "response-input-items": ("openai.responses.input_items", lambda: get(f"/v1/responses/{stored_response()}/input_items", limit=5)),
    "response-cancel": ("openai.responses.cancel", lambda: json_request(f"/v1/responses/{stored_response(background=True)}/cancel", {})),
    "response-compact": (
        "openai.responses.compact",
        json_request("/v1/responses/compact", {"model": "gpt-4o-mini", "input": [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi there"}, {"role": "user", "content": "Go on"}]}),
    ),
    "response-compact-chain": ("openai.responses.compact", lambda: json_request("/v1/responses/compact", {"model": "gpt-4o-mini", "previous_response_id": stored_response()})),
    "response-delete": ("openai.responses.delete", lambda: {"method": "DELETE", "url": f"{BASE}/v1/responses/{stored_response()}", "headers": AUTH}),
    "video": ("openai.videos.create", json_request("/v1/videos", {"model": "sora-2", "prompt": "a cat at a piano", "seconds": "8", "size": "1280x720"})),
    "videos": ("openai.videos.list", lambda: (finished_video(), get("/v1/videos", limit=10))[1]),
    "video-retrieve": ("openai.videos.retrieve", lambda: get(f"/v1/videos/{finished_video()}")),
    "video-content": ("openai.videos.content", lambda: get(f"/v1/videos/{finished_video()}/content")),
    "video-remix": ("openai.videos.remix", lambda: json_request(f"/v1/videos/{finished_video()}/remix", {"prompt": "now at night"})),
    "video-delete": ("openai.videos.delete", lambda: {"method": "DELETE", "url": f"{BASE}/v1/videos/{finished_video()}", "headers": AUTH}),
}


def documented() -> dict[str, tuple[str, Request]]:
    cases: dict[str, tuple[str, Request]] = {}
    for contract_id in sorted(SPEC_PATHS):
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
            if "files" in request:
                kwargs.update(data=request.get("form", {}), files={name: file_part(part) for name, part in request["files"].items()})
            else:
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
    assert set(OPENAI_CONTRACTS) == set(SPEC_PATHS) | RELAY_ROUTES | RELAY_REFUSALS
    assert {contract for contract, request in FEATURES.values()} == set(SPEC_PATHS)


@pytest.mark.gptnb(clock="step")
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_answer_satisfies_openai_s_document(case: str, gptnb: Any) -> None:
    contract_id, request = CASES[case]
    response = httpx.request(**(request() if callable(request) else request))
    if case not in FEATURES and 400 <= response.status_code < 500:
        return  # a documented or generated request for something this fresh mock does not hold, or that a rule no schema states refuses
    assert response.status_code == 200, response.text[:300]
    assert gptnb.calls.last.contract_id == contract_id
    if ResponseJudge(REGISTRY[contract_id], REGISTRY).is_error(200, response.headers.get("content-type", ""), _json(response)):
        assert case not in FEATURES, response.text[:300]
        return  # the relay's own answer with HTTP 200 (an unknown model): the contract, not OpenAI's document, describes it
    assert spec_violations(contract_id, response) == []


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


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
