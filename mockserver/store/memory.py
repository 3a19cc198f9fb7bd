"""The in-memory store: one process, nothing to install. The default of ``gptnb-mock serve`` and of the
``gptnb`` fixture.

One lock guards everything: sync clients reach the app from the fixture's bridge thread while tests
read from theirs, and callbacks are delivered from a thread of their own. No method ever awaits, so
the fixture can also drive these coroutines without an event loop (``run_sync``).
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..clock import Clock
from ..journal import JournalEntry
from ..quota.ledger import Account, Window
from ..quota.limits import Limit, QuotaRules
from ..steering import SHARED, Rule, tried_first
from ..tasks import Task
from . import codec
from .base import CALLBACK_LEASE, Claim, Entered, Limits, NamespaceInfo, Store, namespace_summary

T = TypeVar("T")
WAIT_FOR_NUDGE = 2**62  # due "never", until something nudges the task
EVICTION_WINDOW = 64  # oldest tasks looked at per eviction, so a submit never scans the whole store


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a MemoryStore coroutine to its end from plain code: it never waits, so one step finishes it."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("this store call waited for something; only the in-memory store can be used from sync code")


@dataclass
class _Space:
    clock: Clock
    journal: deque[JournalEntry]
    last_used: float = field(default_factory=time.time)
    rules: list[Rule] = field(default_factory=list)
    """The namespace's own rules."""
    tried: list[Rule] = field(default_factory=list)
    """Its own and the shared rules, in the order they are tried (a new list whenever either changes)."""
    hits: dict[int, int] = field(default_factory=dict)
    """Uses of each rule (own and shared) in this namespace."""
    journal_seq: int = 0
    tasks: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)
    active: dict[str, dict[str, float]] = field(default_factory=dict)
    """family -> task id -> mock time it stops running."""
    ending: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    """family -> heap of those times, so counting costs the tasks that ended since, not all of them."""
    counters: dict[str, int] = field(default_factory=dict)
    followed: set[str] = field(default_factory=set)
    """Tasks whose callbacks are not all delivered."""
    quota: QuotaRules = QuotaRules()
    accounts: dict[str, Account] = field(default_factory=dict)
    windows: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)
    """Rate windows: (mock time, weight) oldest first."""
    gates: dict[str, int] = field(default_factory=dict)
    played: set[str] = field(default_factory=set)
    """Recordings replayed in this namespace."""
    replayed_tasks: dict[str, tuple[float, int]] = field(default_factory=dict)
    """Recorded task id -> (mock time its submit was replayed, polls since)."""
    version: str = field(default_factory=lambda: secrets.token_hex(8))

    def changed(self) -> None:
        self.version = secrets.token_hex(8)

    def append(self, entry: JournalEntry) -> None:
        self.journal_seq += 1
        entry.seq = self.journal_seq
        self.journal.append(entry)


class MemoryStore(Store):
    def __init__(self, limits: Limits | None = None, clock_mode: str = "real", clock_speed: float = 1.0) -> None:
        super().__init__(limits or Limits(), clock_mode, clock_speed)
        self._lock = threading.Lock()
        self._spaces: dict[str, _Space] = {}
        self._ids: dict[str, int] = {}
        self._rule_ids = itertools.count(1)
        self._shared: list[Rule] = []
        self._shared_digest = ""
        self._metrics: dict[str, float] = {}
        self._due_at: dict[tuple[str, str], int] = {}
        self._due_heap: list[tuple[int, str, str]] = []
        self._leases: dict[tuple[str, str], int] = {}
        self._nudged_while_claimed: set[tuple[str, str]] = set()

    def _space(self, namespace: str) -> _Space:
        space = self._spaces.get(namespace)
        if space is None:
            start = self.quota_start
            space = self._spaces[namespace] = _Space(self.new_clock(), deque(maxlen=self.limits.journal_size), quota=start.rules)
            space.accounts = {key: Account(amount) for key, amount in start.balances}
            self._rules_changed(space)
        return space

    def _rules_changed(self, space: _Space) -> None:
        space.tried = tried_first([*space.rules, *self._shared])
        space.changed()

    # ---- namespaces ----
    async def enter(self, namespace: str) -> Entered:
        space = self._spaces.get(namespace)
        if space is None:
            with self._lock:
                space = self._space(namespace)
        space.last_used = time.time()
        return Entered(space.clock, space.tried, space.version, space.quota)  # rules are replaced, never changed in place

    async def namespaces(self) -> list[NamespaceInfo]:
        with self._lock:
            found = [namespace_summary(name, s.last_used, len(s.tasks), len(s.rules), len(s.journal), s.clock) for name, s in self._spaces.items()]
        return sorted(found, key=lambda info: -info.last_used)

    async def drop(self, namespace: str) -> bool:
        with self._lock:
            space = self._spaces.pop(namespace, None)
            if space is None:
                return False
            for task_id in space.followed:
                self._forget_callbacks((namespace, task_id))
            return True

    # ---- clock ----
    async def set_clock(self, namespace: str, clock: Clock) -> None:
        with self._lock:
            space = self._space(namespace)
            space.clock = clock
            space.changed()

    async def advance_clock(self, namespace: str, seconds: float) -> Clock:
        with self._lock:
            space = self._space(namespace)
            clock = space.clock
            clock.advance(seconds)
            space.changed()
        await self.nudge_callbacks(namespace)
        return clock

    # ---- rules ----
    async def add_rule(self, namespace: str, rule: Rule) -> Rule:
        with self._lock:
            space = self._space(namespace)
            rule.id = next(self._rule_ids)
            space.rules = [*space.rules, rule]
            space.hits[rule.id] = 0
            self._rules_changed(space)
            space.last_used = time.time()
        return rule

    async def rules(self, namespace: str) -> list[Rule]:
        with self._lock:
            space = self._space(namespace)
            return [dataclasses.replace(r, hits=space.hits.get(r.id, 0)) for r in space.tried]

    async def remove_rule(self, namespace: str, rule_id: int) -> bool:
        with self._lock:
            space = self._space(namespace)
            kept = [r for r in space.rules if r.id != rule_id]
            removed, space.rules = len(kept) != len(space.rules), kept
            if removed:
                space.hits.pop(rule_id, None)
                self._rules_changed(space)
            return removed

    async def replace_rules(self, namespace: str, rules: list[Rule]) -> None:
        with self._lock:
            space = self._space(namespace)
            for old in space.rules:
                space.hits.pop(old.id, None)
            space.rules = [r for r in rules if r.layer != SHARED]
            for rule in space.rules:
                space.hits[rule.id] = rule.hits
            self._rules_changed(space)

    async def take_rule(self, namespace: str, rule: Rule) -> int:
        with self._lock:
            space = self._space(namespace)
            used = space.hits.get(rule.id)
            kept = used is not None if rule.layer != SHARED else any(r.id == rule.id for r in self._shared)
            used = used or 0
            if not kept or (rule.times is not None and used >= rule.times):
                return 0
            space.hits[rule.id] = used + 1
            return used + 1

    async def replace_shared_rules(self, rules: list[Rule], digest: str) -> bool:
        with self._lock:
            if digest == self._shared_digest:
                return False
            gone = [r.id for r in self._shared]
            for rule in rules:
                rule.id = next(self._rule_ids)
            self._shared, self._shared_digest = list(rules), digest
            for space in self._spaces.values():
                for rule_id in gone:
                    space.hits.pop(rule_id, None)
                self._rules_changed(space)
            return True

    # ---- journal ----
    async def record(self, namespace: str, entry: JournalEntry) -> None:
        with self._lock:
            self._space(namespace).append(entry)

    async def record_unless_changed(self, namespace: str, entry: JournalEntry, version: str) -> Entered | None:
        with self._lock:
            space = self._spaces.get(namespace)
            if space is not None and space.version == version:
                space.append(entry)
                space.last_used = time.time()
                return None
        return await self.enter(namespace)

    async def journal(self, namespace: str) -> list[JournalEntry]:
        with self._lock:
            return list(self._space(namespace).journal)

    async def clear_journal(self, namespace: str) -> None:
        with self._lock:
            self._space(namespace).journal.clear()

    # ---- tasks ----
    async def create_task(self, namespace: str, task: Task, active_until: float | None, now: float) -> None:
        record = codec.task_record(task)
        with self._lock:
            space = self._space(namespace)
            space.tasks[task.id] = record
            self._track(space, task.family, task.id, active_until)
            if task.callback is not None:
                space.followed.add(task.id)
                self._schedule(namespace, task.id, 0)
            if len(space.tasks) > self.limits.max_tasks:
                self._evict(namespace, space, now)
        if task.callback is not None:
            self._nudged()

    def _evict(self, namespace: str, space: _Space, now: float) -> None:
        excess = len(space.tasks) - self.limits.max_tasks
        for task_id in list(itertools.islice(space.tasks, excess + EVICTION_WINDOW)):
            if excess <= 0:
                break
            family = space.tasks[task_id]["family"]
            if space.active.get(family, {}).get(task_id, -math.inf) <= now:
                del space.tasks[task_id]
                space.active.get(family, {}).pop(task_id, None)
                space.followed.discard(task_id)
                self._forget_callbacks((namespace, task_id))
                excess -= 1

    async def task(self, namespace: str, task_id: str) -> Task | None:
        with self._lock:
            record = self._space(namespace).tasks.get(task_id)
            record = dict(record) if record is not None else None
        return codec.task_from_record(record) if record is not None else None

    async def tasks(self, namespace: str, family: str | None = None) -> list[Task]:
        with self._lock:
            records = [dict(r) for r in self._space(namespace).tasks.values() if family is None or r["family"] == family]
        return [codec.task_from_record(r) for r in records]

    async def poll_task(self, namespace: str, task: Task, now: float, step: bool) -> Task | None:
        task_id = task.id
        with self._lock:
            space = self._space(namespace)
            record = space.tasks.get(task_id)
            if record is None:
                return None
            record["polls"] += 1
            entered = record["entered"]
            # What seen_by_poll reads: the two fields a poll may change, or the whole record if rewritten.
            seen = {"revision": record["revision"], "polls": record["polls"], "entered": entered} if record["revision"] == task.revision else dict(record)
            reached = entered.count(",") + 1 if entered else 0
            if step and reached < record["nsteps"]:
                record["entered"] = f"{entered},{now!r}" if entered else repr(now)
                if reached + 1 == record["nsteps"]:
                    space.active.get(record["family"], {}).pop(task_id, None)
        return codec.seen_by_poll(task, seen)

    async def replace_task(self, namespace: str, task: Task, active_until: float | None) -> bool:
        with self._lock:
            space = self._space(namespace)
            record = space.tasks.get(task.id)
            if record is None or record["revision"] != task.revision:
                return False
            task.revision += 1
            record.update(codec.changing_fields(task))
            self._track(space, task.family, task.id, active_until)
            return True

    def _track(self, space: _Space, family: str, task_id: str, until: float | None) -> None:
        active = space.active.setdefault(family, {})
        if until is None:
            active.pop(task_id, None)
            return
        active[task_id] = until
        heapq.heappush(space.ending.setdefault(family, []), (until, task_id))

    async def running(self, namespace: str, family: str, now: float) -> int:
        with self._lock:
            space = self._space(namespace)
            active, ending = space.active.get(family, {}), space.ending.get(family, [])
            while ending and ending[0][0] <= now:
                until, task_id = heapq.heappop(ending)
                if active.get(task_id) == until:  # not re-planned since (resume, finish)
                    del active[task_id]
            return len(active)

    # ---- counters and ids ----
    async def next_id(self, name: str, at_least: int) -> int:
        with self._lock:
            value = self._ids[name] = max(at_least, self._ids.get(name, 0) + 1)
            return value

    async def count(self, namespace: str, name: str, limit: int | None = None) -> int | None:
        with self._lock:
            counters = self._space(namespace).counters
            value = counters.get(name, 0) + 1
            if limit is not None and value > limit:
                return None
            counters[name] = value
            return value

    # ---- quota ----
    async def set_balance(self, namespace: str, key: str, amount: int) -> None:
        with self._lock:
            space = self._space(namespace)
            space.accounts.setdefault(key, Account(None)).balance = amount
            if key not in space.quota.keys:
                space.quota = QuotaRules(space.quota.keys | {key}, space.quota.limits)
                space.changed()

    async def clear_quota(self, namespace: str) -> None:
        with self._lock:
            space = self._space(namespace)
            space.accounts = {}
            space.quota = QuotaRules(frozenset(), space.quota.limits)
            space.changed()

    async def add_limit(self, namespace: str, limit: Limit) -> None:
        with self._lock:
            space = self._space(namespace)
            space.quota = QuotaRules(space.quota.keys, (*space.quota.limits, limit))
            space.changed()

    async def clear_limits(self, namespace: str) -> None:
        with self._lock:
            space = self._space(namespace)
            space.windows = {}
            space.quota = QuotaRules(space.quota.keys, ())
            space.changed()

    async def balance(self, namespace: str, key: str) -> int | None:
        with self._lock:
            account = self._space(namespace).accounts.get(key)
            return account.balance if account is not None else None

    async def spend(self, namespace: str, key: str, amount: int) -> int | None:
        with self._lock:
            account = self._space(namespace).accounts.setdefault(key, Account(None))
            account.used += amount
            account.requests += 1
            if account.balance is not None:
                account.balance -= amount
            return account.balance

    async def accounts(self, namespace: str) -> dict[str, Account]:
        with self._lock:
            return {key: Account(a.balance, a.used, a.requests) for key, a in self._space(namespace).accounts.items()}

    async def tally(self, namespace: str, window: str, now: float, span: float, weight: int = 0, limit: int | None = None) -> Window:
        with self._lock:
            entries = self._space(namespace).windows.setdefault(window, deque())
            while entries and entries[0][0] <= now - span:  # what left the window
                entries.popleft()
            used = sum(w for _, w in entries)
            if limit is not None and used + weight > limit and used > 0:
                return Window(used, _frees_in(entries, now, span), allowed=False)
            if weight:
                entries.append((now, weight))
            return Window(used + weight, _frees_in(entries, now, span))

    async def enter_gate(self, namespace: str, gate: str, limit: int) -> int | None:
        with self._lock:
            gates = self._space(namespace).gates
            if gates.get(gate, 0) >= limit:
                return None
            gates[gate] = gates.get(gate, 0) + 1
            return gates[gate]

    async def leave_gate(self, namespace: str, gate: str) -> None:
        with self._lock:
            gates = self._space(namespace).gates
            if gates.get(gate, 0) > 0:
                gates[gate] -= 1

    async def in_flight(self, namespace: str) -> dict[str, int]:
        with self._lock:
            return {gate: count for gate, count in self._space(namespace).gates.items() if count}

    async def add_metrics(self, counts: dict[str, float]) -> None:
        with self._lock:
            for name, value in counts.items():
                self._metrics[name] = self._metrics.get(name, 0.0) + value

    async def metrics(self) -> dict[str, float]:
        with self._lock:
            return dict(self._metrics)

    # ---- replay ----
    async def play_first(self, namespace: str, recordings: list[str]) -> str | None:
        with self._lock:
            played = self._space(namespace).played
            name = next((r for r in recordings if r not in played), None)
            if name is not None:
                played.add(name)
            return name

    async def replay_submitted(self, namespace: str, task_id: str, now: float) -> None:
        with self._lock:
            self._space(namespace).replayed_tasks[task_id] = (now, 0)

    async def replay_polled(self, namespace: str, task_id: str, now: float) -> tuple[float, int]:
        with self._lock:
            tasks = self._space(namespace).replayed_tasks
            started, polls = tasks.get(task_id, (now, 0))
            tasks[task_id] = (started, polls + 1)
            return started, polls

    # ---- callbacks ----
    def _forget_callbacks(self, key: tuple[str, str]) -> None:
        self._due_at.pop(key, None)
        self._leases.pop(key, None)
        self._nudged_while_claimed.discard(key)

    def _schedule(self, namespace: str, task_id: str, due_ms: int) -> None:
        self._due_at[(namespace, task_id)] = due_ms
        heapq.heappush(self._due_heap, (due_ms, namespace, task_id))

    async def claim_callbacks(self, wall_now: float, limit: int) -> list[Claim]:
        now_ms = int(wall_now * 1000)
        token = now_ms + int(CALLBACK_LEASE * 1000)
        claims = []
        with self._lock:
            heap = self._due_heap
            while heap and heap[0][0] <= now_ms and len(claims) < limit:
                due_ms, namespace, task_id = heapq.heappop(heap)
                key = (namespace, task_id)
                if self._due_at.get(key) != due_ms:
                    continue  # rescheduled since: a newer heap entry stands for it
                record = self._spaces[namespace].tasks.get(task_id) if namespace in self._spaces else None
                lease = self._leases.get(key, 0)
                if record is None:
                    self._forget_callbacks(key)
                elif lease > now_ms:  # another claimant's: it looks again when it lets go
                    self._nudged_while_claimed.add(key)
                    self._schedule(namespace, task_id, lease)
                else:
                    self._leases[key] = token
                    self._schedule(namespace, task_id, token)
                    claims.append(Claim(namespace, task_id, token, record["delivered"]))
        return claims

    async def delivered(self, claim: Claim, index: int) -> None:
        with self._lock:
            space = self._spaces.get(claim.namespace)
            record = space.tasks.get(claim.task_id) if space else None
            if record is not None:
                record["delivered"] = index

    async def release(self, claim: Claim, next_due: float | None) -> None:
        key = (claim.namespace, claim.task_id)
        with self._lock:
            if self._leases.get(key) != claim.token:
                return  # the lease ran out and another claimant took over
            del self._leases[key]
            nudged = key in self._nudged_while_claimed or self._due_at.get(key) != claim.token
            self._nudged_while_claimed.discard(key)
            if nudged:
                self._schedule(*key, 0)
            elif next_due is None:
                self._forget_callbacks(key)
                space = self._spaces.get(claim.namespace)
                if space is not None:
                    space.followed.discard(claim.task_id)
            else:
                self._schedule(*key, WAIT_FOR_NUDGE if math.isinf(next_due) else int(next_due * 1000))

    async def nudge_callbacks(self, namespace: str, task_id: str | None = None) -> None:
        now_ms = int(time.time() * 1000)
        with self._lock:
            space = self._space(namespace)
            if task_id is not None:
                space.followed.add(task_id)
            for followed in [task_id] if task_id is not None else list(space.followed):
                if self._due_at.get((namespace, followed), WAIT_FOR_NUDGE) > now_ms:
                    self._schedule(namespace, followed, now_ms)
        self._nudged()


def _frees_in(entries: deque[tuple[float, int]], now: float, span: float) -> float:
    return max(entries[0][0] + span - now, 0.0) if entries else 0.0
