"""HTTP in and out for generateContent, streamGenerateContent, countTokens and the model list."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ...catalogue import catalogue
from ...conversation import TURN_KINDS, Facts, Turn, facts_of, reads
from ...ids import random_alnum
from ...replies import JsonReply, Reply, StreamReply
from .. import handles
from .models import CandidatePlan, GenerationPlan, canned_generation, field_of, plan_generation

if TYPE_CHECKING:
    from ...pipeline import Call

# Tokens per streamed event: Google sends a few words at a time.
TOKENS_PER_EVENT = 4


def _plan(call: Call) -> GenerationPlan:
    if call.canned is not None and call.canned.rendered:
        return canned_generation(call.canned, call.body, call.params["model"])
    return plan_generation(call.body, call.params["model"], call.seed)


def response(plan: GenerationPlan, response_id: str) -> dict[str, Any]:
    candidates = [_candidate(c.parts(), index, c.finish_reason) for index, c in enumerate(plan.candidates)]
    return {"candidates": candidates, "usageMetadata": plan.usage(), "modelVersion": plan.model, "responseId": response_id}


def _candidate(parts: list[dict[str, Any]], index: int, finish_reason: str | None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": index}
    if finish_reason is not None:
        candidate["finishReason"] = finish_reason
    return candidate


async def chunks(plan: GenerationPlan, response_id: str) -> AsyncIterator[dict[str, Any]]:
    """The events of streamGenerateContent: each candidate's parts a few tokens at a time, its last event
    with the finishReason, the last event of all with the whole usage."""
    running = {"promptTokenCount": plan.prompt_tokens, "totalTokenCount": plan.prompt_tokens}
    pieces = [(index, parts) for index, candidate in enumerate(plan.candidates) for parts in _pieces(candidate)]
    for position, (index, parts) in enumerate(pieces):
        last_of_candidate = position + 1 == len(pieces) or pieces[position + 1][0] != index
        finish = plan.candidates[index].finish_reason if last_of_candidate else None
        usage = plan.usage() if position + 1 == len(pieces) else running
        yield {"candidates": [_candidate(parts, index, finish)], "usageMetadata": usage, "modelVersion": plan.model, "responseId": response_id}


def _pieces(candidate: CandidatePlan) -> list[list[dict[str, Any]]]:
    """The parts of each event of one candidate."""
    events = [[{"text": "".join(candidate.thought[i : i + TOKENS_PER_EVENT]), "thought": True}] for i in range(0, len(candidate.thought), TOKENS_PER_EVENT)]
    calls = [[{"functionCall": call} for call in candidate.calls]] if candidate.calls else []
    if candidate.calls and not candidate.answer:
        return [*events, *calls]
    answer = candidate.answer or [""]
    return [*events, *([{"text": "".join(answer[i : i + TOKENS_PER_EVENT])}] for i in range(0, len(answer), TOKENS_PER_EVENT)), *calls]


@reads("gemini.models.generate_content", "gemini.models.stream_generate_content", renders=TURN_KINDS)
def gemini_facts(call: Call) -> Facts:
    """A Gemini request as turns: ``systemInstruction`` first, each content's function responses as tool
    turns (answering the call by its id, or its name when it has none), then its words."""
    body = call.body
    system = _words(field_of(body, "systemInstruction"))
    turns = [Turn("system", system)] if system is not None else []
    for content in body.get("contents") or []:
        if isinstance(content, dict):
            role = "assistant" if content.get("role") == "model" else "user"
            responses = [r for p in content.get("parts") or [] if isinstance(r := field_of(p, "functionResponse"), dict)]
            turns += [Turn("tool", json.dumps(r.get("response"), ensure_ascii=False), str(r.get("id") or r.get("name"))) for r in responses]
            words = _words(content)
            if words is not None or not responses:
                turns.append(Turn(role, words))
    tools = [d.get("name") for tool in body.get("tools") or [] for d in field_of(tool, "functionDeclarations") or [] if isinstance(d, dict)]
    return facts_of(call.params.get("model"), turns, tools)


def _words(content: Any) -> str | None:
    parts = content.get("parts") if isinstance(content, dict) else None
    texts = [p["text"] for p in parts or [] if isinstance(p, dict) and isinstance(p.get("text"), str) and not p.get("thought")]
    return " ".join(texts) if texts else None


# new-api runs countTokens as generateContent and answers its generation (see the count_tokens contract).
@handles("gemini.models.generate_content", "gemini.models.count_tokens")
def generate_content(call: Call) -> Reply:
    return JsonReply(response(_plan(call), random_alnum(23)))


@handles("gemini.models.stream_generate_content")
def stream_generate_content(call: Call) -> Reply:
    return StreamReply(chunks(_plan(call), random_alnum(23)))


@handles("gemini.models.list")
def list_models(call: Call) -> Reply:
    models = [{"name": model, "displayName": model} for model in catalogue(call.state.registry)]
    return JsonReply({"models": models, "nextPageToken": None})


@handles("gemini.models.list_v1")
def list_models_v1(call: Call) -> Reply:
    # new-api looks the empty model id up and answers its model_not_found error, with HTTP 200 (controller/model.go RetrieveModel).
    missing = {"message": "The model '' does not exist", "type": "invalid_request_error", "param": "model", "code": "model_not_found"}
    return JsonReply({"error": missing})
