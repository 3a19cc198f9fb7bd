"""The store interface: everything a mock remembers, per namespace, behind one small set of methods.

Two implementations: ``MemoryStore`` (one process; the default, and the ``gptnb`` fixture's) and
``RedisStore`` (any number of workers and replicas sharing one Redis). Callers never read, modify
and write back: every change that must count exactly once (a rule's ``times``, a poll under the step
clock, a callback's claim, an id) is one method here, atomic in both implementations.

A namespace scopes tasks, rules, the journal, the clock and quota; ids and media are shared.
See docs/store.md for how to add a kind of state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from ..quota.limits import QuotaStart

if TYPE_CHECKING:
    from ..clock import Clock
    from ..journal import JournalEntry
    from ..quota.ledger import Account, Window
    from ..quota.limits import Limit, QuotaRules
    from ..steering import Rule
    from ..tasks import Task

DEFAULT_NAMESPACE = "default"
CALLBACK_LEASE = 60.0
"""Seconds a worker holds a task's callbacks; if it dies, another takes over after this."""


class StoreUnavailable(RuntimeError):
    """The store cannot be reached; the message says which store and why."""


@dataclass(frozen=True)
class Limits:
    journal_size: int = 1000
    """Journal entries kept per namespace (a ring)."""
    max_tasks: int = 10_000
    """Tasks kept per namespace; past this the oldest finished ones are forgotten."""


class Entered(NamedTuple):
    """What a request reads of its namespace before it is answered (one round trip)."""

    clock: Clock
    rules: list[Rule]
    """The namespace's rules and the shared ones, in the order they are tried (``steering.tried_first``);
    the store hands out a new list when they change, so an unchanged one is the same list."""
    version: str
    """Changes whenever the namespace's rules, the shared rules, its clock or its quota rules do (and
    when it is dropped): a view of the same version is still true."""
    quota: QuotaRules
    """Keys with a quota and the rate limits (balances and counts are read when a request needs them)."""


@dataclass(frozen=True)
class NamespaceInfo:
    name: str
    last_used: float
    """Wall time of the last request or change."""
    tasks: int
    rules: int
    journal: int
    clock: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "last_used": self.last_used, "tasks": self.tasks, "rules": self.rules, "journal": self.journal, "clock": self.clock}


@dataclass(frozen=True)
class Claim:
    """A task whose callbacks this worker delivers until it releases the claim."""

    namespace: str
    task_id: str
    token: int
    """Proves the claim is still this worker's when it is released."""
    delivered: int
    """The last step index delivered so far (-1: none)."""


class Store(ABC):
    """Async, so one implementation can talk to a server; the in-memory one never waits."""

    def __init__(self, limits: Limits, clock_mode: str, clock_speed: float) -> None:
        self.limits = limits
        self.clock_mode = clock_mode
        self.clock_speed = clock_speed
        self.on_nudge: list[Callable[[], None]] = []
        """Called (in this process) after callbacks became due, so the dispatcher looks at once."""
        self.quota_start = QuotaStart()
        """Balances and limits a namespace starts with (the instance's settings set them)."""

    shared = False
    """Other processes use the same state (their callbacks may become due here)."""

    def describe(self) -> str:
        """Where the state lives, for logs and the health route (never a password)."""
        return "memory"

    async def open(self) -> None:
        """Check the store can be used; raise StoreUnavailable with the reason when it cannot."""

    async def close(self) -> None:
        """Release connections (the state itself stays)."""

    # ---- namespaces ----
    @abstractmethod
    async def enter(self, namespace: str) -> Entered:
        """The hot path's read: the namespace's clock and rules, marking it used (created on first use)."""

    @abstractmethod
    async def namespaces(self) -> list[NamespaceInfo]:
        """Every namespace in use, most recently used first."""

    @abstractmethod
    async def drop(self, namespace: str) -> bool:
        """Forget a namespace entirely (tasks, rules, journal, clock, counters, quota); False if it did not
        exist. It starts again as a new one: with ``quota_start``."""

    # ---- clock ----
    @abstractmethod
    async def set_clock(self, namespace: str, clock: Clock) -> None:
        """Replace the namespace's clock (a new mode or speed)."""

    @abstractmethod
    async def advance_clock(self, namespace: str, seconds: float) -> Clock:
        """Move the clock forward; every task whose callbacks wait on time gets looked at."""

    # ---- steering rules ----
    # A namespace has its own rules (``Rule.layer`` ADDED or FILES); the shared rules (layer SHARED, from
    # the server's files) belong to every namespace, each counting its own uses. Rule ids are numbered
    # store-wide, so an id names one rule whichever namespace lists it.
    @abstractmethod
    async def add_rule(self, namespace: str, rule: Rule) -> Rule:
        """Store the rule with a new id."""

    @abstractmethod
    async def rules(self, namespace: str) -> list[Rule]:
        """The namespace's rules and the shared ones, in the order they are tried, with the namespace's hits."""

    @abstractmethod
    async def remove_rule(self, namespace: str, rule_id: int) -> bool:
        """Forget one of the namespace's own rules (a shared one is not the namespace's to remove)."""

    @abstractmethod
    async def replace_rules(self, namespace: str, rules: list[Rule]) -> None:
        """Make exactly these, with their hits, the namespace's own rules (reset, and the fixture's
        rollback); shared rules among them are left out, and stay as they are."""

    @abstractmethod
    async def take_rule(self, namespace: str, rule: Rule) -> int:
        """Count one use of the rule in the namespace and answer which use it is (1 for the first);
        0, counting nothing, when its ``times`` are used up or it is gone: atomic."""

    @abstractmethod
    async def replace_shared_rules(self, rules: list[Rule], digest: str) -> bool:
        """Make these (numbered here) the rules every namespace shares, unless the shared rules already
        are the ones ``digest`` names (False): workers and replicas loading the same files write once.
        Every namespace's version changes, and its counts of the previous shared rules are forgotten."""

    # ---- journal ----
    @abstractmethod
    async def record(self, namespace: str, entry: JournalEntry) -> None:
        """Append the entry, numbering it (``entry.seq``); the oldest fall off past ``journal_size``."""

    @abstractmethod
    async def record_unless_changed(self, namespace: str, entry: JournalEntry, version: str) -> Entered | None:
        """Append the entry if the namespace is still at ``version`` (None); otherwise append nothing and
        answer the namespace as it is now, so the request can be answered again from it."""

    @abstractmethod
    async def journal(self, namespace: str) -> list[JournalEntry]:
        """Oldest first."""

    @abstractmethod
    async def clear_journal(self, namespace: str) -> None: ...

    # ---- tasks ----
    @abstractmethod
    async def create_task(self, namespace: str, task: Task, active_until: float | None, now: float) -> None:
        """Store a new task whole (with its callbacks due at once) or not at all. ``active_until``:
        mock time when it stops counting as running (None: it has ended); ``now`` decides which old
        tasks have ended when the namespace is over ``max_tasks``."""

    @abstractmethod
    async def task(self, namespace: str, task_id: str) -> Task | None: ...

    @abstractmethod
    async def tasks(self, namespace: str, family: str | None = None) -> list[Task]:
        """Oldest first."""

    @abstractmethod
    async def poll_task(self, namespace: str, task: Task, now: float, step: bool) -> Task | None:
        """Count a client's poll of ``task`` and, when ``step``, enter the next step at ``now``: atomic.
        Returns the task as the poll saw it (before it moved on): ``task`` itself, brought up to date,
        when the stored one is of the same revision; a fresh copy when it was rewritten since; None
        when it is gone."""

    @abstractmethod
    async def replace_task(self, namespace: str, task: Task, active_until: float | None) -> bool:
        """Write the task's changing parts back, unless it changed since ``task.revision`` was read;
        True when written (and ``task.revision`` is then the new one)."""

    @abstractmethod
    async def running(self, namespace: str, family: str, now: float) -> int:
        """How many of the family's tasks are active at mock time ``now``."""

    # ---- counters and ids ----
    @abstractmethod
    async def next_id(self, name: str, at_least: int) -> int:
        """A number above every one handed out before under ``name`` and at least ``at_least`` (all namespaces)."""

    @abstractmethod
    async def count(self, namespace: str, name: str, limit: int | None = None) -> int | None:
        """Add one to a counter and return it; None (and no change) when that would pass ``limit``."""

    # ---- quota: balances, rate windows, concurrency gates ----
    @abstractmethod
    async def set_balance(self, namespace: str, key: str, amount: int) -> None:
        """Give ``key`` a quota of ``amount`` points from now on (a new key among the quota rules)."""

    @abstractmethod
    async def clear_quota(self, namespace: str) -> None:
        """No key has a quota any more; balances and what keys used are forgotten."""

    @abstractmethod
    async def add_limit(self, namespace: str, limit: Limit) -> None:
        """One more rate limit or concurrency gate among the quota rules."""

    @abstractmethod
    async def clear_limits(self, namespace: str) -> None:
        """No limits any more, and their windows are forgotten (in-flight counts stay: those requests
        still end and leave their gates)."""

    @abstractmethod
    async def balance(self, namespace: str, key: str) -> int | None:
        """Quota left for ``key``; None when it has no quota (unlimited)."""

    @abstractmethod
    async def spend(self, namespace: str, key: str, amount: int) -> int | None:
        """Count one request and ``amount`` points used by ``key``, taken from its balance when it has
        one (it may go below zero, as the relay's does after an answer cost more than was left): atomic.
        The balance after (None: unlimited)."""

    @abstractmethod
    async def accounts(self, namespace: str) -> dict[str, Account]:
        """Every key with a quota or a charged request: balance, points used, requests."""

    @abstractmethod
    async def tally(self, namespace: str, window: str, now: float, span: float, weight: int = 0, limit: int | None = None) -> Window:
        """A sliding window of ``span`` seconds at mock time ``now``: add ``weight`` (0: only look),
        unless that would pass ``limit`` while the window holds something (then nothing is added and
        ``allowed`` is False): atomic."""

    @abstractmethod
    async def enter_gate(self, namespace: str, gate: str, limit: int) -> int | None:
        """Take a place in a gate of ``limit``; how many are in it now, or None when it is full: atomic."""

    @abstractmethod
    async def leave_gate(self, namespace: str, gate: str) -> None: ...

    @abstractmethod
    async def in_flight(self, namespace: str) -> dict[str, int]:
        """Gates with anyone in them, and how many."""

    @abstractmethod
    async def add_metrics(self, counts: dict[str, float]) -> None:
        """Add to the store-wide metric counters (each worker and replica adds what it counted)."""

    @abstractmethod
    async def metrics(self) -> dict[str, float]:
        """Every store-wide metric counter."""

    # ---- replay of recordings (serve --replay, cassettes) ----
    @abstractmethod
    async def play_first(self, namespace: str, recordings: list[str]) -> str | None:
        """Mark the first of ``recordings`` not yet played in the namespace as played and answer its name;
        None (and no change) when every one has been: atomic, so each plays once across workers."""

    @abstractmethod
    async def replay_submitted(self, namespace: str, task_id: str, now: float) -> None:
        """A recorded task's submit was replayed at mock time ``now``: its recorded polls start over from there."""

    @abstractmethod
    async def replay_polled(self, namespace: str, task_id: str, now: float) -> tuple[float, int]:
        """Count one poll of a recorded task: atomic. Answers the mock time its submit was replayed
        (``now`` when it was not: this first poll starts it) and how many polls came before this one."""

    # ---- callbacks ----
    @abstractmethod
    async def claim_callbacks(self, wall_now: float, limit: int) -> list[Claim]:
        """Tasks whose callbacks are due, each claimed by this caller for ``CALLBACK_LEASE`` seconds."""

    @abstractmethod
    async def delivered(self, claim: Claim, index: int) -> None:
        """Step ``index`` of the claimed task has been delivered (the next claimant goes on from there)."""

    @abstractmethod
    async def release(self, claim: Claim, next_due: float | None) -> None:
        """Done for now: look again at wall time ``next_due`` (math.inf: when nudged), or never (None).
        A nudge that came in while claimed wins over a later ``next_due``."""

    @abstractmethod
    async def nudge_callbacks(self, namespace: str, task_id: str | None = None) -> None:
        """The task (or every task of the namespace) may have moved: look at its callbacks now."""

    # ---- shared helpers ----
    def new_clock(self) -> Clock:
        from ..clock import Clock

        return Clock(self.clock_mode, self.clock_speed)

    def _nudged(self) -> None:
        for wake in self.on_nudge:
            wake()


def namespace_summary(name: str, last_used: float, tasks: int, rules: int, journal: int, clock: Clock) -> NamespaceInfo:
    return NamespaceInfo(name, last_used, tasks, rules, journal, clock.as_dict())
