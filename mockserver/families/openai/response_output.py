"""One Responses API answer, decided once and rendered two ways: the response object and its event stream.

The plan (``ModelResponse``) reads the whole conversation (a ``previous_response_id`` chain plus this
request's items) and decides the output items: a reasoning item for reasoning models, then either a
function call or an assistant message whose text obeys ``text.format`` and ``max_output_tokens``. The
object and the stream are renderings of the same plan, so a streamed answer always ends with exactly
the object a non-streamed request returns.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import orjson

from ... import text as texts
from ...canned import Canned
from ...errors import ApiError
from ...ids import derived_alnum, derived_int
from ...replies import SseEvent
from ...synth import UnsatisfiableSchema, instance, tool_arguments
from .response_items import input_tokens, item_text, last_user_text, new_id

if TYPE_CHECKING:
    from ...pipeline import Call

# Models that think before answering: they emit a reasoning item and count reasoning tokens.
REASONING_MODEL = re.compile(r"^(o\d|gpt-5|codex)")
# Reasoning tokens spent per effort level (plus a little per conversation, so counts vary).
REASONING_TOKENS = {"none": 0, "minimal": 16, "low": 64, "medium": 192, "high": 448, "xhigh": 768}


def _unsupported(name: str) -> ApiError:
    return ApiError(400, "invalid_request", f"Unsupported parameter: '{name}' is not supported with this model.", param=name, code="unsupported_parameter")


class ModelResponse:
    """The plan of one answer: its output items, status and usage."""

    def __init__(self, call: Call, history: list[dict[str, Any]], items: list[dict[str, Any]]) -> None:
        body = call.body
        self.call = call
        self.body = body
        self.id = new_id("resp")
        self.model = body["model"]
        self.created = int(call.state.clock.now())
        self.items = items
        self.reasoning_tokens = 0
        conversation = history + items
        question = last_user_text(conversation)
        words = orjson.dumps([[i.get("type", "message"), item_text(i)] for i in conversation])
        seed = derived_int(call.seed, self.model, words, body.get("instructions"))
        self.tokens: list[str] = []
        self.incomplete = False
        self.input_tokens = input_tokens(conversation, body.get("instructions"), body.get("tools"))
        if call.canned is not None and call.canned.rendered:
            self.reasoning = None
            self.output = _canned_output(call.canned, seed)
            self.tokens = texts.tokenize(call.canned.content or call.canned.refusal or "")
            return
        self.reasoning = self._reasoning(question, seed)
        self.output: list[dict[str, Any]] = [self.reasoning] if self.reasoning else []
        limit = body.get("max_output_tokens")
        budget = None if limit is None else limit - self.reasoning_tokens
        self.incomplete = budget is not None and budget <= 0
        tool = _chosen_tool(body, conversation, question)
        if tool is not None:
            self.output.append(_function_call(tool, seed, question))
        elif not self.incomplete:
            content = _structured(body, question, seed) or _reply(conversation, question, self.model, seed)
            generated = texts.generate(content, limit=budget)
            self.tokens, self.incomplete = generated.tokens, generated.hit_limit
            status = "incomplete" if self.incomplete else "completed"
            part = {"type": "output_text", "annotations": [], "logprobs": [], "text": generated.text}
            self.output.append({"id": new_id("msg"), "type": "message", "status": status, "content": [part], "role": "assistant"})

    def _reasoning(self, question: str, seed: int) -> dict[str, Any] | None:
        requested = self.body.get("reasoning") or {}
        if not REASONING_MODEL.match(self.model):
            if requested.get("effort") is not None:
                raise _unsupported("reasoning.effort")
            return None
        for name in ("temperature", "top_p"):
            if self.body.get(name) is not None:
                raise _unsupported(name)
        effort = requested.get("effort") or "medium"
        self.reasoning_tokens = REASONING_TOKENS[effort] + (seed % 32 if effort != "none" else 0)
        if not self.reasoning_tokens:
            return None
        item: dict[str, Any] = {"id": new_id("rs"), "type": "reasoning", "summary": []}
        if requested.get("summary") or requested.get("generate_summary"):
            item["summary"] = [{"type": "summary_text", "text": f'**Working out the answer** The question is "{texts.excerpt(question, 80)}". {texts.filler(seed + 1, 16)}'}]
        if "reasoning.encrypted_content" in (self.body.get("include") or ()):
            item["encrypted_content"] = "gAAAAA" + base64.urlsafe_b64encode(derived_alnum(96, "reasoning", seed).encode()).decode()
        return item

    @property
    def status(self) -> str:
        return "incomplete" if self.incomplete else "completed"

    @property
    def output_tokens(self) -> int:
        calls = sum(texts.count_tokens(i["arguments"]) for i in self.output if i["type"] == "function_call")
        return self.reasoning_tokens + len(self.tokens) + calls

    def usage(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},  # both required by OpenAI's OpenAPI document (ResponseUsage)
            "output_tokens": self.output_tokens,
            "output_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
            "total_tokens": self.input_tokens + self.output_tokens,
        }

    def snapshot(self, status: str, **changes: Any) -> dict[str, Any]:
        """The response object at ``status``: while it runs, no output and no usage yet."""
        body = self.body
        requested = body.get("reasoning") or {}
        reasoning = {"effort": requested.get("effort") or "medium", "summary": requested.get("summary")} if REASONING_MODEL.match(self.model) else {"effort": None, "summary": None}
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created,
            "status": status,
            "background": bool(body.get("background")),
            "completed_at": None,
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": body.get("max_tool_calls"),
            "model": self.model,
            "output": [],
            "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
            "previous_response_id": body.get("previous_response_id"),
            "prompt_cache_key": body.get("prompt_cache_key"),
            "reasoning": reasoning,
            "safety_identifier": body.get("safety_identifier"),
            "service_tier": "default",
            "store": body.get("store") is not False,
            "temperature": body.get("temperature", 1.0) if reasoning["effort"] is None else 1.0,
            "text": {"format": (body.get("text") or {}).get("format") or {"type": "text"}, "verbosity": (body.get("text") or {}).get("verbosity") or "medium"},
            "tool_choice": body.get("tool_choice") or "auto",
            "tools": [_echo_tool(t) for t in body.get("tools") or []],
            "top_logprobs": body.get("top_logprobs") or 0,
            "top_p": body.get("top_p", 1.0) if reasoning["effort"] is None else 1.0,
            "truncation": body.get("truncation") or "disabled",
            "usage": None,
            "user": body.get("user"),
            "metadata": body.get("metadata") or {},
            **changes,
        }

    def finished(self, at: float | None = None) -> dict[str, Any]:
        """The response object once the answer is complete (or cut short by max_output_tokens)."""
        return self.snapshot(
            self.status,
            completed_at=int(at if at is not None else self.call.state.clock.now()) if not self.incomplete else None,
            incomplete_details={"reason": "max_output_tokens"} if self.incomplete else None,
            output=self.output,
            usage=self.usage(),
        )

    async def events(self) -> AsyncIterator[SseEvent]:
        """The typed event stream, ``sequence_number`` counting from 0, as OpenAI sends it.

        Delta events carry ``obfuscation`` padding (random characters that even out payload sizes)
        unless ``stream_options.include_obfuscation`` is false, as OpenAI's do by default.
        """
        obfuscate = ((self.body.get("stream_options") or {}).get("include_obfuscation")) is not False
        for number, event in enumerate(self._events()):
            event["sequence_number"] = number
            if obfuscate and "delta" in event:
                event["obfuscation"] = derived_alnum(16 - len(event["delta"]) % 16, self.id, number)
            yield SseEvent(event, event=event["type"])

    def _events(self) -> Iterator[dict[str, Any]]:
        background = bool(self.body.get("background"))
        yield {"type": "response.created", "response": self.snapshot("queued" if background else "in_progress")}
        if background:
            yield {"type": "response.queued", "response": self.snapshot("queued")}
        yield {"type": "response.in_progress", "response": self.snapshot("in_progress")}
        for index, item in enumerate(self.output):
            yield from _item_events(index, item, self.tokens)
        final = self.finished()
        yield {"type": "response.incomplete" if self.incomplete else "response.completed", "response": final}


def _item_events(index: int, item: dict[str, Any], tokens: list[str]) -> Iterator[dict[str, Any]]:
    kind = item["type"]
    where = {"item_id": item["id"], "output_index": index}
    if kind == "reasoning":
        yield {"type": "response.output_item.added", "output_index": index, "item": {**item, "summary": []}}
        for number, part in enumerate(item["summary"]):
            at = {**where, "summary_index": number}
            yield {"type": "response.reasoning_summary_part.added", **at, "part": {"type": "summary_text", "text": ""}}
            for delta in texts.in_pieces(part["text"], 4):
                yield {"type": "response.reasoning_summary_text.delta", **at, "delta": delta}
            yield {"type": "response.reasoning_summary_text.done", **at, "text": part["text"]}
            yield {"type": "response.reasoning_summary_part.done", **at, "part": part}
    elif kind == "function_call":
        yield {"type": "response.output_item.added", "output_index": index, "item": {**item, "arguments": "", "status": "in_progress"}}
        for delta in texts.in_pieces(item["arguments"], 4):
            yield {"type": "response.function_call_arguments.delta", **where, "delta": delta}
        yield {"type": "response.function_call_arguments.done", **where, "name": item["name"], "arguments": item["arguments"]}
    else:
        part = item["content"][0]
        at = {**where, "content_index": 0}
        yield {"type": "response.output_item.added", "output_index": index, "item": {**item, "status": "in_progress", "content": []}}
        if part["type"] == "refusal":
            yield {"type": "response.content_part.added", **at, "part": {**part, "refusal": ""}}
            for token in tokens:
                yield {"type": "response.refusal.delta", **at, "delta": token}
            yield {"type": "response.refusal.done", **at, "refusal": part["refusal"]}
        else:
            yield {"type": "response.content_part.added", **at, "part": {**part, "text": ""}}
            for token in tokens:
                yield {"type": "response.output_text.delta", **at, "delta": token, "logprobs": []}
            yield {"type": "response.output_text.done", **at, "text": part["text"], "logprobs": []}
        yield {"type": "response.content_part.done", **at, "part": part}
    yield {"type": "response.output_item.done", "output_index": index, "item": item}


def _echo_tool(tool: dict[str, Any]) -> dict[str, Any]:
    if tool.get("type") != "function":
        return tool
    # The Responses API makes function tools strict unless told otherwise.
    return {"description": None, "parameters": None, "strict": True, **tool}


def _chosen_tool(body: dict[str, Any], conversation: list[dict[str, Any]], question: str) -> dict[str, Any] | None:
    """Which function the mock "model" calls, or None for a message."""
    tools = [t for t in body.get("tools") or [] if t.get("type") == "function"]
    choice = body.get("tool_choice") or "auto"
    if isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "function":
            named = next((t for t in tools if t["name"] == choice["name"]), None)
            if named is None:
                raise ApiError(400, "invalid_request", f"Tool choice 'function' set to '{choice['name']}', but no function with that name was provided in 'tools'.", param="tool_choice")
            return named
        if kind != "allowed_tools":
            return None  # a built-in tool: the mock runs none of them
        allowed = {t.get("name") for t in choice.get("tools") or [] if isinstance(t, dict)}
        tools = [t for t in tools if t["name"] in allowed]
        choice = choice.get("mode") or "auto"
    if not tools or choice == "none":
        return None
    if choice != "required" and conversation and conversation[-1].get("type") == "function_call_output":
        return None  # the function already answered: now the model talks
    return tools[texts.closest(question, [f"{t['name']} {t.get('description') or ''}" for t in tools])]


def _canned_output(turn: Canned, seed: int) -> list[dict[str, Any]]:
    """A steering rule's turn as output items: its message (text or refusal), then its function calls."""
    output: list[dict[str, Any]] = []
    if turn.refusal is not None:
        part: dict[str, Any] = {"type": "refusal", "refusal": turn.refusal}
    elif turn.content is not None:
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": turn.content}
    else:
        part = {}
    if part:
        output.append({"id": new_id("msg"), "type": "message", "status": "completed", "content": [part], "role": "assistant"})
    for number, call in enumerate(turn.tool_calls):
        call_id = call.id or "call_" + derived_alnum(24, seed, "call", number)
        output.append({"id": new_id("fc"), "type": "function_call", "status": "completed", "arguments": call.arguments, "call_id": call_id, "name": call.name})
    return output


def _function_call(tool: dict[str, Any], seed: int, question: str) -> dict[str, Any]:
    try:
        arguments = tool_arguments(tool.get("parameters"), seed=seed, hint=question)
    except UnsatisfiableSchema as exc:
        raise ApiError(400, "invalid_request", f"Invalid schema for function '{tool['name']}': {exc}", param="tools") from None
    return {
        "id": new_id("fc"),
        "type": "function_call",
        "status": "completed",
        "arguments": json.dumps(arguments, ensure_ascii=False, separators=(",", ":")),
        "call_id": "call_" + derived_alnum(24, seed, "call"),
        "name": tool["name"],
    }


def _structured(body: dict[str, Any], question: str, seed: int) -> str | None:
    """The message text ``text.format`` asks for: JSON that fits its schema, or any JSON object."""
    fmt = (body.get("text") or {}).get("format") or {}
    if fmt.get("type") == "json_object":
        return json.dumps(texts.json_answer(question, seed), ensure_ascii=False)
    if fmt.get("type") == "json_schema":
        try:
            return json.dumps(instance(fmt["schema"], seed=seed, hint=question), ensure_ascii=False)
        except UnsatisfiableSchema as exc:
            raise ApiError(400, "invalid_request", f"Invalid schema for response_format '{fmt['name']}': {exc}", param="text.format.schema") from None
    return None


def _reply(conversation: list[dict[str, Any]], question: str, model: str, seed: int) -> str:
    if conversation and conversation[-1].get("type") == "function_call_output":
        return texts.tool_result_reply(item_text(conversation[-1]), seed)
    return texts.reply_text(question, model, seed)
