"""Deterministic text: replies that quote what was asked, and token counts that add up.

Tokens here are an approximation of a BPE tokenizer, good enough for usage numbers: a word with its
leading space, a punctuation mark, or a single CJK character each count as one token. The same
function splits generated text into stream deltas, so the deltas of a stream are exactly its
completion tokens.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

S = TypeVar("S", str, list[str])

_TOKEN = re.compile(r" ?[A-Za-z0-9_'’]+| ?[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]|\s+|[^\sA-Za-z0-9_]")

# A loop of prose that reads sensibly from any word on: replies take a run of it.
_WORDS = (
    "the mock answers every request the way the real service would, with shapes taken from the docs "
    "so that clients can be built and tested offline without keys or costs while the replies stay "
    "deterministic for a given request and seed which makes assertions in tests simple and stable "
    "and when a stream is asked for the same words arrive one token at a time in the framing the "
    "service uses so that parsers and progress bars behave as they will in production where the "
    "answers come from a real model behind the relay and every token is billed to the account that "
    "sent it which is exactly what a test suite should never have to pay for when it only wants to "
    "know that its own code handles each kind of answer correctly"
).split()


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


COUNTED_CHARS = 1 << 16
"""Texts longer than this (64 Ki characters) are counted on their first COUNTED_CHARS and scaled: a 30 MB
prompt must not hold the event loop for a second just to fill in ``usage``."""


def count_tokens(text: str) -> int:
    if len(text) <= COUNTED_CHARS:
        return len(tokenize(text))
    return len(tokenize(text[:COUNTED_CHARS])) * len(text) // COUNTED_CHARS


def excerpt(text: str, limit: int = 160) -> str:
    """A one-line quote of ``text`` that fits in a reply."""
    # Flattening a prefix gives a prefix of the flattened whole, so a long enough prefix decides
    # the quote without touching the rest of a huge text.
    size = 4 * limit
    while True:
        flat = " ".join(text[:size].split())
        if len(flat) > limit:
            return flat[: limit - 1] + "…"
        if size >= len(text):
            return flat
        size *= 4


def filler(seed: int, words: int) -> str:
    """``words`` consecutive words of the prose loop, starting where the seed says.

    The start comes straight from the seed: seeding a random generator per reply costs more than
    the rest of a chat answer.
    """
    size = len(_WORDS)
    start = seed % size
    picked = [_WORDS[(start + i) % size] for i in range(words)]
    return " ".join(picked).capitalize() + "."


def reply_text(question: str, model: str, seed: int, *, variant: int = 0) -> str:
    """The assistant's answer: it quotes the question, so a test can see its prompt arrived."""
    quoted = excerpt(question) if question else "(no user message)"
    return f'You said: "{quoted}". This is a mock reply from {model}. {filler(seed + variant, 12 + seed % 7)}'


def tool_result_reply(result: str, seed: int) -> str:
    """The answer once a tool has answered: it quotes the tool's result, so a test can see it arrived."""
    return f"Based on the tool result {excerpt(result, 120)}, here is the answer. {filler(seed, 8)}"


def truncate_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """Cut ``text`` before the first stop sequence (not included, as OpenAI does)."""
    kept, stop = stop_at(text, stops)
    return kept, stop is not None


def stop_at(text: str, stops: Sequence[str]) -> tuple[str, str | None]:
    """``text`` cut before the earliest stop sequence, and the sequence that cut it (or None)."""
    found = [(i, s) for s in stops if s and (i := text.find(s)) >= 0]
    if not found:
        return text, None
    cut, stop = min(found, key=lambda pair: pair[0])
    return text[:cut], stop


@dataclass(frozen=True)
class Generated:
    """A reply as tokens, and why it ended: a stop sequence, the token limit, or its natural end."""

    tokens: list[str]
    stop_sequence: str | None = None
    hit_limit: bool = False

    @property
    def text(self) -> str:
        return "".join(self.tokens)


def generate(text: str, *, stops: Sequence[str] = (), limit: int | None = None) -> Generated:
    """``text`` as every format's model emits it: cut at the first stop sequence, then at ``limit`` tokens.

    Chat's ``finish_reason``, Responses' ``incomplete_details``, Claude's ``stop_reason`` and
    Gemini's ``finishReason`` are all read off the same result.
    """
    kept, stop = stop_at(text, stops)
    tokens = tokenize(kept)
    if limit is not None and len(tokens) > limit:
        return Generated(tokens[:limit], None, True)
    return Generated(tokens, stop, False)


def closest(question: str, candidates: Sequence[str]) -> int:
    """The index of the candidate sharing the most words with ``question`` (the first on a tie).

    How the mock "model" picks which tool to call: by the words of each tool's name and description.
    """
    words = set(question.lower().split())
    overlaps = [len(words & set(c.lower().replace("_", " ").split())) for c in candidates]
    return overlaps.index(max(overlaps))


def json_answer(question: str, seed: int) -> dict[str, str]:
    """The object a reply in free-form JSON mode (no schema given) holds."""
    return {"answer": filler(seed, 8), "question": excerpt(question, 80)}


def in_pieces(whole: S, count: int) -> list[S]:
    """``whole`` (a string, or a list of tokens) cut into about ``count`` consecutive pieces, as streams
    send tool arguments and thinking: a few large deltas rather than one per token."""
    size = max(1, math.ceil(len(whole) / count))
    return [whole[i : i + size] for i in range(0, len(whole), size)]


def reasoning(question: str, seed: int) -> str:
    """A model's visible thinking before it answers ``question``."""
    quoted = excerpt(question, 120) if question else "the request"
    return f"The user asks about {quoted}. {filler(seed + 1, 16 + seed % 9)} I will answer directly."
