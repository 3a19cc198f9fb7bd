"""A bounded record of the calls the mock answered, for tests and the admin API to inspect.

A ring (deque with maxlen) keeps memory flat however long the server runs.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class JournalEntry:
    seq: int
    time: float
    method: str
    path: str
    contract_id: str | None
    query: dict[str, Any]
    body: Any
    status: int = 0
    response: Any = None
    """The JSON body, text or a short description of what was answered."""
    violations: list[str] = field(default_factory=list)
    """Where the mock's own answer broke its contract (strict mode)."""
    duration_ms: float = 0.0
    kind: str = "request"
    """``request`` for calls the mock answered, ``callback`` for deliveries it made."""
    rule: int | None = None
    """The steering rule that answered, if one did."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "contract": self.contract_id,
            "query": self.query,
            "body": self.body,
            "status": self.status,
            "response": self.response,
            "violations": self.violations,
            "duration_ms": round(self.duration_ms, 3),
            "kind": self.kind,
            "rule": self.rule,
        }


class Journal:
    def __init__(self, size: int) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=size)
        self._seq = itertools.count(1)
        # Sync clients reach the app from a bridge thread while tests read from theirs.
        self._lock = threading.Lock()

    def record(self, entry_without_seq: dict[str, Any]) -> JournalEntry:
        with self._lock:
            entry = JournalEntry(seq=next(self._seq), **entry_without_seq)
            self._entries.append(entry)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __iter__(self) -> Iterator[JournalEntry]:
        with self._lock:
            return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def violations(self) -> list[tuple[JournalEntry, str]]:
        return [(entry, v) for entry in self for v in entry.violations]
