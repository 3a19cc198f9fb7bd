"""Bounded copies of request and response data, for everything the mock keeps (journal, tasks).

A journal entry or a task keeps at most a byte budget of what it was given. Within it, values are kept
as they are; a string longer than half the budget (a base64 image, a 3 MB prompt) keeps its head and
a marker with its length and digest, so tests can still tell uploads apart; containers past the
budget or nested past the depth limit are cut with a marker. Values that fit are not copied at all.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .parsing import MAX_JSON_DEPTH

MARKER = "gptnb-mock:truncated"
HEAD_CHARS = 64


def compact(value: Any, budget: int, known_size: int | None = None) -> Any:
    """``value`` bounded to about ``budget`` bytes of JSON; ``known_size`` (its encoded size, when the
    caller has it) lets values that fit skip the walk."""
    if known_size is not None and known_size <= budget:
        return value
    if isinstance(value, (bytes, bytearray)):
        return f"({len(value)} bytes)"
    return _Compactor(budget).copy(value, 0)


class _Compactor:
    def __init__(self, budget: int) -> None:
        self.left = budget
        self.longest = max(budget // 2, HEAD_CHARS)

    def copy(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            return self._string(value)
        if isinstance(value, dict):
            if depth >= MAX_JSON_DEPTH:
                return f"[{MARKER}: nested deeper than {MAX_JSON_DEPTH} levels]"
            kept: dict[str, Any] = {}
            for position, (key, item) in enumerate(value.items()):
                if self.left <= 0:
                    kept[MARKER] = f"{len(value) - position} more keys"
                    break
                self.left -= len(str(key)) + 4
                kept[key] = self.copy(item, depth + 1)
            return kept
        if isinstance(value, (list, tuple)):
            if depth >= MAX_JSON_DEPTH:
                return f"[{MARKER}: nested deeper than {MAX_JSON_DEPTH} levels]"
            items: list[Any] = []
            for position, item in enumerate(value):
                if self.left <= 0:
                    items.append(f"[{MARKER}: {len(value) - position} more items]")
                    break
                self.left -= 1
                items.append(self.copy(item, depth + 1))
            return items
        self.left -= 8
        return value

    def _string(self, text: str) -> str:
        limit = min(self.longest, max(self.left, HEAD_CHARS))
        if len(text) <= limit:
            self.left -= len(text) + 2
            return text
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        self.left -= HEAD_CHARS + 80
        return f"{text[:HEAD_CHARS]}…[{MARKER}: {len(text)} chars, sha256 {digest}]"
