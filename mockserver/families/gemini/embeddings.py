"""embedContent and batchEmbedContents: one vector per request, as Google's embedding models answer.

new-api decodes each request into dto.GeminiEmbeddingRequest (model, content, taskType, title,
outputDimensionality, camelCase only) and writes that struct to Google (QuantumNous/new-api
relay/gemini_handler.go GeminiEmbeddingHandler), then passes Google's answer on unchanged
(relay/channel/gemini/relay-gemini-native.go NativeGeminiEmbeddingHandler). So only the camelCase
fields are read here: a snake_case ``output_dimensionality`` never reaches Google through the relay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import text as texts
from ...conversation import Facts, reads
from ...errors import ApiError
from ...replies import JsonReply, Reply
from ...vectors import normalised, unit_vector
from .. import handles

if TYPE_CHECKING:
    from ...pipeline import Call

# Vector length when outputDimensionality is not given (https://ai.google.dev/gemini-api/docs/embeddings).
NATIVE_DIMENSIONS = {"gemini-embedding-001": 3072, "gemini-embedding-2": 3072, "text-embedding-004": 768, "embedding-001": 768}
# A shorter vector is the native one cut. gemini-embedding-001 hands the cut vector out as it is (its
# norm below 1, as Google documents: normalise dimensions other than 3072 yourself); gemini-embedding-2
# normalises it again. Both seen in real answers: simonw/llm-gemini tests/cassettes/test_gemini/test_embedding*.yaml.
RENORMALISED = frozenset({"gemini-embedding-2"})
# Only gemini-embedding-2 reports usage with its embeddings (the same cassettes).
REPORTS_USAGE = frozenset({"gemini-embedding-2"})


def _text(request: dict[str, Any], where: str) -> str:
    parts = request["content"].get("parts") or []
    text = " ".join(part["text"] for part in parts if isinstance(part, dict) and isinstance(part.get("text"), str) and part["text"])
    if not text:
        raise ApiError(400, "invalid_request", f"{where}.content: at least one text part with text is required", param=f"{where}.content")
    return text


def _embedding(request: dict[str, Any], model: str, seed: int, where: str) -> dict[str, Any]:
    native = NATIVE_DIMENSIONS.get(model, 768)
    size = request.get("outputDimensionality") or native
    if size > native:
        raise ApiError(400, "invalid_request", f"{where}.outputDimensionality must be at most {native} for {model}, got {size}", param=f"{where}.outputDimensionality")
    # The task type and title change a real model's vector for the same text, so they change this one too.
    key = "\n".join((_text(request, where), request.get("taskType", ""), request.get("title", "")))
    vector = unit_vector(key, model, native, seed)[:size]
    return {"values": normalised(vector) if model in RENORMALISED and size < native else vector}


def _usage(requests: list[dict[str, Any]], model: str) -> dict[str, Any]:
    tokens = sum(texts.count_tokens(_text(request, "request")) for request in requests)
    return {"usageMetadata": {"promptTokenCount": tokens, "promptTokenDetails": [{"modality": "TEXT", "tokenCount": tokens}]}} if model in REPORTS_USAGE else {}


def _vector(call: Call, request: dict[str, Any], index: int, where: str) -> dict[str, Any]:
    """The ``index``th embedding: a steering rule's vector (one for all, or one per request), else the model's."""
    canned = call.canned.embedding if call.canned is not None else None
    if canned is not None:
        _text(request, where)  # a request without text is refused either way
        return {"values": list(canned[min(index, len(canned) - 1)])}
    return _embedding(request, call.params["model"], call.state.settings.seed, where)


@reads("gemini.models.embed_content", "gemini.models.batch_embed_contents", renders={"embedding"})
def embedding_facts(call: Call) -> Facts:
    """The texts to embed, joined by spaces (as aimock joins several inputs)."""
    requests = call.body.get("requests") if "requests" in call.body else [call.body]
    found = [p["text"] for r in requests or [] if isinstance(r, dict) for p in (r.get("content") or {}).get("parts") or [] if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return Facts(model=call.params.get("model"), input_text=" ".join(found) or None)


@handles("gemini.models.embed_content")
def embed_content(call: Call) -> Reply:
    return JsonReply({"embedding": _vector(call, call.body, 0, "request"), **_usage([call.body], call.params["model"])})


@handles("gemini.models.batch_embed_contents")
def batch_embed_contents(call: Call) -> Reply:
    requests = call.body["requests"]
    embeddings = [_vector(call, request, index, f"requests[{index}]") for index, request in enumerate(requests)]
    return JsonReply({"embeddings": embeddings, **_usage(requests, call.params["model"])})
