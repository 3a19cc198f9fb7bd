"""Chat completions: plain replies, tool calls, structured output, logprobs, and their SSE streams.

A reply is decided once (``plan_choice``) as content tokens or tool calls plus a finish reason; the
non-stream body and the stream are two renderings of the same plan, so they always agree.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from ... import text as texts
from ...canned import Canned
from ...conversation import TURN_KINDS, Facts, Turn, facts_of, reads
from ...errors import ApiError
from ...ids import derived_alnum, derived_int, random_alnum
from ...prompted_json import schema_asked_for
from ...replies import JsonReply, Reply, StreamReply
from ...synth import UnsatisfiableSchema, instance, tool_arguments
from ...streaming import wants_stream
from .. import handles

if TYPE_CHECKING:
    from ...pipeline import Call


@dataclass
class ChoicePlan:
    tokens: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    function_call: dict[str, Any] | None = None
    finish_reason: str = "stop"
    seed: int = 0  # the content's seed: logprobs derive from it, so they repeat with the reply
    refusal: list[str] | None = None
    """The refusal's tokens, when the model refuses (then there is no content)."""

    @property
    def content(self) -> str | None:
        if self.refusal is not None:
            return None
        return "".join(self.tokens) if (self.tokens or not (self.tool_calls or self.function_call)) else None

    @property
    def completion_tokens(self) -> int:
        arguments = [c["function"]["arguments"] for c in self.tool_calls]
        if self.function_call:
            arguments.append(self.function_call["arguments"])
        return len(self.tokens) + len(self.refusal or ()) + sum(texts.count_tokens(a) for a in arguments)


PROMPT_ROLES = frozenset({"system", "developer", "user"})


def message_text(message: dict[str, Any]) -> str:
    """The text of a message, whatever form its content takes (string, parts, null)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def prompt_tokens(messages: list[dict[str, Any]], tools: list[Any] | None) -> int:
    # OpenAI's accounting: a few tokens of framing per message and for the reply's priming.
    count = 3 + sum(4 + texts.count_tokens(message_text(m)) for m in messages)
    if tools:
        count += texts.count_tokens(json.dumps(tools))
    return count


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return message_text(message)
    return ""


def _token_limit(body: dict[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        if isinstance(body.get(name), int):
            return body[name]
    return None


def _chosen_tool(body: dict[str, Any], question: str) -> dict[str, Any] | None:
    """Which function the mock 'model' calls, or None for a text answer."""
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") == "function"]
    choice = body.get("tool_choice")
    if not tools or choice == "none":
        return None
    if isinstance(choice, dict) and choice.get("type") == "function":
        wanted = choice.get("function", {}).get("name")
        named = next((t for t in tools if t["function"].get("name") == wanted), None)
        if named is None:
            raise ApiError(400, "invalid_request", f"Invalid value for 'tool_choice': no function named {wanted!r} in tools.", param="tool_choice")
        return named
    messages = body.get("messages") or []
    if choice != "required" and messages and messages[-1].get("role") == "tool":
        return None  # the tool already answered: now the model talks
    described = [f"{t['function'].get('name', '')} {t['function'].get('description', '')}" for t in tools]
    return tools[texts.closest(question, described)]


def _arguments(call: Call, parameters: Any, seed: int, hint: str) -> str:
    try:
        value = tool_arguments(parameters, seed=seed, hint=hint, optional=call.state.settings.optional_properties)
    except UnsatisfiableSchema as exc:
        raise ApiError(400, "invalid_request", f"Invalid schema for function parameters: {exc}", param="tools") from None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _structured_content(call: Call, question: str, seed: int) -> str | None:
    response_format = call.body.get("response_format") or {}
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    optional = call.state.settings.optional_properties
    if kind == "json_object":
        # JSON mode carries no schema: the messages say what they want (a schema, an example, key names).
        prompted = schema_asked_for(message_text(m) for m in call.body["messages"] if m.get("role") in PROMPT_ROLES)
        if prompted is not None:
            try:
                return json.dumps(instance(prompted, seed=seed, hint=question, optional=optional), ensure_ascii=False)
            except UnsatisfiableSchema:
                pass  # a schema-like text the mock cannot satisfy: answer as for any JSON-mode prompt
        return json.dumps(texts.json_answer(question, seed), ensure_ascii=False)
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {"type": "object"}
        try:
            return json.dumps(instance(schema, seed=seed, hint=question, optional=optional), ensure_ascii=False)
        except UnsatisfiableSchema as exc:
            raise ApiError(400, "invalid_request", f"Invalid schema for response_format: {exc}", param="response_format") from None
    return None


def canned_choice(turn: Canned, seed: int) -> ChoicePlan:
    """A steering rule's turn as a choice: exactly its words, tool calls or refusal."""
    calls = [
        {"id": c.id or "call_" + derived_alnum(24, seed, "call", i), "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for i, c in enumerate(turn.tool_calls)
    ]
    if turn.refusal is not None:
        return ChoicePlan(refusal=texts.tokenize(turn.refusal), seed=seed)
    return ChoicePlan(tokens=texts.tokenize(turn.content or ""), tool_calls=calls, finish_reason="tool_calls" if calls else "stop", seed=seed)


def plan_choice(call: Call, index: int, question: str, conversation: bytes) -> ChoicePlan:
    """One choice; ``conversation`` is the canonical encoding of the messages, which seeds it."""
    body = call.body
    model = body["model"]
    seed = derived_int(call.seed, model, conversation, index)
    if call.canned is not None and call.canned.rendered:
        return canned_choice(call.canned, seed)
    tool = _chosen_tool(body, question)
    if tool is not None:
        function = tool["function"]
        call_id = "call_" + derived_alnum(24, seed, "call")
        arguments = _arguments(call, function.get("parameters"), seed, question)
        return ChoicePlan(
            tool_calls=[{"id": call_id, "type": "function", "function": {"name": function["name"], "arguments": arguments}}],
            finish_reason="tool_calls",
        )
    functions = [f for f in body.get("functions") or [] if isinstance(f, dict)]
    if functions and body.get("function_call") != "none":
        wanted = body.get("function_call")
        function = next((f for f in functions if isinstance(wanted, dict) and f.get("name") == wanted.get("name")), functions[0])
        return ChoicePlan(
            function_call={"name": function["name"], "arguments": _arguments(call, function.get("parameters"), seed, question)},
            finish_reason="function_call",
        )
    content = _structured_content(call, question, seed) or _content_for(call, question, seed, index)
    stops = body.get("stop")
    reply = texts.generate(content, stops=[stops] if isinstance(stops, str) else list(stops or []), limit=_token_limit(body))
    return ChoicePlan(tokens=reply.tokens, finish_reason="length" if reply.hit_limit else "stop", seed=seed)


def _content_for(call: Call, question: str, seed: int, index: int) -> str:
    renderer = call.extras.get("content")
    if renderer is not None:
        return renderer(call, question, seed, index)
    messages = call.body.get("messages") or []
    if messages and messages[-1].get("role") == "tool":
        return texts.tool_result_reply(message_text(messages[-1]), seed)
    return texts.reply_text(question, call.body["model"], seed, variant=index)


def token_logprobs(tokens: list[str], seed: int) -> list[dict[str, Any]]:
    """``{token, logprob, bytes}`` per token, derived from the seed (so they repeat with the reply)."""
    return [
        {"token": token, "logprob": -round(((derived_int(seed, position) % 1000) / 1000) ** 2 * 2, 6), "bytes": list(token.encode())}
        for position, token in enumerate(tokens)
    ]


def _logprobs(tokens: list[str], top: int, seed: int) -> dict[str, Any]:
    items = []
    for item in token_logprobs(tokens, seed):
        token, logprob = item["token"], item["logprob"]
        alternatives = [
            {"token": token if k == 0 else f"{token.strip() or '_'}{k}", "logprob": logprob - k * 1.5, "bytes": list((token if k == 0 else f"{token.strip() or '_'}{k}").encode())}
            for k in range(top)
        ]
        items.append({**item, "top_logprobs": alternatives})
    return {"content": items, "refusal": None}


PLANS_KEPT = 1024


class Planned:
    """A request's choices and prompt tokens, and the parts of the body that follow from them alone
    (rendered on first use, then shared by every answer to the same request: only the id and the time
    are new). Nothing downstream changes a reply body in place; faults copy what they alter."""

    def __init__(self, plans: list[ChoicePlan], prompt_tokens: int) -> None:
        self.plans = plans
        self.prompt_tokens = prompt_tokens
        self._choices: dict[int | None, list[dict[str, Any]]] = {}
        self._usage: dict[str, Any] | None = None

    def choices(self, logprobs_top: int | None) -> list[dict[str, Any]]:
        found = self._choices.get(logprobs_top)
        if found is None:
            found = self._choices[logprobs_top] = [
                {
                    "index": index,
                    "message": _message(plan),
                    "logprobs": _logprobs(plan.tokens, logprobs_top, plan.seed) if logprobs_top is not None else None,
                    "finish_reason": plan.finish_reason,
                }
                for index, plan in enumerate(self.plans)
            ]
        return found

    def usage(self) -> dict[str, Any]:
        if self._usage is None:
            completion = sum(plan.completion_tokens for plan in self.plans)
            self._usage = {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": completion,
                "total_tokens": self.prompt_tokens + completion,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
            }
        return self._usage


_plans: dict[tuple[int, str, bytes], Planned] = {}


def _planned(call: Call) -> Planned:
    """The choices and prompt tokens of this request. They depend only on the body, the seed and the
    optional properties generated JSON fills (``generated_json``), so a request seen before (a load test,
    a test suite asking again) reuses them. Bodies whose reply carries the request's host, and canned
    replies, are planned afresh."""
    # The body as it came (not sorted): the plan does not depend on the order of its keys, and a client
    # that asks again sends them in the same order.
    key = (call.seed, call.state.settings.optional_properties, orjson.dumps(call.body))
    kept = "content" not in call.extras and call.canned is None
    found = _plans.get(key) if kept else None
    if found is not None:
        return found
    messages = call.body.get("messages") or []
    question = last_user_text(messages)
    conversation = orjson.dumps(messages, option=orjson.OPT_SORT_KEYS)
    found = Planned([plan_choice(call, i, question, conversation) for i in range(call.body.get("n") or 1)], prompt_tokens(messages, call.body.get("tools")))
    if kept:
        if len(_plans) >= PLANS_KEPT:
            _plans.pop(next(iter(_plans)), None)  # the oldest
        _plans[key] = found
    return found


def _message(plan: ChoicePlan) -> dict[str, Any]:
    refusal = "".join(plan.refusal) if plan.refusal is not None else None
    message: dict[str, Any] = {"role": "assistant", "content": plan.content, "refusal": refusal, "annotations": []}
    if plan.tool_calls:
        message["tool_calls"] = plan.tool_calls
    if plan.function_call:
        message["function_call"] = plan.function_call
    return message


@functools.cache
def fingerprint(model: str) -> str:
    """``system_fingerprint``: stable per model, as a deployment's is."""
    return "fp_" + derived_alnum(10, model).lower()


class ChatCompletion:
    """Everything about one chat request that the body and the stream share."""

    def __init__(self, call: Call) -> None:
        body = call.body
        self.call = call
        self.model = body["model"]
        self.planned = _planned(call)
        self.created = int(call.state.clock.now())
        self.id = "chatcmpl-" + random_alnum(29)
        self.fingerprint = fingerprint(self.model)
        top = body.get("top_logprobs") or 0
        self.logprobs_top = top if body.get("logprobs") else None

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": self.planned.choices(self.logprobs_top),
            "usage": self.planned.usage(),
            "service_tier": "default",
            "system_fingerprint": self.fingerprint,
        }

    def _chunk(self, choices: list[dict[str, Any]], with_usage: bool) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": self.fingerprint,
            "choices": choices,
        }
        if with_usage:
            chunk["usage"] = None
        return chunk

    async def chunks(self) -> AsyncIterator[dict[str, Any]]:
        options = self.call.body.get("stream_options") or {}
        with_usage = bool(options.get("include_usage"))
        for index, plan in enumerate(self.planned.plans):
            # The same items the body carries, one per content delta.
            items = _logprobs(plan.tokens, self.logprobs_top, plan.seed)["content"] if self.logprobs_top is not None else None
            first: dict[str, Any] = {"role": "assistant", "content": "" if plan.content is not None else None, "refusal": None}
            if plan.tool_calls or plan.function_call:
                first["content"] = None
            if plan.refusal is not None:
                first["refusal"] = ""
            yield self._chunk([{"index": index, "delta": first, "logprobs": None, "finish_reason": None}], with_usage)
            for token in plan.refusal or ():
                yield self._chunk([{"index": index, "delta": {"refusal": token}, "logprobs": None, "finish_reason": None}], with_usage)
            for position, token in enumerate(plan.tokens):
                logprobs = {"content": [items[position]], "refusal": None} if items is not None else None
                yield self._chunk([{"index": index, "delta": {"content": token}, "logprobs": logprobs, "finish_reason": None}], with_usage)
            for call_index, tool_call in enumerate(plan.tool_calls):
                for delta in _tool_call_fragments(call_index, tool_call):
                    yield self._chunk([{"index": index, "delta": {"tool_calls": [delta]}, "logprobs": None, "finish_reason": None}], with_usage)
            if plan.function_call:
                yield self._chunk([{"index": index, "delta": {"function_call": plan.function_call}, "logprobs": None, "finish_reason": None}], with_usage)
            yield self._chunk([{"index": index, "delta": {}, "logprobs": None, "finish_reason": plan.finish_reason}], with_usage)
        if with_usage:
            final = self._chunk([], False)
            final["usage"] = self.planned.usage()
            yield final


def _tool_call_fragments(index: int, tool_call: dict[str, Any]) -> list[dict[str, Any]]:
    arguments = tool_call["function"]["arguments"]
    first = {"index": index, "id": tool_call["id"], "type": "function", "function": {"name": tool_call["function"]["name"], "arguments": ""}}
    rest = [{"index": index, "function": {"arguments": piece}} for piece in texts.in_pieces(arguments, 4)]
    return [first, *rest]


@reads("openai.chat.completions", "openai.chat.gpts", "openai.chat.gpt4all_image", renders=TURN_KINDS)
def chat_facts(call: Call) -> Facts:
    body = call.body
    turns = [_turn(m) for m in body.get("messages") or [] if isinstance(m, dict)]
    tools = [t.get("function", {}).get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
    tools += [f.get("name") for f in body.get("functions") or [] if isinstance(f, dict)]
    return facts_of(body.get("model"), turns, tools)


def _turn(message: dict[str, Any]) -> Turn:
    role = {"developer": "system", "function": "tool"}.get(message.get("role", ""), message.get("role", ""))
    content = message.get("content")
    has_text = isinstance(content, str) or (isinstance(content, list) and any(isinstance(p, dict) and p.get("type") == "text" for p in content))
    call_id = message.get("tool_call_id")
    return Turn(role, message_text(message) if has_text else None, call_id if isinstance(call_id, str) else None)


@handles("openai.chat.completions", "openai.chat.gpts", stateless=True)
def chat_completions(call: Call) -> Reply:
    completion = ChatCompletion(call)
    if wants_stream(call):
        return StreamReply(completion.chunks(), terminator="[DONE]")
    return JsonReply(completion.body())
