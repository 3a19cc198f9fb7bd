"""The Claude and Gemini contracts were loosened to what real servers send (new-api's converted answers
without stop_reason, signature, finishReason or usage; Google's answers without usageMetadata): a server
that breaks what they still require is caught by the conformance runner, answers and streams alike."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from test_conformance import Breaker, first_failure, json_mutation, runner_for, step_mock

from mockserver.contracts import default_registry
from mockserver.responses import ResponseJudge


def gemini_candidates_as_text(data: Any) -> Any:
    return {**data, "candidates": "none"} if "candidates" in data else data


def gemini_nothing_but_usage(data: Any) -> Any:
    return {"usageMetadata": data["usageMetadata"]} if "candidates" in data else data


def gemini_finish_reason_as_number(data: Any) -> Any:
    for candidate in data.get("candidates", []):
        candidate["finishReason"] = 1
    return data


def gemini_part_without_anything(data: Any) -> Any:
    for candidate in data.get("candidates", []):
        candidate["content"]["parts"] = [{}]
    return data


def embedding_values_as_text(data: Any) -> Any:
    if "embedding" in data:
        data["embedding"]["values"] = "0.1,0.2"
    return data


def embeddings_left_out(data: Any) -> Any:
    return {k: v for k, v in data.items() if k != "embeddings"}


def claude_without_stop_reason(data: Any) -> Any:
    return {k: v for k, v in data.items() if k != "stop_reason"} if data.get("type") == "message" else data


def claude_stop_reason_word(data: Any) -> Any:
    return {**data, "stop_reason": "done"} if data.get("type") == "message" else data


def claude_without_id(data: Any) -> Any:
    return {k: v for k, v in data.items() if k != "id"} if data.get("type") == "message" else data


BROKEN: list[tuple[str, str, Callable[[Any], Any], tuple[str, ...]]] = [
    ("gemini.models.generate_content", ":generateContent", gemini_candidates_as_text, ("candidates",)),
    ("gemini.models.generate_content", ":generateContent", gemini_nothing_but_usage, ("anyOf",)),  # candidates or promptFeedback
    ("gemini.models.generate_content", ":generateContent", gemini_finish_reason_as_number, ("finishReason",)),
    ("gemini.models.generate_content", ":generateContent", gemini_part_without_anything, ("parts",)),
    ("gemini.models.count_tokens", ":countTokens", gemini_candidates_as_text, ("candidates",)),
    ("gemini.models.embed_content", ":embedContent", embedding_values_as_text, ("values",)),
    ("gemini.models.batch_embed_contents", ":batchEmbedContents", embeddings_left_out, ("embeddings", "required")),
    ("claude.messages.create", "/v1/messages", claude_without_stop_reason, ("stop_reason", "required")),
    ("claude.messages.create", "/v1/messages", claude_stop_reason_word, ("done",)),
    ("claude.messages.create", "/v1/messages", claude_without_id, ("id", "required")),
]


@pytest.mark.parametrize(("contract_id", "path", "change", "words"), BROKEN, ids=[f"{b[0]}-{b[2].__name__}" for b in BROKEN])
def test_a_server_breaking_what_is_still_required_is_caught(contract_id: str, path: str, change: Callable[[Any], Any], words: tuple[str, ...]) -> None:
    failure = first_failure(Breaker(step_mock(), json_mutation(path, change)), contract_id)
    assert failure.startswith("response_schema_conformance") and all(word in failure for word in words), failure


def _stream_failure(contract_id: str, path: str, rewrite: Callable[[bytes], bytes]) -> str:
    def mutate(request_path: str, body: bytes) -> bytes:
        return rewrite(body) if request_path.endswith(path) else body

    runner = runner_for(Breaker(step_mock(), mutate), contract_id, negatives=False, examples=0)
    outcomes = runner.run(case for case in runner.plan() if case.id.endswith("example[stream]"))
    assert outcomes and outcomes[0].verdict == "failed", "the broken stream was not caught"
    return outcomes[0].first_violation


STREAMS: list[tuple[str, str, Callable[[bytes], bytes], str]] = [
    # message_start still needs the message's id (new-api's converted start leaves out only stop_reason).
    ("claude.messages.create", "/v1/messages", lambda body: re.sub(rb'"message":\{"id":"[^"]*",', b'"message":{', body), "id"),
    # A thinking block may start without a signature (new-api), never without its thinking.
    ("claude.messages.create", "/v1/messages", lambda body: body.replace(b'"content_block":{"type":"text","text":""}', b'"content_block":{"type":"thinking"}'), "content_block"),
    ("claude.messages.create", "/v1/messages", lambda body: body.replace(b'"stop_reason":"end_turn"', b'"stop_reason":"finished"'), "finished"),
    # finishReason may be null (new-api's converted chunks), never a number.
    ("gemini.models.stream_generate_content", ":streamGenerateContent", lambda body: body.replace(b'"finishReason":"STOP"', b'"finishReason":0'), "finishReason"),
    ("gemini.models.stream_generate_content", ":streamGenerateContent", lambda body: re.sub(rb'"candidates":\[.*?\],"usageMetadata":\{.*?\}\}?,', b"", body), "anyOf"),
    ("gemini.models.stream_generate_content", ":streamGenerateContent", lambda body: body.replace(b"\n\n", b"\n"), "sse_conformance"),
]


@pytest.mark.parametrize(("contract_id", "path", "rewrite", "word"), STREAMS, ids=["claude-start-without-id", "claude-thinking-without-text", "claude-stop-reason-word", "gemini-finish-reason-number", "gemini-chunk-with-nothing", "gemini-framing"])
def test_a_broken_stream_is_still_caught(contract_id: str, path: str, rewrite: Callable[[bytes], bytes], word: str) -> None:
    violation = _stream_failure(contract_id, path, rewrite)
    assert "sse_conformance" in violation and word in violation, violation


# ---- and what real servers send without those fields is accepted ----

REGISTRY = default_registry()


def event_violations(contract_id: str, event: Any) -> list[str]:
    judge = ResponseJudge(REGISTRY[contract_id], REGISTRY)
    return judge.event_violations(200, event, 0, event.get("type"))


def test_new_apis_converted_claude_start_and_thinking_block_are_accepted() -> None:
    start = {"type": "message_start", "message": {"type": "message", "model": "gpt-4o", "role": "assistant", "id": "chatcmpl-1", "content": [], "usage": {"input_tokens": 3, "output_tokens": 0}}}
    assert event_violations("claude.messages.create", start) == []
    thinking = {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}
    assert event_violations("claude.messages.create", thinking) == []
    finished = {**start, "message": {k: v for k, v in start["message"].items() if k != "id"}}
    assert event_violations("claude.messages.create", finished) != []


@pytest.mark.parametrize("contract_id", ["gemini.models.generate_content", "gemini.models.stream_generate_content", "gemini.models.embed_content", "gemini.models.count_tokens"])
def test_the_runner_fills_a_model_that_shares_its_path_segment(contract_id: str) -> None:
    """Gemini paths carry the model before the colon (``{model}:generateContent``): the runner's requests
    name a model the relay serves, so they reach the handler rather than its 503."""
    runner = runner_for(step_mock(), contract_id, negatives=False)
    outcomes = runner.run(case for case in runner.plan() if not case.id.endswith("example[no_channel]"))
    exchanges = [exchange for outcome in outcomes for exchange in outcome.exchanges]
    assert exchanges and {e["response"]["status"] for e in exchanges} == {200}, [e["request"]["path"] for e in exchanges]
