"""Embeddings: deterministic unit vectors of the model's size, as floats or base64 float32."""

from __future__ import annotations

import base64
import struct
from typing import TYPE_CHECKING, Any

from ... import text as texts
from ...conversation import Facts, reads
from ...errors import ApiError
from ...replies import JsonReply, Reply
from ...vectors import normalised, unit_vector
from .. import handles

if TYPE_CHECKING:
    from ...pipeline import Call

NATIVE_DIMENSIONS = {"text-embedding-ada-002": 1536, "text-embedding-3-small": 1536, "text-embedding-3-large": 3072}
SHORTENABLE = ("text-embedding-3-small", "text-embedding-3-large")


def _inputs(value: Any) -> list[str]:
    """Each input as a text to hash (token arrays keep their numbers, so they embed consistently)."""
    if isinstance(value, str):
        return [value]
    if value and all(isinstance(v, int) for v in value):
        return [" ".join(map(str, value))]
    return [v if isinstance(v, str) else " ".join(map(str, v)) for v in value]


def _token_count(value: Any) -> int:
    if isinstance(value, str):
        return texts.count_tokens(value)
    if value and all(isinstance(v, int) for v in value):
        return len(value)
    return sum(texts.count_tokens(v) if isinstance(v, str) else len(v) for v in value)


@reads("openai.embeddings.create", renders={"embedding"})
def embedding_facts(call: Call) -> Facts:
    # Several inputs read as one text, joined by spaces as aimock joins them.
    return Facts(model=call.body.get("model"), input_text=" ".join(_inputs(call.body.get("input") or "")))


@handles("openai.embeddings.create", stateless=True)
def embeddings(call: Call) -> Reply:
    body = call.body
    model = body["model"]
    native = NATIVE_DIMENSIONS.get(model, 1536)
    dimensions = body.get("dimensions")
    if dimensions is not None:
        if model not in SHORTENABLE:
            raise ApiError(400, "invalid_request", f"This model does not support specifying dimensions: {model}", param="dimensions")
        if dimensions > native:
            raise ApiError(400, "invalid_request", f"dimensions must be at most {native} for {model}", param="dimensions")
    inputs = _inputs(body["input"])
    if any(not text.strip() for text in inputs):
        raise ApiError(400, "invalid_request", "'$.input' is invalid: inputs must be non-empty", param="input", code="invalid_embedding_request")
    as_base64 = body.get("encoding_format") == "base64"
    canned = call.canned.embedding if call.canned is not None else None
    data = []
    for index, text in enumerate(inputs):
        if canned is not None:  # a steering rule's vector: one for every input, or one per input
            vector = list(canned[min(index, len(canned) - 1)])
        else:
            # Shortened embeddings are the native vector cut and re-normalised, as OpenAI documents.
            vector = normalised(unit_vector(text, model, native, call.state.settings.seed)[: dimensions or native])
        embedding: Any = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode() if as_base64 else vector
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = _token_count(body["input"])
    return JsonReply({"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
