"""A bounded record of the calls the mock answered, for tests and the admin API to inspect.

Entries live in the store, one ring per namespace (``--journal-size`` entries), so every worker
writes to and reads from the same journal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import Entered, Store


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
    """One namespace's journal. An entry is recorded once, complete, when its exchange is over."""

    def __init__(self, store: Store, namespace: str) -> None:
        self.store = store
        self.namespace = namespace

    async def record(self, entry: JournalEntry) -> JournalEntry:
        await self.store.record(self.namespace, entry)
        return entry

    async def record_unless_changed(self, entry: JournalEntry, version: str) -> Entered | None:
        """Record the entry if the namespace is still at ``version``; else the namespace as it is now."""
        return await self.store.record_unless_changed(self.namespace, entry, version)

    async def entries(self) -> list[JournalEntry]:
        """Oldest first."""
        return await self.store.journal(self.namespace)

    async def clear(self) -> None:
        await self.store.clear_journal(self.namespace)


def violations(entries: list[JournalEntry]) -> list[tuple[JournalEntry, str]]:
    return [(entry, v) for entry in entries for v in entry.violations]
