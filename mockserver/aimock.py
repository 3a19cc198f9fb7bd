"""aimock's fixture files (``{"fixtures": [{"match": {...}, "response": {...}}]}``) read as our rules.

aimock (@copilotkit/aimock) is the peer most teams' fixtures come from; each of its entries becomes
one rule here with the same meaning, so the files move over unchanged. Meanings follow aimock's own
loader and router: a string ``userMessage`` / ``inputText`` / ``systemMessage`` is a substring (a JSON
file cannot hold aimock's RegExp form); ``model: "gpt-4o"`` is that model or a dated release of it
(``gpt-4o-2024-08-06``); ``sequenceIndex`` counts the calls that meet the entry's other conditions;
an entry without ``endpoint`` answers chat and embedding requests (which of them, its response
decides); an error's status defaults to 500; ``streamingProfile`` paces the stream (ttft ms, tps, jitter).

An entry whose endpoint or response has no counterpart here (Realtime and GPT-Live sessions,
ElevenLabs, fal.ai, raw audio) is skipped with a note saying so; response fields that only shape the
envelope (``id``, ``usage``, ``finishReason`` …) and the delivery faults without a counterpart
(``disconnectAfterMs``, ``chaos`` …) are ignored with a note; ``truncateAfterChunks`` is ``drop_after``.
The README's "Canned replies from files" has the full table.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from . import conversation
from .contracts import ContractRegistry

# aimock endpoint -> our contracts, beyond "chat" and "embedding" (worked out from what renders).
ENDPOINT_CONTRACTS = {
    "image": ("openai.images.generate",),
    "speech": ("openai.audio.speech",),
    "transcription": ("openai.audio.transcriptions",),
    "translation": ("openai.audio.translations",),
    "video": ("openai.videos.create", "openai.video.generations.create"),
}
MATCH_FIELDS = {
    "userMessage": "user_message",
    "systemMessage": "system_message",
    "inputText": "input_text",
    "toolCallId": "tool_call_id",
    "toolResultContains": "tool_result",
    "toolName": "tool_name",
    "hasToolResult": "has_tool_result",
    "turnIndex": "turn_index",
    "sequenceIndex": "sequence_index",
}
ENVELOPE_FIELDS = ("id", "created", "model", "usage", "systemFingerprint", "finishReason", "role", "provider", "nativeFinishReason")
IGNORED_RESPONSE_FIELDS = ("reasoning", "reasoningSignature", "redactedThinking", "webSearches", "retryAfter", "fallthrough", "billableUnits")
IGNORED_ENTRY_FIELDS = ("chunkSize", "disconnectAfterMs", "chaos", "recordedTimings", "replaySpeed", "openRouterProcessing")
CONTEXT_HEADER = "x-aimock-context"


class AimockError(ValueError):
    """An entry aimock itself would refuse (malformed)."""


class NoCounterpart(Exception):
    """An entry for something gptnb-mock does not serve; it is skipped, with this reason."""


@dataclass
class Translated:
    rule: dict[str, Any]
    """Our rule's JSON form."""
    notes: list[str] = field(default_factory=list)
    """What was ignored, and why."""


def translate(entry: Any, registry: ContractRegistry) -> Translated:
    if not isinstance(entry, dict) or not isinstance(entry.get("match"), dict) or "response" not in entry:
        raise AimockError('an aimock fixture is {"match": {...}, "response": {...}}')
    notes: list[str] = []
    match = _match(entry["match"])
    endpoint = entry["match"].get("endpoint")
    reply = _response(entry["response"], endpoint, notes)
    rule: dict[str, Any] = {"contract": list(_contracts(endpoint, registry)), "reply": reply}
    if match:
        rule["match"] = match
    if "streamingProfile" in entry:
        rule["stream"] = entry["streamingProfile"]
    elif isinstance(entry.get("latency"), (int, float)) and entry["latency"] > 0:
        rule["stream"] = {"ttft": entry["latency"], "tps": 1000 / entry["latency"]}  # aimock waits latency ms before each chunk
    if "truncateAfterChunks" in entry:
        rule["drop_after"] = _chunks_before_the_cut(entry["truncateAfterChunks"])
    notes += [f"{name} has no counterpart yet and is ignored" for name in IGNORED_ENTRY_FIELDS if name in entry]
    return Translated(rule, notes)


def _chunks_before_the_cut(value: Any) -> int:
    """aimock's ``truncateAfterChunks``: it writes that many stream chunks, then aborts the response
    (its interruption signal), which is our ``drop_after``: N events, then the connection goes."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise AimockError("truncateAfterChunks must be a whole number >= 1 (as aimock's loader says)")
    return value


def _match(given: dict[str, Any]) -> dict[str, Any]:
    known = {*MATCH_FIELDS, "model", "endpoint", "context", "responseFormat"}
    unknown = set(given) - known
    if unknown:
        raise AimockError(f"unknown match fields {', '.join(sorted(unknown))} (aimock reads {', '.join(sorted(known))})")
    match: dict[str, Any] = {}
    for theirs, ours in MATCH_FIELDS.items():
        value = given.get(theirs)
        if value is None:
            continue
        if ours in ("user_message", "system_message", "input_text", "tool_result"):
            value = [_literal(v) for v in value] if isinstance(value, list) else _literal(value)
        elif ours in ("tool_name", "tool_call_id"):
            value = _exact(value)
        match[ours] = value
    model = given.get("model")
    if model is not None:
        if not isinstance(model, str):
            raise AimockError("match.model: expected a string")
        # aimock: the model itself, or a dated release of it ("gpt-4o" matches "gpt-4o-2024-08-06").
        match["model"] = f"/^{re.escape(model)}(-\\d.*)?$/"
    if given.get("context") is not None:
        match["header"] = {CONTEXT_HEADER: f"/^{re.escape(str(given['context']))}$/"}
    if given.get("responseFormat") is not None:
        match["body"] = {"$.response_format.type": {"equals": given["responseFormat"]}}
    return match


def _literal(value: Any) -> Any:
    """A substring that stays a substring here even when it looks like our /regex/ form."""
    if isinstance(value, str) and len(value) > 1 and value.startswith("/") and value.endswith("/"):
        return f"/{re.escape(value)}/"
    return value


def _exact(value: Any) -> Any:
    if isinstance(value, str) and any(ch in value for ch in "*?[/"):
        return f"/^{re.escape(value)}$/"
    return value


def _contracts(endpoint: Any, registry: ContractRegistry) -> tuple[str, ...]:
    chat = tuple(c.id for c in registry if "content" in conversation.renders(c.id))
    embedding = tuple(c.id for c in registry if "embedding" in conversation.renders(c.id))
    if endpoint is None:  # aimock's chat and embeddings handlers both read endpoint-less fixtures
        return chat + embedding
    if endpoint == "chat":
        return chat
    if endpoint == "embedding":
        return embedding
    if endpoint in ENDPOINT_CONTRACTS:
        return ENDPOINT_CONTRACTS[endpoint]
    raise NoCounterpart(f"endpoint {endpoint!r} has no counterpart in gptnb-mock")


def _response(response: Any, endpoint: Any, notes: list[str]) -> dict[str, Any]:
    if not isinstance(response, dict):
        raise AimockError("response: expected an object")
    notes += [f"response.{name} shapes aimock's envelope and is ignored (the mock fills it in)" for name in ENVELOPE_FIELDS if name in response]
    notes += [f"response.{name} has no counterpart and is ignored" for name in IGNORED_RESPONSE_FIELDS if name in response]
    if "live" in response:
        raise NoCounterpart("GPT-Live sessions have no counterpart in gptnb-mock")
    if "audio" in response:
        raise NoCounterpart("canned speech audio has no counterpart in gptnb-mock (the mock makes its own audio)")
    if "error" in response:
        error = response["error"]
        reply: dict[str, Any] = {"error": error, "status": response.get("status", 500)}
        return reply
    if "embedding" in response:
        return {"embedding": response["embedding"]}
    if "json" in response:
        return {"body": response["json"], **({"status": response["status"]} if "status" in response else {})}
    if "image" in response or "images" in response:
        return {"body": _images(response)}
    if "transcription" in response:
        return {"body": _transcription(response["transcription"])}
    if "video" in response:
        return _video(response["video"])
    turn: dict[str, Any] = {}
    if "blocks" in response:
        blocks = response["blocks"]
        if not isinstance(blocks, list):
            raise AimockError("response.blocks: expected a list")
        texts = [b.get("text", "") for b in blocks if isinstance(b, dict) and b.get("type") == "text"]
        calls = [{k: b[k] for k in ("name", "arguments", "id") if k in b} for b in blocks if isinstance(b, dict) and b.get("type") == "toolCall"]
        if texts:
            turn["content"] = "".join(texts)
        if calls:
            turn["tool_calls"] = calls
        notes.append("response.blocks: text and tool calls are answered in one turn, text first")
    if "content" in response and "content" not in turn:
        turn["content"] = response["content"]
    if "toolCalls" in response and "tool_calls" not in turn:
        turn["tool_calls"] = response["toolCalls"]
    if not turn:
        raise AimockError(f"response: no content, toolCalls, error, embedding or other reply aimock knows (endpoint {endpoint!r})")
    return turn


def _images(response: dict[str, Any]) -> dict[str, Any]:
    items = response.get("images") or [response.get("image")]
    data = []
    for item in items:
        if not isinstance(item, dict) or not (item.get("url") or item.get("b64Json")):
            raise AimockError("response.image: expected {url} or {b64Json}")
        entry = {"url": item["url"]} if item.get("url") else {"b64_json": item["b64Json"]}
        if item.get("revisedPrompt"):
            entry["revised_prompt"] = item["revisedPrompt"]
        data.append(entry)
    return {"created": int(time.time()), "data": data}


def _transcription(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        raise AimockError("response.transcription: expected an object with text")
    return {k: value[k] for k in ("text", "language", "duration", "words", "segments", "usage") if k in value}


def _video(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AimockError("response.video: expected an object")
    if value.get("status") == "failed":
        return {"task": {"fail": value.get("error") or "failed"}}
    if value.get("status") == "completed" and value.get("url"):
        return {"task": {"videos": [value["url"]]}}
    raise NoCounterpart("a video still processing has no counterpart: the mock's task runs its own plan on the clock")
