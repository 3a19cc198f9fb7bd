"""Rerank in new-api's format: documents scored against the query, best first, ``top_n`` kept.

new-api answers every rerank channel (Jina, Cohere, Xinference, SiliconFlow …) in one shape, its
``dto.RerankResponse``: ``results`` of ``{index, relevance_score, document?}`` and ``usage``.
A document scores by the words it shares with the query, so tests can tell which one should win.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ... import text as texts
from ...ids import derived_int
from ...replies import JsonReply, Reply
from .. import handles

if TYPE_CHECKING:
    from ...pipeline import Call


def _words(value: str) -> set[str]:
    return set(re.findall(r"\w+", value.lower()))


def _text(document: Any) -> str:
    if isinstance(document, str):
        return document
    if isinstance(document, dict) and isinstance(document.get("text"), str):
        return document["text"]
    return json.dumps(document, ensure_ascii=False)


def _score(query: str, document: str, seed: int) -> float:
    asked = _words(query)
    shared = len(asked & _words(document)) / max(len(asked), 1)
    # A small, repeatable tiebreak keeps equal matches apart without reordering real ones.
    return round(0.05 + 0.9 * shared + (derived_int(seed, query, document) % 1000) / 100_000, 8)


@handles("openai.rerank")
def rerank(call: Call) -> Reply:
    body = call.body
    query, documents = body["query"], body["documents"]
    scored = sorted(
        ({"index": i, "relevance_score": _score(query, _text(d), call.seed)} for i, d in enumerate(documents)),
        key=lambda r: -r["relevance_score"],
    )
    top = scored[: body.get("top_n") or len(scored)]
    if body.get("return_documents"):
        for result in top:
            document = documents[result["index"]]
            result["document"] = {"text": document} if isinstance(document, str) else document
    tokens = texts.count_tokens(query) + sum(texts.count_tokens(_text(d)) for d in documents)
    return JsonReply({"results": top, "usage": {"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens}})
