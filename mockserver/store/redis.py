"""The Redis store: any number of workers and replicas share one state (``--store redis://HOST:PORT/DB``).

Every operation is one Lua function run atomically by Redis, or one plain command (see
``redis_scripts``), so nothing is ever half written and every count is exact across processes. What is
issued in the same turn of the event loop travels in one write, the operations in one call of the
batch script (``_Batch``): under load many requests share a round trip. ``redis_wire`` is the
connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..clock import Clock
from ..journal import JournalEntry
from ..quota.ledger import Account, Window
from ..quota.limits import Limit, QuotaRules
from ..steering import SHARED, Rule, tried_first
from ..tasks import Task
from . import codec, redis_wire
from .base import CALLBACK_LEASE, Claim, Entered, Limits, NamespaceInfo, Store, StoreUnavailable, namespace_summary
from .redis_scripts import BATCH

PREFIX = "gptnb:"
SHARED_RULES = PREFIX + "shared:rules"
CONNECT_TIMEOUT = 2.0
COMMAND_TIMEOUT = 10.0
IN_FLIGHT = 4  # batches one event loop may have waiting for Redis at once
RULES_CACHED = 1024  # namespaces whose rules and quota rules this process keeps (refreshed when their version changes)
WAIT_FOR_NUDGE = 2**62  # a callback due "never", until something nudges it (exact as a double)
BATCH_SHA = hashlib.sha1(BATCH.encode()).hexdigest()
HEADS_KEPT = 1024  # operations' packed heads kept (see _packed)
Operation = tuple[int, bytes]
"""A script operation as the batch script reads it: how many arguments it takes there, and those, packed."""
_heads: dict[tuple[str, tuple[str, ...], tuple[str, ...], int], bytes] = {}


class _Appends:
    """The calls of one appending operation (same keys and arguments) queued in one turn, sent as one
    with all their large arguments: each caller learns the answer, its own place among them and how many
    there were."""

    def __init__(self) -> None:
        self.blobs: list[bytes] = []
        self.futures: list[asyncio.Future[tuple[Any, int, int]]] = []

    def done(self) -> bool:
        return False

    def set_result(self, result: Any) -> None:
        for place, future in enumerate(self.futures):
            _settle(future, (result, place, len(self.futures)))

    def set_exception(self, error: BaseException) -> None:
        _fail([((), future) for future in self.futures], error)


Waiter = asyncio.Future[Any] | _Appends


class _Batch:
    """One connection of one event loop, and what waits for its next round trip: script operations
    (sent together as one call of the batch script) and plain commands, all written at once."""

    def __init__(self, connection: redis_wire.Connection, where: str) -> None:
        self.connection = connection
        self.where = where
        self.operations: list[tuple[Operation, Waiter]] = []
        self.appends: dict[tuple[str, tuple[str, ...], tuple[str, ...]], _Appends] = {}
        self.commands: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self.scheduled = False
        self.in_flight = 0

    def operation(self, name: str, keys: tuple[str, ...], args: tuple[str, ...], blobs: tuple[bytes, ...]) -> asyncio.Future[Any]:
        return self._wait(self.operations, _packed(name, keys, args, blobs))

    def appending(self, name: str, keys: tuple[str, ...], args: tuple[str, ...], blob: bytes) -> asyncio.Future[tuple[Any, int, int]]:
        """An operation that takes any number of large arguments, its calls in one turn sent as one
        (see ``_Appends``): under load a namespace's journal appends are one operation a round trip."""
        group = self.appends.get((name, keys, args))
        if group is None:
            group = self.appends[(name, keys, args)] = _Appends()
        future: asyncio.Future[tuple[Any, int, int]] = asyncio.get_running_loop().create_future()
        group.blobs.append(blob)
        group.futures.append(future)
        self._schedule()
        return future

    def command(self, command: tuple[Any, ...]) -> asyncio.Future[Any]:
        return self._wait(self.commands, command)

    def _wait(self, queue: list[Any], item: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        queue.append((item, future))
        self._schedule()
        return future

    def _schedule(self) -> None:
        # The flush runs next turn, carrying everything queued by then. A few may be in flight at once,
        # so the loop never sits idle while one batch waits for a busy Redis.
        if not self.scheduled and self.in_flight < IN_FLIGHT and (self.operations or self.appends or self.commands):
            self.scheduled = True
            asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        self.scheduled = False
        operations, self.operations = self.operations, []
        operations += ((_packed(name, keys, args, tuple(group.blobs)), group) for (name, keys, args), group in self.appends.items())
        self.appends = {}
        commands, self.commands = self.commands, []
        self.in_flight += 1
        try:
            await self._send(operations, commands)
        finally:
            self.in_flight -= 1
            self._schedule()

    async def _send(self, operations: list[tuple[Operation, Waiter]], commands: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        packed = [_batch_command([op for op, _ in operations])] if operations else []
        packed += (redis_wire.pack(*command) for command, _ in commands)
        try:
            results = await self.connection.call(b"".join(packed), len(packed))
            if operations and isinstance(results[0], redis_wire.ReplyError) and str(results[0]).startswith("NOSCRIPT"):
                # a restarted Redis forgot the script
                results[0] = (await self.connection.call(redis_wire.pack("SCRIPT", "LOAD", BATCH) + packed[0], 2))[1]
        except redis_wire.Unavailable as exc:
            _fail([*operations, *commands], StoreUnavailable(f"{self.where}: {exc}"))
            return
        except Exception as exc:  # the mock's bug: its callers raise it, none waits forever
            _fail([*operations, *commands], exc)
            return
        if operations:
            answers = results.pop(0)
            if isinstance(answers, redis_wire.ReplyError):
                _fail(operations, self._failure(answers))
            else:
                for (_, future), (ok, *result) in zip(operations, answers):
                    if ok:
                        _settle(future, result[0] if result else None)
                    else:
                        _fail([((), future)], RuntimeError(f"Redis script failed: {result[0].decode(errors='replace')}"))
        for (_, future), result in zip(commands, results):
            if isinstance(result, redis_wire.ReplyError):
                _fail([((), future)], self._failure(result))
            else:
                _settle(future, result)

    def _failure(self, error: Exception) -> Exception:
        # A script that does not compile or run is the mock's bug; anything else (loading, out of
        # memory, a read-only replica) is the store being unusable for now.
        if "script" in str(error).lower():
            return RuntimeError(f"Redis script failed: {error}")
        return StoreUnavailable(f"{self.where}: {error}")


def _settle(future: Waiter, result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(batch: list[tuple[Any, Waiter]], error: BaseException) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)


def _packed(name: str, keys: tuple[str, ...], args: tuple[str, ...], blobs: tuple[bytes, ...]) -> Operation:
    """An operation's part of the batch call: its name, how many keys and arguments it has, then those.
    All but the large arguments repeat from request to request (a namespace's journal appends differ
    only in the entry), so that head is packed once and kept."""
    head_of = (name, keys, args, len(blobs))
    head = _heads.get(head_of)
    if head is None:
        if len(_heads) >= HEADS_KEPT:
            _heads.clear()
        head = _heads[head_of] = redis_wire.bulks(name, len(keys), len(args) + len(blobs), *keys, *args)
    return 3 + len(keys) + len(args) + len(blobs), head + redis_wire.bulks(*blobs) if blobs else head


def _batch_command(operations: list[Operation]) -> bytes:
    """One call of the batch script carrying ``operations``."""
    count = 3 + sum(n for n, _ in operations)
    return b"".join([b"*%d\r\n" % count, redis_wire.bulks("EVALSHA", BATCH_SHA, 0), *(packed for _, packed in operations)])


class RedisStore(Store):
    shared = True

    def __init__(self, url: str, limits: Limits | None = None, clock_mode: str = "real", clock_speed: float = 1.0) -> None:
        super().__init__(limits or Limits(), clock_mode, clock_speed)
        self.url = url
        self.address = redis_wire.Address.parse(url)
        self._batches: dict[asyncio.AbstractEventLoop, _Batch] = {}
        self._rules: OrderedDict[str, tuple[str, list[Rule], QuotaRules]] = OrderedDict()
        self._clocks: dict[str, tuple[list[bytes], Clock]] = {}
        self._marked: dict[str, float] = {}

    def describe(self) -> str:
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host  # never show a password
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    def _batch(self) -> _Batch:
        # A connection belongs to the loop that opened it: requests and callbacks run on different loops.
        loop = asyncio.get_running_loop()
        batch = self._batches.get(loop)
        if batch is None:
            connection = redis_wire.Connection(self.address, CONNECT_TIMEOUT, COMMAND_TIMEOUT)
            batch = self._batches[loop] = _Batch(connection, f"state store {self.describe()} unavailable")
        return batch

    def _run(self, *command: Any) -> asyncio.Future[Any]:
        return self._batch().command(command)

    async def _hash(self, key: str) -> dict[bytes, bytes]:
        return _pairs(await self._run("HGETALL", key))

    def _script(self, name: str, keys: tuple[str, ...], *args: Any, blobs: tuple[bytes, ...] = ()) -> asyncio.Future[Any]:
        """A script operation: ``args`` small values (sent as strings), ``blobs`` large arguments after them."""
        return self._batch().operation(name, keys, tuple(map(str, args)), blobs)

    async def open(self) -> None:
        try:
            (pong,) = await self._batch().connection.call(redis_wire.pack("PING"), 1)
        except redis_wire.Unavailable as exc:
            raise StoreUnavailable(f"cannot reach the state store at {self.describe()}: {exc}") from None
        if isinstance(pong, redis_wire.ReplyError):
            raise StoreUnavailable(f"cannot use the state store at {self.describe()}: {pong}")

    async def close(self) -> None:
        batch = self._batches.pop(asyncio.get_running_loop(), None)
        if batch is not None:
            batch.connection.close()

    @staticmethod
    def _p(namespace: str) -> str:
        return f"{PREFIX}ns:{namespace}:"

    # ---- namespaces ----
    def _mark(self, namespace: str) -> str:
        """The wall time to note as the namespace's last use, or '' when noted within the last second
        (to the second is plenty; noting it on every request would be a write each)."""
        now = time.time()
        if now - self._marked.get(namespace, 0.0) < 1.0:
            return ""
        self._marked[namespace] = now
        return repr(now)

    async def enter(self, namespace: str) -> Entered:
        known = self._rules.get(namespace)
        clock_fields, version, *fresh = await self._script(
            "ENTER", (PREFIX + "namespaces", SHARED_RULES), self._p(namespace), namespace, known[0] if known else "", self._mark(namespace)
        )
        if not clock_fields:
            await self._start_clock(namespace)
            return await self.enter(namespace)  # the clock's start changed the version
        return self._entered(namespace, clock_fields, version.decode(), fresh or None)

    def _entered(self, namespace: str, clock_fields: list[bytes], version: str, fresh: list[Any] | None) -> Entered:
        """The namespace from what a script read; ``fresh`` (its own rules, the shared, the keys with a
        quota, the limits) None when the cached ones are still true."""
        known = self._rules.get(namespace)
        if fresh is not None or known is None or known[0] != version:
            own, shared, keys, limits = fresh or ([], [], [], [])
            parsed = tried_first(codec.rule_from_record(raw, 0) for listed in (own, shared) for raw in _pairs(listed).values())
            quota = QuotaRules(frozenset(key.decode() for key in keys), tuple(codec.limit_from_record(raw) for raw in limits))
            known = self._rules[namespace] = (version, parsed, quota)
            if len(self._rules) > RULES_CACHED:
                self._rules.popitem(last=False)
        return Entered(self._clock(namespace, clock_fields), known[1], version, known[2])

    def _start_clock(self, namespace: str) -> asyncio.Future[Any]:
        """A new namespace's clock, with the instance's mode and speed, and its starting quota (once: a
        clock already there stays, and so does the quota)."""
        start = self.quota_start
        limits = tuple(codec.limit_record(limit) for limit in start.limits)
        balances = tuple(str(x).encode() for pair in start.balances for x in pair)
        return self._script(
            "START_CLOCK", (), self._p(namespace), repr(time.time()), self.clock_mode, repr(self.clock_speed), _version(), len(limits), blobs=(*limits, *balances)
        )

    def _clock(self, namespace: str, fields: list[bytes]) -> Clock:
        cached = self._clocks.get(namespace)
        if cached is not None and cached[0] == fields:
            return cached[1]
        clock = Clock.from_fields({k.decode(): v.decode() for k, v in _pairs(fields).items()})
        if len(self._clocks) > RULES_CACHED:
            self._clocks.clear()
            self._marked.clear()
        self._clocks[namespace] = (fields, clock)
        return clock

    async def namespaces(self) -> list[NamespaceInfo]:
        used = _pairs(await self._run("ZREVRANGE", PREFIX + "namespaces", 0, -1, "WITHSCORES"))
        found = []
        for name, last_used in used.items():
            p = self._p(name.decode())
            tasks, rules, journal, clock = await asyncio.gather(
                self._run("ZCARD", p + "tasks"), self._run("HLEN", p + "rules"), self._run("LLEN", p + "journal"), self._hash(p + "clock")
            )
            shown = Clock.from_fields({k.decode(): v.decode() for k, v in clock.items()}) if clock else self.new_clock()
            found.append(namespace_summary(name.decode(), float(last_used), tasks, rules, min(journal, self.limits.journal_size), shown))
        return found

    async def drop(self, namespace: str) -> bool:
        self._rules.pop(namespace, None)
        self._marked.pop(namespace, None)
        return bool(await self._script("DROP", (PREFIX + "namespaces", PREFIX + "callbacks"), self._p(namespace), namespace))

    # ---- clock ----
    async def set_clock(self, namespace: str, clock: Clock) -> None:
        fields = tuple(str(x if not isinstance(x, float) else repr(x)).encode() for item in clock.fields().items() for x in item)
        await self._script("SET_CLOCK", (), self._p(namespace), _version(), blobs=fields)

    async def advance_clock(self, namespace: str, seconds: float) -> Clock:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        _, fields = await asyncio.gather(self._start_clock(namespace), self._script("ADVANCE_CLOCK", (), self._p(namespace), repr(float(seconds)), _version()))
        await self.nudge_callbacks(namespace)
        return self._clock(namespace, fields)

    # ---- rules ----
    async def add_rule(self, namespace: str, rule: Rule) -> Rule:
        record = codec.rule_record(rule)
        keys = (PREFIX + "namespaces", PREFIX + "ids")
        rule.id = int(await self._script("ADD_RULE", keys, self._p(namespace), namespace, repr(time.time()), _version(), blobs=(record,)))
        return rule

    async def rules(self, namespace: str) -> list[Rule]:
        p = self._p(namespace)
        own, shared, hits = await asyncio.gather(self._hash(p + "rules"), self._hash(SHARED_RULES), self._hash(p + "hits"))
        stored = {**own, **shared}
        return tried_first(codec.rule_from_record(raw, int(hits.get(rule_id, 0))) for rule_id, raw in stored.items())

    async def remove_rule(self, namespace: str, rule_id: int) -> bool:
        return bool(await self._script("REMOVE_RULE", (), self._p(namespace), rule_id, _version()))

    async def replace_rules(self, namespace: str, rules: list[Rule]) -> None:
        own = [rule for rule in rules if rule.layer != SHARED]
        triples = tuple(x for rule in own for x in (str(rule.id).encode(), codec.rule_record(rule), str(rule.hits).encode()))
        await self._script("REPLACE_RULES", (), self._p(namespace), _version(), blobs=triples)

    async def take_rule(self, namespace: str, rule: Rule) -> int:
        return int(await self._script("TAKE_RULE", (SHARED_RULES,), self._p(namespace), rule.id, "" if rule.times is None else rule.times))

    async def replace_shared_rules(self, rules: list[Rule], digest: str) -> bool:
        keys = (PREFIX + "namespaces", SHARED_RULES, PREFIX + "shared:meta", PREFIX + "ids")
        records = tuple(codec.rule_record(rule) for rule in rules)
        replaced, *ids = await self._script("REPLACE_SHARED_RULES", keys, PREFIX + "ns:", digest, _version(), blobs=records)
        for rule, rule_id in zip(rules, ids):
            rule.id = int(rule_id)
        return bool(replaced)

    # ---- journal ----
    async def record(self, namespace: str, entry: JournalEntry) -> None:
        entry.seq = int(await self._script("RECORD", (), self._p(namespace), self.limits.journal_size, blobs=(codec.entry_record(entry),)))

    async def record_unless_changed(self, namespace: str, entry: JournalEntry, version: str) -> Entered | None:
        answer, place, count = await self._batch().appending(
            "RECORD_UNLESS_CHANGED", (PREFIX + "namespaces", SHARED_RULES),
            (self._p(namespace), str(self.limits.journal_size), version, namespace, self._mark(namespace)), codec.entry_record(entry),
        )
        if answer[0]:
            entry.seq = int(answer[1]) - (count - 1 - place)  # the batch's entries are numbered in order
            return None
        _, clock_fields, current, *fresh = answer
        return self._entered(namespace, clock_fields, current.decode(), fresh) if clock_fields else await self.enter(namespace)

    async def journal(self, namespace: str) -> list[JournalEntry]:
        first, records = await self._script("JOURNAL", (), self._p(namespace), self.limits.journal_size)
        return [codec.entry_from_record(raw, seq) for seq, raw in enumerate(records, first)]

    async def clear_journal(self, namespace: str) -> None:
        await self._script("CLEAR_JOURNAL", (), self._p(namespace))

    # ---- tasks ----
    async def create_task(self, namespace: str, task: Task, active_until: float | None, now: float) -> None:
        await self._script(
            "CREATE_TASK",
            (PREFIX + "namespaces", PREFIX + "callbacks"),
            self._p(namespace), namespace, repr(time.time()), task.id, task.family, _score(active_until), repr(now), self.limits.max_tasks,
            "1" if task.callback is not None else "0", blobs=_pairs_of(codec.task_record(task)),
        )
        if task.callback is not None:
            self._nudged()

    async def task(self, namespace: str, task_id: str) -> Task | None:
        record = await self._hash(self._p(namespace) + "t:" + task_id)
        return codec.task_from_record(record) if record else None

    async def tasks(self, namespace: str, family: str | None = None) -> list[Task]:
        p = self._p(namespace)
        ids = await self._run("ZRANGE", p + ("tasks" if family is None else "fam:" + family), 0, -1)
        records = await asyncio.gather(*(self._hash(p + "t:" + task_id.decode()) for task_id in ids))
        return [codec.task_from_record(r) for r in records if r]

    async def poll_task(self, namespace: str, task: Task, now: float, step: bool) -> Task | None:
        seen = await self._script("POLL_TASK", (), self._p(namespace), task.id, repr(now), "1" if step else "0")
        return codec.seen_by_poll(task, _pairs(seen)) if seen else None

    async def replace_task(self, namespace: str, task: Task, active_until: float | None) -> bool:
        read = task.revision
        task.revision += 1
        fields = _pairs_of(codec.changing_fields(task))
        written = await self._script("REPLACE_TASK", (), self._p(namespace), task.id, read, task.family, _score(active_until), blobs=fields)
        if not written:
            task.revision = read
        return bool(written)

    async def running(self, namespace: str, family: str, now: float) -> int:
        return int(await self._script("RUNNING", (), self._p(namespace), family, repr(now)))

    # ---- counters and ids ----
    async def next_id(self, name: str, at_least: int) -> int:
        return int(await self._script("NEXT_ID", (PREFIX + "ids",), name, str(at_least)))

    async def count(self, namespace: str, name: str, limit: int | None = None) -> int | None:
        value = await self._script("COUNT", (), self._p(namespace), name, "" if limit is None else limit)
        return int(value) if value is not None else None

    # ---- quota ----
    # A namespace's quota rules start with it (START_CLOCK): a change is queued after a start, so it
    # never lands on a namespace that has not started yet (its start would then add to the change).
    async def set_balance(self, namespace: str, key: str, amount: int) -> None:
        await asyncio.gather(self._start_clock(namespace), self._script("SET_BALANCE", (), self._p(namespace), key, amount, _version()))

    async def clear_quota(self, namespace: str) -> None:
        await asyncio.gather(self._start_clock(namespace), self._script("CLEAR_QUOTA", (), self._p(namespace), _version()))

    async def add_limit(self, namespace: str, limit: Limit) -> None:
        await asyncio.gather(self._start_clock(namespace), self._script("ADD_LIMIT", (), self._p(namespace), _version(), blobs=(codec.limit_record(limit),)))

    async def clear_limits(self, namespace: str) -> None:
        await asyncio.gather(self._start_clock(namespace), self._script("CLEAR_LIMITS", (), self._p(namespace), _version()))

    async def balance(self, namespace: str, key: str) -> int | None:
        found = await self._run("HGET", self._p(namespace) + "balances", key)
        return int(found) if found is not None else None

    async def spend(self, namespace: str, key: str, amount: int) -> int | None:
        left = await self._script("SPEND", (), self._p(namespace), key, amount)
        return int(left) if left is not None else None

    async def accounts(self, namespace: str) -> dict[str, Account]:
        p = self._p(namespace)
        keys, balances, used, requests = await asyncio.gather(
            self._run("SMEMBERS", p + "quota_keys"), self._hash(p + "balances"), self._hash(p + "used"), self._hash(p + "requests")
        )
        found = {}
        for key in sorted({*keys, *balances, *used}):
            balance = balances.get(key)
            found[key.decode()] = Account(int(balance) if balance is not None else None, int(used.get(key, 0)), int(requests.get(key, 0)))
        return found

    async def tally(self, namespace: str, window: str, now: float, span: float, weight: int = 0, limit: int | None = None) -> Window:
        added, used, oldest = await self._script("TALLY", (), self._p(namespace), window, repr(now), repr(now - span), weight, "" if limit is None else limit)
        frees_in = max(float(oldest) + span - now, 0.0) if oldest else 0.0
        return Window(int(used), frees_in, allowed=bool(added))

    async def enter_gate(self, namespace: str, gate: str, limit: int) -> int | None:
        inside = await self._script("ENTER_GATE", (), self._p(namespace), gate, limit)
        return int(inside) if inside is not None else None

    async def leave_gate(self, namespace: str, gate: str) -> None:
        await self._script("LEAVE_GATE", (), self._p(namespace), gate)

    async def in_flight(self, namespace: str) -> dict[str, int]:
        gates = await self._hash(self._p(namespace) + "gates")
        return {gate.decode(): int(count) for gate, count in gates.items() if int(count)}

    async def add_metrics(self, counts: dict[str, float]) -> None:
        pairs = tuple(x for name, value in counts.items() for x in (name.encode(), repr(value).encode()))
        await self._script("ADD_METRICS", (PREFIX + "metrics",), blobs=pairs)

    async def metrics(self) -> dict[str, float]:
        return {name.decode(): float(value) for name, value in (await self._hash(PREFIX + "metrics")).items()}

    # ---- replay ----
    async def play_first(self, namespace: str, recordings: list[str]) -> str | None:
        name = await self._script("PLAY_FIRST", (), self._p(namespace), blobs=tuple(r.encode() for r in recordings))
        return name.decode() if name is not None else None

    async def replay_submitted(self, namespace: str, task_id: str, now: float) -> None:
        await self._script("REPLAY_SUBMITTED", (), self._p(namespace), task_id, repr(now))

    async def replay_polled(self, namespace: str, task_id: str, now: float) -> tuple[float, int]:
        started, _, polls = (await self._script("REPLAY_POLLED", (), self._p(namespace), task_id, repr(now))).decode().partition(" ")
        return float(started), int(polls)

    # ---- callbacks ----
    async def claim_callbacks(self, wall_now: float, limit: int) -> list[Claim]:
        now_ms = int(wall_now * 1000)
        token = now_ms + int(CALLBACK_LEASE * 1000)
        claimed = await self._script("CLAIM_CALLBACKS", (PREFIX + "callbacks",), PREFIX + "ns:", now_ms, token, limit)
        claims = []
        for member, delivered in zip(claimed[::2], claimed[1::2]):
            namespace, _, task_id = member.decode().partition("\n")
            claims.append(Claim(namespace, task_id, token, int(delivered)))
        return claims

    async def delivered(self, claim: Claim, index: int) -> None:
        await self._script("DELIVERED", (), self._p(claim.namespace) + "t:" + claim.task_id, index)

    async def release(self, claim: Claim, next_due: float | None) -> None:
        look = "" if next_due is None else WAIT_FOR_NUDGE if math.isinf(next_due) else int(next_due * 1000)
        member = f"{claim.namespace}\n{claim.task_id}"
        await self._script("RELEASE", (PREFIX + "callbacks",), member, claim.token, look, self._p(claim.namespace), claim.task_id)

    async def nudge_callbacks(self, namespace: str, task_id: str | None = None) -> None:
        await self._script("NUDGE", (PREFIX + "callbacks",), self._p(namespace), namespace, int(time.time() * 1000), task_id or "")
        self._nudged()


def _version() -> str:
    """A namespace's new version: random, so it never repeats one from before a drop or a restart."""
    return secrets.token_hex(8)


def _pairs_of(record: dict[str, bytes | str | int]) -> tuple[bytes, ...]:
    """A record's field / value pairs as script arguments."""
    return tuple(x if isinstance(x, bytes) else str(x).encode() for item in record.items() for x in item)


def _pairs(flat: list[Any]) -> dict[Any, Any]:
    """An HGETALL (a flat list) as a dict."""
    return dict(zip(flat[::2], flat[1::2]))


def _score(until: float | None) -> str:
    """An active-until time as a sorted-set score; '' when the task has ended."""
    if until is None:
        return ""
    return "inf" if math.isinf(until) else repr(until)
