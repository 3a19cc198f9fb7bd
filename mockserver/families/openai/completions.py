"""Legacy completions: one choice per prompt and ``n``, ``echo``, integer ``logprobs``, streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ... import text as texts
from ...conversation import Facts, joined, reads
from ...errors import ApiError
from ...ids import derived_int, random_alnum
from ...replies import JsonReply, Reply, StreamReply
from ...streaming import wants_stream
from .. import handles

if TYPE_CHECKING:
    from ...pipeline import Call

DEFAULT_MAX_TOKENS = 16  # the API's default, which is why legacy completions so often end in "length"


def _prompts(prompt: Any) -> list[str]:
    """The prompt field in all four documented forms, as texts (token arrays become placeholders)."""
    if prompt is None:
        return ["<|endoftext|>"]
    if isinstance(prompt, str):
        return [prompt]
    if prompt and all(isinstance(p, int) for p in prompt):
        return [" ".join(f"<{t}>" for t in prompt)]
    return [p if isinstance(p, str) else " ".join(f"<{t}>" for t in p) for p in prompt]


def _prompt_tokens(prompt: Any) -> int:
    """Token-array prompts are counted as the tokens they are, not as their placeholder text."""
    if isinstance(prompt, list) and prompt and all(isinstance(t, int) for t in prompt):
        return len(prompt)
    if isinstance(prompt, list):
        return sum(len(p) if isinstance(p, list) else texts.count_tokens(p) for p in prompt)
    return sum(texts.count_tokens(p) for p in _prompts(prompt))


def _legacy_logprobs(tokens: list[str], top: int, seed: int, offset: int) -> dict[str, Any]:
    values = [-round(((derived_int(seed, i) % 1000) / 1000) ** 2 * 2, 6) for i in range(len(tokens))]
    offsets, position = [], offset
    for token in tokens:
        offsets.append(position)
        position += len(token)
    return {
        "tokens": tokens,
        "token_logprobs": values,
        "top_logprobs": [{token: value, **{f"{token.strip() or '_'}{k}": value - k * 1.5 for k in range(1, top)}} for token, value in zip(tokens, values)],
        "text_offset": offsets,
    }


class Completion:
    def __init__(self, call: Call) -> None:
        body = call.body
        self.call = call
        self.model = body["model"]
        self.prompts = _prompts(body.get("prompt"))
        n = body.get("n") or 1
        best_of = body.get("best_of")
        if isinstance(best_of, int) and best_of < n:
            raise ApiError(400, "invalid_request", "best_of must be greater than or equal to n", param="best_of")
        if isinstance(best_of, int) and best_of > 1 and body.get("stream"):
            raise ApiError(400, "invalid_request", "Cannot stream results with best_of > 1", param="best_of")
        limit = body.get("max_tokens")
        limit = DEFAULT_MAX_TOKENS if limit is None else limit
        stops = body.get("stop")
        stops = [stops] if isinstance(stops, str) else list(stops or [])
        self.id = "cmpl-" + random_alnum(29)
        self.created = int(call.state.clock.now())
        self.choices: list[tuple[list[str], str, str, int]] = []  # (tokens, finish_reason, echoed prompt, seed)
        canned = call.canned.content if call.canned is not None else None
        for prompt in self.prompts:
            for variant in range(n):
                seed = derived_int(call.seed, self.model, prompt, variant)
                if canned is not None:  # a steering rule's text, exactly as given
                    tokens, finish = texts.tokenize(canned), "stop"
                    self.choices.append((tokens, finish, prompt if body.get("echo") else "", seed))
                    continue
                text, stopped = texts.truncate_at_stop(" " + texts.filler(seed, 24), stops)
                tokens = texts.tokenize(text)
                finish = "stop"
                if len(tokens) > limit:
                    tokens, finish = tokens[:limit], "length"
                self.choices.append((tokens, finish, prompt if body.get("echo") else "", seed))
        self.logprobs = body.get("logprobs")
        self.prompt_tokens = _prompt_tokens(body.get("prompt"))

    def usage(self) -> dict[str, int]:
        completion = sum(len(tokens) for tokens, _, _, _ in self.choices)
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": completion, "total_tokens": self.prompt_tokens + completion}

    def _logprobs(self, tokens: list[str], seed: int, offset: int) -> dict[str, Any] | None:
        # Seeded like the text, so the same request gets the same logprobs, streamed or not.
        if not isinstance(self.logprobs, int):
            return None
        return _legacy_logprobs(tokens, self.logprobs, seed, offset)

    def body(self) -> dict[str, Any]:
        choices = [
            {"text": echo + "".join(tokens), "index": i, "logprobs": self._logprobs(tokens, seed, len(echo)), "finish_reason": finish}
            for i, (tokens, finish, echo, seed) in enumerate(self.choices)
        ]
        return {"id": self.id, "object": "text_completion", "created": self.created, "model": self.model, "choices": choices, "usage": self.usage()}

    def _chunk(self, choice: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.id, "object": "text_completion", "created": self.created, "model": self.model, "choices": [choice]}

    async def chunks(self) -> AsyncIterator[dict[str, Any]]:
        with_usage = bool((self.call.body.get("stream_options") or {}).get("include_usage"))
        for index, (tokens, finish, echo, seed) in enumerate(self.choices):
            if echo:
                yield self._chunk({"text": echo, "index": index, "logprobs": None, "finish_reason": None})
            whole = self._logprobs(tokens, seed, len(echo))
            for position, token in enumerate(tokens):
                logprobs = {key: [values[position]] for key, values in whole.items()} if whole is not None else None
                yield self._chunk({"text": token, "index": index, "logprobs": logprobs, "finish_reason": None})
            yield self._chunk({"text": "", "index": index, "logprobs": None, "finish_reason": finish})
        if with_usage:
            yield {"id": self.id, "object": "text_completion", "created": self.created, "model": self.model, "choices": [], "usage": self.usage()}


@reads("openai.completions.create", renders={"content"})
def completion_facts(call: Call) -> Facts:
    """A legacy completion's prompt is its user message."""
    prompt = call.body.get("prompt")
    prompts = [prompt] if isinstance(prompt, str) else [p for p in prompt or [] if isinstance(p, str)]
    return Facts(model=call.body.get("model"), user_message=joined(prompts))


@handles("openai.completions.create", stateless=True)
def completions(call: Call) -> Reply:
    completion = Completion(call)
    if wants_stream(call):
        return StreamReply(completion.chunks(), terminator="[DONE]")
    return JsonReply(completion.body())
