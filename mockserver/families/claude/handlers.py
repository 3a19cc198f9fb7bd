"""HTTP in and out for /v1/messages (a Message, or its named event stream), /v1/messages/count_tokens,
and the model list new-api answers in Anthropic's shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ... import sse
from ... import text as texts
from ...catalogue import CREATED, catalogue
from ...conversation import TURN_KINDS, Facts, Turn, facts_of, reads
from ...errors import ApiError
from ...ids import random_alnum
from ...replies import JsonReply, Reply, StreamReply
from ...streaming import wants_stream
from .. import handles
from .models import Block, MessagePlan, canned_message, content_text, input_tokens, plan_message

if TYPE_CHECKING:
    from ...pipeline import Call

# Anthropic streams a thinking block's text in a few large deltas, not token by token.
THINKING_DELTAS = 4


def message(plan: MessagePlan, message_id: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": plan.model,
        "content": [block.content() for block in plan.blocks],
        "stop_reason": plan.stop_reason,
        "stop_sequence": plan.stop_sequence,
        "usage": plan.usage(),
    }


async def events(plan: MessagePlan, message_id: str) -> AsyncIterator[Any]:
    """The stream Anthropic sends for ``plan`` (https://docs.anthropic.com/en/docs/build-with-claude/streaming),
    each event named after its type."""
    started = {**message(plan, message_id), "content": [], "stop_reason": None, "stop_sequence": None}
    started["usage"] = {**plan.usage(), "output_tokens": 1}
    yield sse.named({"type": "message_start", "message": started}, "type")
    for index, block in enumerate(plan.blocks):
        yield sse.named({"type": "content_block_start", "index": index, "content_block": _opening(block)}, "type")
        if index == 0:
            yield sse.named({"type": "ping"}, "type")
        for delta in _deltas(block):
            yield sse.named({"type": "content_block_delta", "index": index, "delta": delta}, "type")
        yield sse.named({"type": "content_block_stop", "index": index}, "type")
    final = {"stop_reason": plan.stop_reason, "stop_sequence": plan.stop_sequence}
    yield sse.named({"type": "message_delta", "delta": final, "usage": {"output_tokens": plan.output_tokens}}, "type")
    yield sse.named({"type": "message_stop"}, "type")


def _opening(block: Block) -> dict[str, Any]:
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.tool_id, "name": block.name, "input": {}}
    if block.type == "thinking":
        return {"type": "thinking", "thinking": "", "signature": ""}
    return {"type": "text", "text": ""}


def _deltas(block: Block) -> list[dict[str, Any]]:
    if block.type == "tool_use":
        fragments = ["", *texts.in_pieces(block.arguments, 4)]
        return [{"type": "input_json_delta", "partial_json": fragment} for fragment in fragments]
    if block.type == "thinking":
        chunks = ["".join(tokens) for tokens in texts.in_pieces(block.pieces, THINKING_DELTAS)]
        return [*({"type": "thinking_delta", "thinking": chunk} for chunk in chunks), {"type": "signature_delta", "signature": block.signature}]
    return [{"type": "text_delta", "text": piece} for piece in block.pieces]


@reads("claude.messages.create", renders=TURN_KINDS)
def claude_facts(call: Call) -> Facts:
    """A Messages request as turns: tool results travel inside user messages, so each becomes a tool
    turn of its own, before the words of the message it came in."""
    body = call.body
    turns = [Turn("system", content_text(body["system"]))] if body.get("system") else []
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            turns += _turns(message)
    tools = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
    return facts_of(body.get("model"), turns, tools)


def _turns(message: dict[str, Any]) -> list[Turn]:
    content = message.get("content")
    role = "assistant" if message.get("role") == "assistant" else "user"
    if isinstance(content, str):
        return [Turn(role, content)]
    blocks = [b for b in content or [] if isinstance(b, dict)]
    results = [Turn("tool", content_text(b.get("content", "")), b.get("tool_use_id")) for b in blocks if b.get("type") == "tool_result"]
    words = [b["text"] for b in blocks if b.get("type") == "text" and isinstance(b.get("text"), str)]
    if results and not words and role == "user":
        return results
    return [*results, Turn(role, " ".join(words) if words else None)]


@handles("claude.messages.create")
def create_message(call: Call) -> Reply:
    canned = call.canned is not None and call.canned.rendered
    plan = canned_message(call.canned, call.body, call.seed) if canned else plan_message(call.body, call.seed)
    message_id = "msg_01" + random_alnum(22)
    if wants_stream(call):
        return StreamReply(events(plan, message_id))
    return JsonReply(message(plan, message_id))


@handles("claude.messages.count_tokens")
def count_tokens(call: Call) -> Reply:
    return JsonReply({"input_tokens": input_tokens(call.body)})


def _model_info(model: str) -> dict[str, Any]:
    created = datetime.fromtimestamp(CREATED, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"type": "model", "id": model, "display_name": model, "created_at": created}


@handles("claude.models.list")
def list_models(call: Call) -> Reply:
    models = [_model_info(model) for model in catalogue(call.state.registry)]
    return JsonReply({"data": models, "first_id": models[0]["id"] if models else None, "has_more": False, "last_id": models[-1]["id"] if models else None})


@handles("claude.models.retrieve")
def retrieve_model(call: Call) -> Reply:
    wanted = call.params["model"]
    if wanted not in catalogue(call.state.registry):
        raise ApiError(404, "model_not_found", f"The model '{wanted}' does not exist", param="model", code="model_not_found")
    return JsonReply(_model_info(wanted))
