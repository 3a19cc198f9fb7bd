"""Responses API items: the request's ``input`` as stored items, and the text a "model" reads from them.

A string input is one user message; an EasyInputMessage (no ``type``) becomes a ``message`` item; every
item gets an id when it has none, as OpenAI's ``input_items`` listing shows them. Text is read the same
way from input items and from a previous response's output, so a conversation chained with
``previous_response_id`` reads as one list of items.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from ... import text as texts
from ...conversation import TURN_KINDS, Facts, Turn, facts_of, reads

if TYPE_CHECKING:
    from ...pipeline import Call

# Item id prefixes as OpenAI writes them (resp_…, msg_…, fc_…, rs_…), each followed by 48 hex digits.
PREFIXES = {"message": "msg", "function_call": "fc", "function_call_output": "fco", "reasoning": "rs"}


def new_id(prefix: str) -> str:
    return f"{prefix}_{os.urandom(24).hex()}"


def input_items(value: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The request's ``input`` as items with ids, in order."""
    if isinstance(value, str):
        return [_message("user", [{"type": "input_text", "text": value}])]
    return [_item(entry) for entry in value]


def _item(entry: dict[str, Any]) -> dict[str, Any]:
    kind = entry.get("type", "message")
    if kind == "message":
        content = entry["content"]
        if isinstance(content, str):
            part = "output_text" if entry["role"] == "assistant" else "input_text"
            content = [{"type": part, "text": content, **({"annotations": []} if part == "output_text" else {})}]
        return {**_message(entry["role"], content), **({"id": entry["id"]} if entry.get("id") else {})}
    return {"id": entry.get("id") or new_id(PREFIXES.get(kind, "item")), **entry}


def _message(role: str, content: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": new_id("msg"), "type": "message", "role": role, "content": content, "status": "completed"}


def item_text(item: dict[str, Any]) -> str:
    """The words an item carries: message text parts, a call's arguments, a tool's output."""
    kind = item.get("type", "message")
    if kind == "message":
        content = item.get("content")
        if isinstance(content, str):
            return content
        return " ".join(part_text(p) for p in content or [] if isinstance(p, dict))
    if kind == "function_call":
        return f"{item.get('name', '')} {item.get('arguments', '')}"
    if kind == "function_call_output":
        output = item.get("output")
        return output if isinstance(output, str) else " ".join(part_text(p) for p in output or [] if isinstance(p, dict))
    return ""


def part_text(part: dict[str, Any]) -> str:
    value = part.get("text", part.get("refusal", ""))
    return value if isinstance(value, str) else ""


def last_user_text(items: list[dict[str, Any]]) -> str:
    for item in reversed(items):
        if item.get("type", "message") == "message" and item.get("role") == "user":
            return item_text(item)
    return ""


def input_tokens(items: list[dict[str, Any]], instructions: str | None, tools: list[Any] | None) -> int:
    """Usage's input_tokens: a few tokens of framing per item, as chat counts per message."""
    count = 3 + sum(4 + texts.count_tokens(item_text(i)) for i in items)
    if instructions:
        count += 4 + texts.count_tokens(instructions)
    if tools:
        count += texts.count_tokens(json.dumps(tools))
    return count


@reads("openai.responses.create", renders=TURN_KINDS)
def responses_facts(call: Call) -> Facts:
    """A Responses request's items as turns, ``instructions`` first as the system's."""
    body = call.body
    raw = body.get("input")
    items = [{"type": "message", "role": "user", "content": raw}] if isinstance(raw, str) else [i for i in raw or [] if isinstance(i, dict)]
    turns = [Turn("system", body["instructions"])] if isinstance(body.get("instructions"), str) else []
    turns += [_turn(item) for item in items]
    tools = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
    return facts_of(body.get("model"), turns, tools)


def _turn(item: dict[str, Any]) -> Turn:
    kind = item.get("type", "message")
    if kind == "function_call_output":
        call_id = item.get("call_id")
        return Turn("tool", item_text(item), call_id if isinstance(call_id, str) else None)
    if kind != "message":
        return Turn("assistant", None)  # a function call or reasoning: the model's
    content = item.get("content")
    has_text = isinstance(content, str) or any(isinstance(p, dict) and isinstance(p.get("text"), str) for p in content or [])
    role = "system" if item.get("role") == "developer" else item.get("role", "user")
    return Turn(role, item_text(item) if has_text else None)
