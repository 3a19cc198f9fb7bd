"""What a mock Gemini model answers: per candidate its thought, text or function call, and why it
stopped, decided once so generateContent and streamGenerateContent agree.

Text, token counts and function arguments come from the shared synthesis (``mockserver.text``,
``mockserver.synth``) every format uses.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from ... import text as texts
from ...canned import Canned
from ...errors import ApiError
from ...ids import derived_int
from ...synth import UnsatisfiableSchema, instance, tool_arguments
from .schema import json_schema

JSON = "application/json"
ENUM = "text/x.enum"


def field_of(message: Any, name: str, default: Any = None) -> Any:
    """A field by its camelCase name or its snake_case one: Google's JSON parser takes both, and
    google-genai sends some of each (parameters_json_schema inside functionDeclarations)."""
    if not isinstance(message, dict):
        return default
    if name in message:
        return message[name]
    return message.get(re.sub("([A-Z])", r"_\1", name).lower(), default)


@dataclass
class CandidatePlan:
    thought: list[str] = field(default_factory=list)  # tokens of the thought part, when thoughts are asked for
    answer: list[str] = field(default_factory=list)  # tokens of the text part
    calls: list[dict[str, Any]] = field(default_factory=list)  # functionCall parts
    finish_reason: str = "STOP"

    @property
    def output_tokens(self) -> int:
        return len(self.answer) + sum(texts.count_tokens(json.dumps(call["args"])) for call in self.calls)

    def parts(self) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        if self.thought:
            parts.append({"text": "".join(self.thought), "thought": True})
        if self.answer or not (parts or self.calls):
            parts.append({"text": "".join(self.answer)})
        parts += [{"functionCall": call} for call in self.calls]
        return parts


@dataclass
class GenerationPlan:
    model: str
    candidates: list[CandidatePlan]
    prompt_tokens: int

    def usage(self) -> dict[str, Any]:
        answered = sum(c.output_tokens for c in self.candidates)
        thoughts = sum(len(c.thought) for c in self.candidates)
        usage: dict[str, Any] = {
            "promptTokenCount": self.prompt_tokens,
            "candidatesTokenCount": answered,
            "totalTokenCount": self.prompt_tokens + answered + thoughts,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": self.prompt_tokens}],
        }
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        return usage


def parts_text(content: Any) -> str:
    """The text of a turn: its text parts, and function calls and responses as JSON."""
    parts = content.get("parts") if isinstance(content, dict) else None
    found = []
    for part in parts or []:
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str):
            found.append(part["text"])
        for kind in ("functionCall", "functionResponse"):
            if isinstance(field_of(part, kind), dict):
                found.append(json.dumps(field_of(part, kind), ensure_ascii=False))
    return " ".join(found)


def prompt_tokens(body: dict[str, Any]) -> int:
    count = sum(texts.count_tokens(parts_text(content)) for content in body["contents"])
    count += texts.count_tokens(parts_text(field_of(body, "systemInstruction")))
    if body.get("tools"):
        count += texts.count_tokens(json.dumps(body["tools"], ensure_ascii=False))
    return count


def canned_generation(turn: Canned, body: dict[str, Any], model: str) -> GenerationPlan:
    """A steering rule's turn as every candidate: its text, its function calls, or its refusal (SAFETY)."""
    calls = [{"name": c.name, "args": json.loads(c.arguments), **({"id": c.id} if c.id else {})} for c in turn.tool_calls]
    words = turn.refusal if turn.refusal is not None else turn.content
    plan = CandidatePlan(answer=texts.tokenize(words or ""), calls=calls, finish_reason="SAFETY" if turn.refusal is not None else "STOP")
    count = field_of(field_of(body, "generationConfig") or {}, "candidateCount") or 1
    return GenerationPlan(model, [plan] * count, prompt_tokens(body))


def plan_generation(body: dict[str, Any], model: str, default_seed: int) -> GenerationPlan:
    config = field_of(body, "generationConfig") or {}
    contents = body["contents"]
    seed = config.get("seed") if isinstance(config.get("seed"), int) else default_seed
    conversation = orjson.dumps([field_of(body, "systemInstruction"), contents], option=orjson.OPT_SORT_KEYS)
    results = [field_of(p, "functionResponse") for p in contents[-1].get("parts") or [] if isinstance(field_of(p, "functionResponse"), dict)]
    question = next((parts_text(c) for c in reversed(contents) if c.get("role", "user") == "user" and not _only_responses(c)), "")
    candidates = []
    for index in range(field_of(config, "candidateCount") or 1):
        candidate_seed = derived_int(seed, model, conversation, index)
        candidates.append(_candidate(body, config, model, question, results, candidate_seed, index))
    return GenerationPlan(model, candidates, prompt_tokens(body))


def _only_responses(content: dict[str, Any]) -> bool:
    parts = [p for p in content.get("parts") or [] if isinstance(p, dict)]
    return bool(parts) and all(field_of(p, "functionResponse") is not None for p in parts)


def _candidate(body: dict[str, Any], config: dict[str, Any], model: str, question: str, results: list[Any], seed: int, index: int) -> CandidatePlan:
    plan = CandidatePlan()
    thinking = field_of(config, "thinkingConfig") or {}
    budget = field_of(thinking, "thinkingBudget", -1)
    if field_of(thinking, "includeThoughts") and budget != 0:
        thought = texts.tokenize(texts.reasoning(question, seed))
        plan.thought = thought[:budget] if budget > 0 else thought
    declaration = _chosen_function(body, question, answered=bool(results))
    if declaration is not None:
        plan.calls = [{"name": declaration["name"], "args": _arguments(declaration, seed, question)}]
        return plan
    answer = _formatted(config, question, seed)
    stops: list[str] = []
    if answer is None:
        answer = texts.tool_result_reply(json.dumps(results, ensure_ascii=False), seed) if results else texts.reply_text(question, model, seed, variant=index)
        stops = field_of(config, "stopSequences") or []
    generated = texts.generate(answer, stops=stops, limit=field_of(config, "maxOutputTokens"))
    plan.answer = generated.tokens
    if generated.hit_limit:
        plan.finish_reason = "MAX_TOKENS"  # a stop sequence ends the answer with STOP, as its natural end does
    return plan


def _chosen_function(body: dict[str, Any], question: str, *, answered: bool) -> dict[str, Any] | None:
    """The function declaration the mock model calls, or None for a text answer."""
    declarations = [d for tool in body.get("tools") or [] for d in field_of(tool, "functionDeclarations") or []]
    calling = field_of(field_of(body, "toolConfig"), "functionCallingConfig") or {}
    mode = calling.get("mode", "AUTO")
    allowed = field_of(calling, "allowedFunctionNames")
    if mode == "ANY" and allowed:
        declarations = [d for d in declarations if d["name"] in allowed]
        if not declarations:
            raise ApiError(400, "invalid_request", "allowedFunctionNames names no declared function", param="toolConfig")
    if not declarations or mode == "NONE" or (mode != "ANY" and answered):
        return None  # no functions, calls forbidden, or the function has answered and the model talks
    return declarations[texts.closest(question, [f"{d['name']} {d.get('description', '')}" for d in declarations])]


def _arguments(declaration: dict[str, Any], seed: int, question: str) -> dict[str, Any]:
    try:
        schema = _schema(declaration, "parametersJsonSchema", "parameters")
        # Google's parameters are an OBJECT whether or not they say so.
        args = tool_arguments({"type": "object", **schema} if isinstance(schema, dict) else None, seed=seed, hint=question)
        if not isinstance(args, dict):
            raise UnsatisfiableSchema("the arguments must be an object")
        return args
    except UnsatisfiableSchema as exc:
        raise ApiError(400, "invalid_request", f"function {declaration['name']}: parameters cannot be satisfied: {exc}", param="tools") from None


def _formatted(config: dict[str, Any], question: str, seed: int) -> str | None:
    """The answer in the asked responseMimeType (JSON or one enum value), or None for plain text."""
    mime = field_of(config, "responseMimeType")
    try:
        schema = _schema(config, "responseJsonSchema", "responseSchema")
        if schema is not None and mime not in (JSON, ENUM):
            raise ApiError(400, "invalid_request", f"responseSchema needs responseMimeType {JSON} or {ENUM}, not {mime!r}", param="generationConfig")
        if mime == JSON:
            value = instance(schema, seed=seed, hint=question) if schema is not None else texts.json_answer(question, seed)
            return json.dumps(value, ensure_ascii=False)
        if mime == ENUM:
            value = instance(schema, seed=seed, hint=question) if schema is not None else None
            if not isinstance(value, str):
                raise ApiError(400, "invalid_request", f"{ENUM} needs a responseSchema of type STRING with an enum", param="generationConfig")
            return value
    except UnsatisfiableSchema as exc:
        raise ApiError(400, "invalid_request", f"responseSchema cannot be satisfied: {exc}", param="generationConfig") from None
    return None


def _schema(message: dict[str, Any], json_name: str, google_name: str) -> Any:
    """The JSON Schema a message gives under ``json_name`` (as it is) or ``google_name`` (Google's
    Schema, converted), or None; ``UnsatisfiableSchema`` when what it gives is not a schema."""
    given = field_of(message, json_name)
    if given is not None:
        if not isinstance(given, (dict, bool)):
            raise UnsatisfiableSchema(f"{json_name} must be a JSON Schema object")
        return given
    given = field_of(message, google_name)
    return json_schema(given) if given is not None else None
