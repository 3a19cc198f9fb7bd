"""What a mock Claude model answers: content blocks, why it stopped and the token counts, decided once.

The Message body and its event stream are two renderings of one ``MessagePlan``, so they always agree.
Text, token counts and tool arguments come from the shared synthesis (``mockserver.text``,
``mockserver.synth``) every format uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import orjson

from ... import text as texts
from ...canned import Canned
from ...errors import ApiError
from ...ids import derived_alnum, derived_int
from ...synth import UnsatisfiableSchema, instance, tool_arguments

# new-api fills a missing max_tokens from its Claude settings (relay/claude_handler.go).
DEFAULT_MAX_TOKENS = 8192
# A model named "<model>-thinking" gets extended thinking with 80% of max_tokens (at least 1280 in all)
# and reaches Anthropic without the suffix (relay/claude_handler.go).
THINKING_SUFFIX = "-thinking"
SUFFIX_MIN_MAX_TOKENS = 1280
SUFFIX_BUDGET_SHARE = 0.8


@dataclass
class Block:
    """One content block of the answer; ``pieces`` are the deltas a stream sends (tokens)."""

    type: str  # text | thinking | tool_use
    pieces: list[str] = field(default_factory=list)
    signature: str = ""
    tool_id: str = ""
    name: str = ""
    arguments: str = ""  # a tool_use block's input, as JSON text

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def output_tokens(self) -> int:
        return texts.count_tokens(self.arguments) if self.type == "tool_use" else len(self.pieces)

    def content(self) -> dict[str, Any]:
        if self.type == "tool_use":
            return {"type": "tool_use", "id": self.tool_id, "name": self.name, "input": json.loads(self.arguments)}
        if self.type == "thinking":
            return {"type": "thinking", "thinking": self.text, "signature": self.signature}
        return {"type": "text", "text": self.text}


@dataclass
class MessagePlan:
    model: str
    blocks: list[Block]
    stop_reason: str
    stop_sequence: str | None
    input_tokens: int

    @property
    def output_tokens(self) -> int:
        return sum(block.output_tokens for block in self.blocks)

    def usage(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": self.output_tokens,
            "service_tier": "standard",
        }


def content_text(content: Any) -> str:
    """The text of a message's content, whatever its form (a string, or blocks of any kind)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = []
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            parts.append(block.get("text", ""))
        elif kind == "thinking":
            parts.append(block.get("thinking", ""))
        elif kind == "tool_use":
            parts.append(json.dumps(block.get("input", {}), ensure_ascii=False))
        elif kind == "tool_result":
            parts.append(content_text(block.get("content", "")))
    return " ".join(p for p in parts if p)


def input_tokens(body: dict[str, Any]) -> int:
    """Input tokens of a request: a little framing per message, the system prompt and the tools."""
    count = 3 + sum(4 + texts.count_tokens(content_text(m.get("content"))) for m in body.get("messages") or [])
    count += texts.count_tokens(content_text(body.get("system")))
    if body.get("tools"):
        count += texts.count_tokens(json.dumps(body["tools"], ensure_ascii=False))
    return count


def served_model(model: str) -> str:
    return model.removesuffix(THINKING_SUFFIX)


def canned_message(turn: Canned, body: dict[str, Any], seed: int) -> MessagePlan:
    """A steering rule's turn as a Message: its text, its tool_use blocks, or its refusal (stop_reason refusal)."""
    blocks = []
    words = turn.refusal if turn.refusal is not None else turn.content
    if words is not None:
        blocks.append(Block("text", texts.tokenize(words)))
    for index, call in enumerate(turn.tool_calls):
        tool_id = call.id or "toolu_01" + derived_alnum(22, seed, "tool", index)
        blocks.append(Block("tool_use", tool_id=tool_id, name=call.name, arguments=call.arguments))
    stop_reason = "refusal" if turn.refusal is not None else "tool_use" if turn.tool_calls else "end_turn"
    return MessagePlan(served_model(body["model"]), blocks, stop_reason, None, input_tokens(body))


def plan_message(body: dict[str, Any], seed: int) -> MessagePlan:
    messages = body["messages"]
    model = served_model(body["model"])
    seed = derived_int(seed, model, orjson.dumps([body.get("system"), messages], option=orjson.OPT_SORT_KEYS))
    last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    results = _tool_results(last_user.get("content"))
    question = content_text(last_user.get("content"))
    max_tokens, budget, display = _limits(body)
    blocks: list[Block] = []
    if display is not None:
        thinking = "" if display == "omitted" else texts.reasoning(question, seed)
        blocks.append(Block("thinking", texts.tokenize(thinking)[:budget], signature=derived_alnum(96, seed, "signature")))
    tool = _chosen_tool(body, question, answered=bool(results))
    stop_reason, stop_sequence = "end_turn", None
    if tool is not None:
        if (body.get("tool_choice") or {}).get("type", "auto") == "auto":
            blocks.append(Block("text", texts.tokenize(f"I'll use the {tool['name']} tool for this.")))
        arguments = _arguments(tool.get("input_schema"), seed, question)
        blocks.append(Block("tool_use", tool_id="toolu_01" + derived_alnum(22, seed, "tool"), name=tool["name"], arguments=arguments))
        stop_reason = "tool_use"
    else:
        answer = _structured(body, question, seed)
        if answer is None:
            answer = texts.tool_result_reply(results, seed) if results else texts.reply_text(question, model, seed)
            answer, stop_sequence = texts.stop_at(answer, body.get("stop_sequences") or [])
            stop_reason = "stop_sequence" if stop_sequence is not None else "end_turn"
        blocks.append(Block("text", texts.tokenize(answer)))
    if sum(block.output_tokens for block in blocks) > max_tokens:
        blocks, stop_reason, stop_sequence = _cut(blocks, max_tokens), "max_tokens", None
    return MessagePlan(model, blocks, stop_reason, stop_sequence, input_tokens(body))


def _tool_results(content: Any) -> str:
    """The text of the tool_result blocks in a user turn (empty when it has none)."""
    if not isinstance(content, list):
        return ""
    return " ".join(content_text(b.get("content", "")) for b in content if isinstance(b, dict) and b.get("type") == "tool_result")


def _limits(body: dict[str, Any]) -> tuple[int, int, str | None]:
    """(max_tokens, thinking budget, thinking display or None when the model does not think)."""
    max_tokens = body.get("max_tokens") or DEFAULT_MAX_TOKENS
    thinking = body.get("thinking")
    if thinking is None and body["model"].endswith(THINKING_SUFFIX):
        max_tokens = max(max_tokens, SUFFIX_MIN_MAX_TOKENS)
        return max_tokens, int(max_tokens * SUFFIX_BUDGET_SHARE), "summarized"
    if thinking is None or thinking.get("type") == "disabled":
        return max_tokens, 0, None
    budget = thinking.get("budget_tokens", max_tokens)
    if thinking.get("type") == "enabled" and budget >= max_tokens:
        raise ApiError(400, "invalid_request", "`max_tokens` must be greater than `thinking.budget_tokens`", param="max_tokens")
    return max_tokens, budget, thinking.get("display") or "summarized"


def _chosen_tool(body: dict[str, Any], question: str, *, answered: bool) -> dict[str, Any] | None:
    """The custom tool the mock model calls, or None for a text answer."""
    tools = [t for t in body.get("tools") or [] if "input_schema" in t]
    choice = body.get("tool_choice") or {"type": "auto"}
    if not tools or choice["type"] == "none":
        return None
    if choice["type"] == "tool":
        named = next((t for t in tools if t["name"] == choice["name"]), None)
        if named is None:
            raise ApiError(400, "invalid_request", f"tool_choice: tool {choice['name']!r} is not among the tools", param="tool_choice")
        return named
    if choice["type"] == "auto" and answered:
        return None  # the tool has answered: now the model talks
    return tools[texts.closest(question, [f"{t['name']} {t.get('description', '')}" for t in tools])]


def _arguments(schema: Any, seed: int, question: str) -> str:
    try:
        return json.dumps(tool_arguments(schema, seed=seed, hint=question), ensure_ascii=False, separators=(",", ":"))
    except UnsatisfiableSchema as exc:
        raise ApiError(400, "invalid_request", f"tools: input_schema cannot be satisfied: {exc}", param="tools") from None


def _structured(body: dict[str, Any], question: str, seed: int) -> str | None:
    """JSON conforming to output_config.format's schema, when structured output is asked for."""
    output_format = (body.get("output_config") or {}).get("format")
    if not output_format:
        return None
    try:
        return json.dumps(instance(output_format["schema"], seed=seed, hint=question), ensure_ascii=False)
    except UnsatisfiableSchema as exc:
        raise ApiError(400, "invalid_request", f"output_config.format.schema cannot be satisfied: {exc}", param="output_config") from None


def _cut(blocks: list[Block], max_tokens: int) -> list[Block]:
    """The blocks that fit in ``max_tokens``: text and thinking are cut mid-way, a tool call is whole or gone."""
    kept, left = [], max_tokens
    for block in blocks:
        if block.output_tokens <= left:
            kept.append(block)
            left -= block.output_tokens
            continue
        if block.type != "tool_use" and left > 0:
            block.pieces = block.pieces[:left]
            kept.append(block)
        break
    return kept
