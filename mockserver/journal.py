"""A bounded record of the calls the mock answered, for tests and the admin API to inspect.

Entries live in the store, one ring per namespace (``--journal-size`` entries), so every worker
writes to and reads from the same journal. Each entry is bounded too: bodies are compacted by the
pipeline, and a stream's events or a WebSocket session's frames are kept on a ``Timeline`` -- every
item with its time, its data while the entry's byte budget lasts -- and written with the entry when
the exchange is over.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from .compaction import compact

if TYPE_CHECKING:
    from .store import Entered, Store

MAX_TIMELINE_ITEMS = 1000
"""Events or frames one entry lists; past this, one marker item counts the rest."""
BRIEF_VIOLATIONS = 5
"""Violations a brief entry lists (it counts them all)."""
BRIEF_OUTCOME = 200
"""A brief entry shows an answer described in words up to this long: "(event stream)", a callback's "attempt 2: HTTP 500"."""
_STATUS = re.compile(r"[1-5](?:\d\d|xx)")


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
    fault: str | None = None
    """The fault steering gave this answer, in scenario words (``drop_after=3``, ``chaos: reset``)."""
    rule: int | None = None
    """The steering rule that answered, if one did."""
    events: list[dict[str, Any]] | None = None
    """A stream's events as sent: ``{"at_ms", "event", "data"}``, ``at_ms`` after the answer began."""
    frames: list[dict[str, Any]] | None = None
    """A WebSocket session's frames: ``{"at_ms", "from": "client" | "server", "data"}``, ``at_ms`` after it began."""
    task_id: str | None = None
    """For a callback delivery: the task whose state it carried."""

    def as_dict(self) -> dict[str, Any]:
        return {
            **self._head(),
            "query": self.query,
            "body": self.body,
            "response": self.response,
            "violations": self.violations,
            "events": self.events,
            "frames": self.frames,
        }

    @classmethod
    def from_dict(cls, shown: dict[str, Any]) -> JournalEntry:
        """The entry ``as_dict`` showed (what the admin API answers)."""
        fields = {k: v for k, v in shown.items() if k not in ("contract", "task")}
        return cls(**fields, contract_id=shown["contract"], task_id=shown.get("task"))

    def brief(self) -> dict[str, Any]:
        """The entry without its bodies, events and frames (what a listing shows): counts instead, and
        the answer only when it is a short description rather than a body."""
        return {
            **self._head(),
            "violations": self.violations[:BRIEF_VIOLATIONS],
            "violation_count": len(self.violations),
            "outcome": self.response if isinstance(self.response, str) and len(self.response) <= BRIEF_OUTCOME else None,
            "events": len(self.events) if self.events is not None else None,
            "frames": len(self.frames) if self.frames is not None else None,
        }

    def _head(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "contract": self.contract_id,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 3),
            "kind": self.kind,
            "fault": self.fault,
            "rule": self.rule,
            "task": self.task_id,
        }


class Journal:
    """One namespace's journal. An entry is recorded once, complete, when its exchange is over."""

    def __init__(self, store: Store, namespace: str) -> None:
        self.store = store
        self.namespace = namespace

    async def record(self, entry: JournalEntry) -> JournalEntry:
        await self.store.record(self.namespace, entry)
        return entry

    def record_unless_changed(self, entry: JournalEntry, version: str) -> Awaitable[Entered | None]:
        """Record the entry if the namespace is still at ``version``; else the namespace as it is now.
        (The store's own coroutine: every stateless request awaits this, one frame fewer.)"""
        return self.store.record_unless_changed(self.namespace, entry, version)

    async def entries(self) -> list[JournalEntry]:
        """Oldest first."""
        return await self.store.journal(self.namespace)

    async def clear(self) -> None:
        await self.store.clear_journal(self.namespace)


def violations(entries: list[JournalEntry]) -> list[tuple[JournalEntry, str]]:
    return [(entry, v) for entry in entries for v in entry.violations]


class Timeline:
    """Timed items of one exchange (a stream's events, a session's frames), as a journal entry keeps them.

    Every item keeps its time; its data is kept while ``budget`` bytes last (later ones give only
    their ``size``), and past ``MAX_TIMELINE_ITEMS`` one marker item counts what was left out.
    ``items`` is the list the entry shows, filled in as the exchange goes on. ``add`` runs once per
    streamed event, so it does as little as it can.
    """

    def __init__(self, budget: int) -> None:
        self.items: list[dict[str, Any]] = []
        self._left = budget
        self._started = time.perf_counter()
        self._omitted: dict[str, Any] | None = None

    def add(self, item: dict[str, Any], data: Any, size: int) -> None:
        """One item: ``item`` holds its labels (event name, direction) and becomes the entry's item;
        ``data`` is what was sent, ``size`` its bytes on the wire."""
        at_ms = int((time.perf_counter() - self._started) * 10_000) / 10  # to 0.1 ms; round() costs more
        if self._omitted is not None:
            self._omitted["omitted"] += 1
            return
        if len(self.items) >= MAX_TIMELINE_ITEMS:
            self._omitted = {"at_ms": at_ms, "omitted": 1}
            self.items.append(self._omitted)
            return
        item["at_ms"] = at_ms
        if size <= self._left:
            item["data"] = data
        elif self._left > 0:
            item["data"] = compact(data, self._left, size)
        else:
            item["size"] = size
        self._left -= size
        self.items.append(item)


def readable(text: str | bytes) -> Any:
    """A frame's or event's text as data to show: its JSON when it is JSON, else the text itself."""
    if isinstance(text, bytes):
        return f"({len(text)} bytes)"
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


@dataclass(frozen=True)
class JournalQuery:
    """Which entries a journal listing shows: every given condition must hold."""

    contract: str | None = None
    family: str | None = None
    status: str | None = None
    """An exact status (``429``) or a class (``4xx``)."""
    kind: str | None = None
    broken: bool = False
    """Only answers that broke their contract (strict mode's verdicts)."""
    text: str | None = None
    """Case-insensitive, anywhere in the method, path, contract, bodies, events or frames."""
    task: str | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> JournalQuery:
        status = (params.get("status") or "").lower() or None
        if status is not None and not _STATUS.fullmatch(status):
            raise ValueError(f"status must be a status code (429) or a class (4xx), not {status!r}")
        broken = params.get("broken", "").lower()
        if broken not in ("", "0", "1", "true", "false"):
            raise ValueError("broken must be true or false")
        return cls(
            contract=params.get("contract") or None,
            family=params.get("family") or None,
            status=status,
            kind=params.get("kind") or None,
            broken=broken in ("1", "true"),
            text=(params.get("q") or "").strip().lower() or None,
            task=params.get("task") or None,
        )

    def matches(self, entry: JournalEntry, family_of: Callable[[str | None], str | None]) -> bool:
        if self.contract is not None and entry.contract_id != self.contract:
            return False
        if self.family is not None and family_of(entry.contract_id) != self.family:
            return False
        if self.status is not None and not _status_matches(entry.status, self.status):
            return False
        if self.kind is not None and entry.kind != self.kind:
            return False
        if self.broken and not entry.violations:
            return False
        if self.task is not None and entry.task_id != self.task:
            return False
        return self.text is None or self.text in _searchable(entry)


def _status_matches(status: int, wanted: str) -> bool:
    return str(status) == wanted if wanted.isdigit() else str(status)[:1] == wanted[0]


def _searchable(entry: JournalEntry) -> str:
    parts = (entry.method, entry.path, entry.contract_id or "", entry.query, entry.body, entry.response, entry.events, entry.frames, entry.violations)
    return orjson.dumps(parts, default=str).decode().lower()
