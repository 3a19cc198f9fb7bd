"""Responses compaction: a conversation in, its user messages plus one opaque compaction item out.

OpenAI keeps every user message as it was and folds everything else (the model's messages, reasoning,
tool calls and their outputs) into a single ``compaction`` item whose ``encrypted_content`` the client
sends back as input. The mock's ``encrypted_content`` is not encrypted: it is the folded items' kinds
and words as base64 JSON, so a test can see what a compaction stands for.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import orjson

from ... import text as texts
from ...replies import JsonReply, Reply
from .. import handles
from . import response_store as stored
from .response_items import input_items, input_tokens, item_text, new_id

if TYPE_CHECKING:
    from ...pipeline import Call

# Fernet-style prefix, as OpenAI's encrypted items start; what follows is the mock's own encoding.
SEALED_PREFIX = "gAAAAA"


@handles("openai.responses.compact")
async def compact(call: Call) -> Reply:
    body = call.body
    raw = body.get("input")
    conversation = await stored.history(call, body.get("previous_response_id")) + (input_items(raw) if raw is not None else [])
    kept = [_user_message(item) for item in conversation if _is_user_message(item)]
    folded = [[item.get("type", "message"), item_text(item)] for item in conversation if not _is_user_message(item)]
    sealed = SEALED_PREFIX + base64.urlsafe_b64encode(orjson.dumps(folded)).decode()
    prompt = input_tokens(conversation, body.get("instructions"), body.get("tools"))
    written = 16 + sum(texts.count_tokens(text) for _, text in folded) // 8
    return JsonReply(
        {
            "id": new_id("resp"),
            "object": "response.compaction",
            "created_at": int(call.state.clock.now()),
            "output": [*kept, {"id": new_id("cmp"), "type": "compaction", "encrypted_content": sealed}],
            "usage": {
                "input_tokens": prompt,
                "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                "output_tokens": written,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": prompt + written,
            },
        }
    )


def _is_user_message(item: dict[str, Any]) -> bool:
    return item.get("type", "message") == "message" and item.get("role") == "user"


def _user_message(item: dict[str, Any]) -> dict[str, Any]:
    """A user message as compaction hands it back: completed, its text as ``input_text`` parts."""
    content = item.get("content")
    parts = [{"type": "input_text", "text": content}] if isinstance(content, str) else content
    return {"id": item.get("id") or new_id("msg"), "type": "message", "status": "completed", "role": "user", "content": parts}
