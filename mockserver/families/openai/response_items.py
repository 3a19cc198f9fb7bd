"""Responses API items: the request's ``input`` as stored items, and the text a "model" reads from them.

A string input is one user message; an EasyInputMessage (no ``type``) becomes a ``message`` item; every
item gets an id when it has none, as OpenAI's ``input_items`` listing shows them. Text is read the same
way from input items and from a previous response's output, so a conversation chained with
``previous_response_id`` reads as one list of items.
"""

from __future__ import annotations

import itertools
import json
import os
from typing import TYPE_CHECKING, Any

from ... import text as texts
from ...conversation import TURN_KINDS, Facts, joined, reads

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
    """What a Responses request says: its items read as a conversation, ``instructions`` as the system."""
    body = call.body
    raw = body.get("input")
    items = [{"type": "message", "role": "user", "content": raw}] if isinstance(raw, str) else [i for i in raw or [] if isinstance(i, dict)]
    messages = [i for i in items if i.get("type", "message") == "message"]
    user = next((i for i in reversed(messages) if i.get("role") == "user" and _has_text(i)), None)
    last_user = max((n for n, i in enumerate(items) if i.get("type", "message") == "message" and i.get("role") == "user"), default=-1)
    trailing = list(itertools.takewhile(lambda i: i.get("type") == "function_call_output", reversed(items)))[::-1]
    return Facts(
        model=body.get("model"),
        user_message=item_text(user) if user is not None else None,
        system_message=joined([body.get("instructions"), *(item_text(i) for i in messages if i.get("role") in ("system", "developer"))]),
        tool_names=tuple(t["name"] for t in body.get("tools") or [] if isinstance(t, dict) and isinstance(t.get("name"), str)),
        tool_call_ids=tuple(i["call_id"] for i in trailing if isinstance(i.get("call_id"), str)),
        tool_result=item_text(trailing[-1]) if trailing else None,
        has_tool_result=any(i.get("type") == "function_call_output" for i in items[last_user + 1 :]),
        assistant_turns=sum(1 for i in messages if i.get("role") == "assistant"),
    )


def _has_text(item: dict[str, Any]) -> bool:
    content = item.get("content")
    return isinstance(content, str) or any(isinstance(p, dict) and isinstance(p.get("text"), str) for p in content or [])
