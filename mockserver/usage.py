"""Read the token usage an answer reports, whatever its format.

OpenAI-style ``usage {prompt_tokens, completion_tokens}``, Responses / Claude / Realtime
``usage {input_tokens, output_tokens}``, Gemini ``usageMetadata {promptTokenCount,
candidatesTokenCount}``, and audio billed by ``usage {type: "duration", seconds}``. Physics use it to
time a non-streamed answer; quota uses it to charge the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CARRIERS = ("response", "message")
"""Objects an answer or an event carries its usage in (Responses events, Claude's message_start)."""


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    """Audio billed by duration (transcriptions that report it)."""

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens, self.seconds + other.seconds)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _read(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    if usage.get("type") == "duration":
        seconds = usage.get("seconds")
        return Usage(seconds=float(seconds)) if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else None
    if "prompt_tokens" in usage or "completion_tokens" in usage:
        return Usage(_count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens")))
    if "input_tokens" in usage or "output_tokens" in usage:
        # Claude reports cache reads and writes beside input_tokens; they are input too.
        cached = _count(usage.get("cache_read_input_tokens")) + _count(usage.get("cache_creation_input_tokens"))
        return Usage(_count(usage.get("input_tokens")) + cached, _count(usage.get("output_tokens")))
    if "promptTokenCount" in usage or "candidatesTokenCount" in usage:
        thoughts = _count(usage.get("thoughtsTokenCount"))
        return Usage(_count(usage.get("promptTokenCount")), _count(usage.get("candidatesTokenCount")) + thoughts)
    return None


def reported(payload: Any) -> Usage | None:
    """The usage a body or an event reports, or None when it reports none."""
    if not isinstance(payload, dict):
        return None
    for holder in (payload, *(payload[name] for name in CARRIERS if isinstance(payload.get(name), dict))):
        found = _read(holder.get("usage")) or _read(holder.get("usageMetadata"))
        if found is not None:
            return found
    return None
