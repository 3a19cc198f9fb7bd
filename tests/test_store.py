"""The store interface, held to the same behaviour by the in-memory store and the Redis store."""

from __future__ import annotations

import asyncio
import math
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from mockserver.clock import Clock
from mockserver.faults.callback_faults import CallbackFault
from mockserver.journal import JournalEntry
from mockserver.quota.limits import Limit, QuotaStart
from mockserver.steering import FILES, SHARED, Rule, parse_scenario, rule_from_json, rule_to_json
from mockserver.store import Limits, MemoryStore, Store, StoreUnavailable, run_sync, storable
from mockserver.store.redis import RedisStore
from mockserver.tasks import CallbackPlan, Rendering, Step, Task

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Store:
    limits = Limits(journal_size=3, max_tasks=100)
    if request.param == "memory":
        return MemoryStore(limits, "manual")
    return RedisStore(request.getfixturevalue("redis_url"), limits, "manual")


@storable
@dataclass(frozen=True)
class Picture:
    width: int
    label: str


def a_rule(**fields: object) -> Rule:
    return rule_from_json({"status": 503, **fields})


def a_task(task_id: str = "t1", callback: bool = False) -> Task:
    return Task(
        task_id, "demo", "RENDER", {"prompt": "p", "seed": 2**60 + 1}, (Step("queued", 0.0), Step("done", 1.0, 100)), created_at=1000.0,
        data={"picture": Picture(512, "cat"), "size": (1, 2)}, callback_url="http://127.0.0.1:9/hook" if callback else None,
        render=Rendering("mockserver.admin:task_summary", ("https://x",)),
        callback=CallbackPlan("demo.contract") if callback else None,
    )


async def test_a_namespace_starts_with_the_default_clock_and_no_rules(store: Store) -> None:
    entered = await store.enter("fresh")
    assert entered.clock.mode == "manual" and entered.rules == []
    assert [info.name for info in await store.namespaces()] == ["fresh"]


async def test_rules_match_newest_first_and_times_count_exactly_once(store: Store) -> None:
    first = await store.add_rule("ns", a_rule(contract="openai.*", status=500))
    limited = await store.add_rule("ns", a_rule(contract="openai.*", status=429, times=3))
    rules = (await store.enter("ns")).rules
    assert [r.id for r in rules] == [limited.id, first.id]
    taken = await asyncio.gather(*(store.take_rule("ns", rules[0]) for _ in range(10)))
    assert sorted(taken) == [0] * 7 + [1, 2, 3]  # each use knows which it is: ordered replies follow it
    assert [r.hits for r in await store.rules("ns")] == [3, 0]
    assert await store.remove_rule("ns", limited.id) and not await store.take_rule("ns", rules[0])
    await store.replace_rules("ns", [])
    assert (await store.enter("ns")).rules == []


async def test_a_rule_comes_back_as_it_was_added(store: Store) -> None:
    spec = {
        "name": "refunds", "contract": ["openai.chat.*", "claude.*"], "match": {"user_message": "/refund/i", "sequence_index": 1},
        "replies": [{"content": "first"}, {"error": {"message": "later", "code": "busy"}, "status": 429}],
        "priority": 2, "delay_ms": 5, "stream": {"ttft": 100, "tps": 20, "jitter": 0.1}, "times": 4,
    }
    added = rule_from_json(spec, "replies.yaml: rules[3]")
    added.layer, added.notes, added.contracts = FILES, ("a note",), frozenset({"openai.chat.completions"})
    await store.add_rule("ns", added)
    (back,) = (await store.enter("ns")).rules
    assert back.as_dict() == {**added.as_dict(), "hits": 0}
    assert (back.layer, back.contracts, back.match.sequence_index) == (FILES, frozenset({"openai.chat.completions"}), 1)


async def test_rules_are_tried_by_priority_then_added_newest_first_then_from_files_as_loaded(store: Store) -> None:
    old = await store.add_rule("ns", a_rule())
    files = []
    for _ in range(2):
        rule = a_rule()
        rule.layer = FILES
        files.append(await store.add_rule("ns", rule))
    new = await store.add_rule("ns", a_rule())
    urgent = await store.add_rule("ns", a_rule(priority=1))
    assert [r.id for r in (await store.enter("ns")).rules] == [urgent.id, new.id, old.id, files[0].id, files[1].id]


async def test_shared_rules_are_in_every_namespace_each_counting_its_own_uses(store: Store) -> None:
    own = await store.add_rule("a", a_rule())
    shared = [a_rule(times=1), a_rule()]
    for rule in shared:
        rule.layer = SHARED
    assert await store.replace_shared_rules(shared, "digest-1")
    a, b = await store.enter("a"), await store.enter("b")
    assert [r.id for r in a.rules] == [own.id, shared[0].id, shared[1].id] and [r.id for r in b.rules] == [shared[0].id, shared[1].id]
    assert await store.take_rule("a", shared[0]) == 1 and await store.take_rule("a", shared[0]) == 0  # times holds per namespace
    assert await store.take_rule("b", shared[0]) == 1
    assert not await store.remove_rule("a", shared[0].id)  # not the namespace's to remove
    await store.replace_rules("a", await store.rules("a"))  # a rollback leaves them shared, not copied
    assert [r.layer for r in await store.rules("a")] == [0, SHARED, SHARED] and len((await store.enter("a")).rules) == 3

    assert not await store.replace_shared_rules([a_rule()], "digest-1")  # the same files, loaded by another worker
    assert (await store.enter("a")).version == (await store.enter("a")).version
    before = (await store.enter("b")).version
    replaced = a_rule()
    replaced.layer = SHARED
    assert await store.replace_shared_rules([replaced], "digest-2")
    after = await store.enter("b")
    assert after.version != before and [r.id for r in after.rules] == [replaced.id] and replaced.id not in (own.id, shared[0].id, shared[1].id)
    assert not await store.take_rule("b", shared[0])  # gone with its files


async def test_metric_counters_add_up_across_callers(store: Store) -> None:
    await asyncio.gather(store.add_metrics({"a": 1.0, "b": 0.25}), store.add_metrics({"a": 2.0}))
    assert await store.metrics() == {"a": 3.0, "b": 0.25}


async def test_rules_are_per_namespace(store: Store) -> None:
    await store.add_rule("a", a_rule())
    assert (await store.enter("b")).rules == [] and len((await store.enter("a")).rules) == 1


async def test_the_journal_is_a_numbered_ring(store: Store) -> None:
    for i in range(5):
        await store.record("ns", JournalEntry(0, 1.0, "POST", "/v1/x", "c", {}, {"i": i}, status=200, response={"ok": True}))
    entries = await store.journal("ns")
    assert [(e.seq, e.body["i"]) for e in entries] == [(3, 2), (4, 3), (5, 4)]
    assert entries[0].response == {"ok": True} and await store.journal("other") == []
    await store.clear_journal("ns")
    assert await store.journal("ns") == []


async def test_an_entry_is_recorded_only_while_the_namespace_is_as_it_was_read(store: Store) -> None:
    seen = await store.enter("ns")
    assert await store.record_unless_changed("ns", JournalEntry(0, 1.0, "GET", "/a", None, {}, None), seen.version) is None
    rule = await store.add_rule("ns", a_rule())
    now = await store.record_unless_changed("ns", JournalEntry(0, 1.0, "GET", "/b", None, {}, None), seen.version)
    assert now is not None and now.version != seen.version and [r.id for r in now.rules] == [rule.id]
    await store.advance_clock("ns", 5)
    assert (await store.enter("ns")).version != now.version  # the clock moving changes it too
    assert [e.path for e in await store.journal("ns")] == ["/a"]


async def test_entries_recorded_at_once_are_numbered_in_order_and_none_for_a_changed_namespace(store: Store) -> None:
    seen, stale = await store.enter("ns"), await store.enter("other")
    await store.add_rule("other", a_rule())
    mine = [JournalEntry(0, 1.0, "GET", f"/a{i}", None, {}, None) for i in range(5)]
    theirs = [JournalEntry(0, 1.0, "GET", f"/b{i}", None, {}, None) for i in range(2)]
    answers = await asyncio.gather(
        *(store.record_unless_changed("ns", e, seen.version) for e in mine), *(store.record_unless_changed("other", e, stale.version) for e in theirs)
    )
    assert answers[:5] == [None] * 5 and all(answer is not None and answer.version != stale.version for answer in answers[5:])
    assert [e.seq for e in mine] == [1, 2, 3, 4, 5]
    assert [(e.seq, e.path) for e in await store.journal("ns")] == [(3, "/a2"), (4, "/a3"), (5, "/a4")]  # the newest 3
    assert await store.journal("other") == []


async def test_a_task_comes_back_as_it_was_stored(store: Store) -> None:
    task = a_task(callback=True)
    await store.create_task("ns", task, 1001.0, 1000.0)
    back = await store.task("ns", "t1")
    assert back is not task and back.params == task.params and back.callback == task.callback and back.render == task.render
    assert back.data == {"picture": Picture(512, "cat"), "size": [1, 2]}  # tuples come back as lists
    assert await store.task("other", "t1") is None


async def test_a_stale_rewrite_is_refused(store: Store) -> None:
    await store.create_task("ns", a_task(), 1001.0, 1000.0)
    first, second = await store.task("ns", "t1"), await store.task("ns", "t1")
    first.fail_reason = "one"
    assert await store.replace_task("ns", first, 1001.0)
    second.fail_reason = "two"
    assert not await store.replace_task("ns", second, 1001.0)
    assert (await store.task("ns", "t1")).fail_reason == "one"


async def test_ids_only_grow_even_past_two_to_the_53(store: Store) -> None:
    big = 2**62 + 1
    assert await store.next_id("n", big) == big
    assert await store.next_id("n", 5) == big + 1
    assert await store.next_id("other", 5) == 5


async def test_counters_stop_at_their_limit(store: Store) -> None:
    counted = await asyncio.gather(*(store.count("ns", "k", 2) for _ in range(5)))
    assert sorted(counted, key=lambda v: v or 0) == [None, None, None, 1, 2]


async def test_each_recording_plays_once_per_namespace(store: Store) -> None:
    names = ["0001-x.json", "0002-x.json", "0003-x.json"]
    played = await asyncio.gather(*(store.play_first("ns", names) for _ in range(5)))
    assert sorted(played, key=lambda v: v or "") == [None, None, *names]  # each once, however many ask at once
    assert await store.play_first("other", names[1:]) == "0002-x.json"
    assert await store.play_first("ns", ["0004-x.json"]) == "0004-x.json"


async def test_a_replayed_task_counts_its_polls_from_its_submit(store: Store) -> None:
    assert await store.replay_polled("ns", "t1", 10.5) == (10.5, 0)  # polled before any submit: this poll starts it
    assert await store.replay_polled("ns", "t1", 11.0) == (10.5, 1)
    await store.replay_submitted("ns", "t1", 20.25)
    polls = await asyncio.gather(*(store.replay_polled("ns", "t1", 30.0) for _ in range(4)))
    assert sorted(polls) == [(20.25, 0), (20.25, 1), (20.25, 2), (20.25, 3)]
    assert await store.replay_polled("other", "t1", 40.0) == (40.0, 0)


async def test_callbacks_are_claimed_once_and_come_back_when_nudged(store: Store) -> None:
    await store.create_task("ns", a_task(callback=True), 1001.0, 1000.0)
    now = 2_000_000_000.0
    claims = await store.claim_callbacks(now, 10)
    assert [(c.namespace, c.task_id, c.delivered) for c in claims] == [("ns", "t1", -1)]
    assert await store.claim_callbacks(now, 10) == []  # held by the first claimant
    await store.delivered(claims[0], 0)
    await store.release(claims[0], math.inf)  # wait for a nudge
    assert await store.claim_callbacks(now + 1000, 10) == []
    await store.nudge_callbacks("ns")
    again = await store.claim_callbacks(now + 1000, 10)
    assert [(c.task_id, c.delivered) for c in again] == [("t1", 0)]
    await store.release(again[0], None)
    await store.nudge_callbacks("ns")
    assert await store.claim_callbacks(now + 2000, 10) == []


async def test_a_nudge_while_claimed_waits_for_the_claimant_then_wins_over_its_release(store: Store) -> None:
    await store.create_task("ns", a_task(callback=True), 1001.0, 1000.0)
    now = 2_000_000_000.0
    claim = (await store.claim_callbacks(now, 10))[0]
    await store.nudge_callbacks("ns", "t1")
    assert await store.claim_callbacks(now + 1, 10) == []  # still the first claimant's: never two at once
    await store.release(claim, math.inf)
    assert [c.task_id for c in await store.claim_callbacks(now + 1, 10)] == ["t1"]


async def test_a_claim_whose_worker_died_is_taken_over_after_the_lease(store: Store) -> None:
    await store.create_task("ns", a_task(callback=True), 1001.0, 1000.0)
    assert await store.claim_callbacks(2_000_000_000.0, 10)
    assert await store.claim_callbacks(2_000_000_000.0 + 30, 10) == []
    assert await store.claim_callbacks(2_000_000_000.0 + 61, 10)


async def test_dropping_a_namespace_forgets_everything_in_it(store: Store) -> None:
    await store.add_rule("gone", a_rule(status=500))
    await store.record("gone", JournalEntry(0, 1.0, "GET", "/", None, {}, None))
    await store.create_task("gone", a_task(callback=True), 1001.0, 1000.0)
    await store.count("gone", "k")
    await store.play_first("gone", ["0001-x.json"])
    await store.replay_polled("gone", "t1", 5.0)
    await store.advance_clock("gone", 50)
    await store.enter("kept")
    assert await store.drop("gone") and not await store.drop("gone")
    assert [info.name for info in await store.namespaces()] == ["kept"]
    assert await store.task("gone", "t1") is None and await store.journal("gone") == [] and await store.count("gone", "k") == 1
    assert await store.play_first("gone", ["0001-x.json"]) == "0001-x.json" and await store.replay_polled("gone", "t1", 6.0) == (6.0, 0)
    assert await store.claim_callbacks(2_000_000_000.0, 10) == []


async def test_the_clock_is_per_namespace_and_moves_only_forward(store: Store) -> None:
    await store.set_clock("a", Clock("manual", start=100.0))
    moved = await store.advance_clock("a", 5)
    assert moved.now() == 105.0 and (await store.enter("a")).clock.now() == 105.0
    assert (await store.enter("b")).clock.now() != 105.0
    with pytest.raises(ValueError):
        await store.advance_clock("a", -1)


async def test_rules_keep_their_faults_physics_chaos_and_callback_faults(store: Store) -> None:
    made = parse_scenario("drop_after=3; stall_at=1:200; ttft=300; tps=40; chaos=0.25; chaos_mix=reset|code=503; callback_fail=503:2")
    made.contract, made.times = "openai.*", None
    await store.add_rule("ns", made)
    (kept,) = (await store.enter("ns")).rules
    assert rule_to_json(kept) == rule_to_json(made) and kept.faults == made.faults and kept.chaos == made.chaos
    assert kept.fault_summary(kept.replies[0]) == "drop_after=3; stall_at=1:200; callback_fail=503:2"


async def test_a_task_keeps_the_faults_of_its_callbacks(store: Store) -> None:
    task = a_task(callback=True)
    task.callback = CallbackPlan("demo.contract", fault=CallbackFault("timeout", 2, 150))
    await store.create_task("ns", task, 1001.0, 1000.0)
    kept = await store.task("ns", "t1")
    assert kept is not None and kept.callback == task.callback


async def test_a_namespace_starts_with_the_configured_quota_and_a_drop_gives_it_back(store: Store) -> None:
    store.quota_start = QuotaStart((("sk-a", 100),), (Limit(key="sk-a", rpm=2),))
    start = await store.enter("ns")
    assert start.quota.keys == {"sk-a"} and start.quota.limits == (Limit(key="sk-a", rpm=2),)
    assert await store.spend("ns", "sk-a", 130) == -30 and await store.spend("ns", "sk-free", 5) is None
    await store.set_balance("ns", "sk-a", 500)  # a balance of a key with a quota: no view changes
    assert (await store.enter("ns")).version == start.version and await store.balance("ns", "sk-a") == 500
    await store.set_balance("ns", "sk-b", 7)
    grown = await store.enter("ns")
    assert grown.version != start.version and grown.quota.keys == {"sk-a", "sk-b"}
    assert {key: a.as_dict() for key, a in (await store.accounts("ns")).items()} == {
        "sk-a": {"balance": 500, "used": 130, "requests": 1},
        "sk-b": {"balance": 7, "used": 0, "requests": 0},
        "sk-free": {"balance": None, "used": 5, "requests": 1},
    }
    await store.add_limit("ns", Limit(model="gpt-4o*", tpm=1000, concurrency=2))
    await store.clear_quota("ns")
    cleared = await store.enter("ns")
    assert cleared.quota.keys == frozenset() and len(cleared.quota.limits) == 2 and await store.accounts("ns") == {}
    await store.clear_limits("ns")
    assert not (await store.enter("ns")).quota and (await store.enter("other")).quota == start.quota
    await store.drop("ns")
    assert (await store.enter("ns")).quota == start.quota and await store.balance("ns", "sk-a") == 100


async def test_a_rate_window_counts_exactly_once_and_slides(store: Store) -> None:
    counted = await asyncio.gather(*(store.tally("ns", "key:sk-a:requests", 1000.0, 60, 1, 3) for _ in range(10)))
    assert sum(w.allowed for w in counted) == 3 and {w.used for w in counted if not w.allowed} == {3}
    refused = next(w for w in counted if not w.allowed)
    assert refused.frees_in == 60.0
    assert (await store.tally("ns", "key:sk-a:requests", 1030.5, 60)).frees_in == 29.5
    assert (await store.tally("ns", "key:sk-a:requests", 1060.0, 60)).used == 0  # entries at the edge have left
    big = await store.tally("ns", "tokens", 1060.0, 60, 5000, 100)  # an empty window takes any weight
    assert big.allowed and big.used == 5000 and not (await store.tally("ns", "tokens", 1061.0, 60, 1, 100)).allowed
    assert (await store.tally("other", "tokens", 1061.0, 60)).used == 0


async def test_a_gate_lets_in_its_limit_at_once(store: Store) -> None:
    entered = await asyncio.gather(*(store.enter_gate("ns", "model:gpt-4o:in_flight", 2) for _ in range(6)))
    assert sorted(e for e in entered if e is not None) == [1, 2] and entered.count(None) == 4
    assert await store.in_flight("ns") == {"model:gpt-4o:in_flight": 2}
    await store.leave_gate("ns", "model:gpt-4o:in_flight")
    assert await store.enter_gate("ns", "model:gpt-4o:in_flight", 2) == 2
    for _ in range(3):
        await store.leave_gate("ns", "model:gpt-4o:in_flight")  # never below zero
    assert await store.in_flight("ns") == {}


def test_the_memory_store_runs_without_an_event_loop() -> None:
    store = MemoryStore()
    assert run_sync(store.count("ns", "k")) == 1


async def test_an_unreachable_redis_is_a_clear_error() -> None:
    from processes import free_port

    store = RedisStore(f"redis://:secret@127.0.0.1:{free_port()}/0")
    with pytest.raises(StoreUnavailable, match=r"cannot reach the state store at redis://127\.0\.0\.1:\d+/0") as failure:
        await store.open()
    assert "secret" not in str(failure.value)
    with pytest.raises(StoreUnavailable, match="unavailable"):
        await store.enter("ns")


@pytest.fixture(params=["memory", "redis"])
def roomy_store(request: pytest.FixtureRequest) -> Store:
    """A store whose journal keeps 16 entries."""
    limits = Limits(journal_size=16)
    if request.param == "memory":
        return MemoryStore(limits, "manual")
    return RedisStore(request.getfixturevalue("redis_url"), limits, "manual")


async def test_a_journal_past_its_size_shows_its_newest_entries_numbered_on(roomy_store: Store) -> None:
    namespace = "journal ünïcode"
    await roomy_store.enter(namespace)
    for i in range(40):
        entry = JournalEntry(0, 1.0, "POST", "/v1/x", "c", {}, {"i": i}, status=200, response={"ok": True})
        await roomy_store.record(namespace, entry)
        assert entry.seq == i + 1
    entries = await roomy_store.journal(namespace)
    assert [(e.seq, e.body["i"]) for e in entries] == [(n + 1, n) for n in range(24, 40)]
    assert [info.journal for info in await roomy_store.namespaces()] == [16]
    await roomy_store.clear_journal(namespace)
    assert await roomy_store.journal(namespace) == [] and [info.journal for info in await roomy_store.namespaces()] == [0]
    entry = JournalEntry(0, 1.0, "POST", "/v1/x", "c", {}, {"i": 40})
    await roomy_store.record(namespace, entry)
    assert entry.seq == 41 and [e.seq for e in await roomy_store.journal(namespace)] == [41]


async def test_the_redis_journal_holds_at_most_an_eighth_more_than_it_shows(redis_url: str) -> None:
    from mockserver.store import redis_wire

    store = RedisStore(redis_url, Limits(journal_size=16), "manual")
    connection = redis_wire.Connection(redis_wire.Address.parse(redis_url), 2.0, 5.0)
    held = []
    for i in range(60):
        await store.record("ns", JournalEntry(0, 1.0, "POST", "/v1/x", "c", {}, {"i": i}))
        (length,) = await connection.call(redis_wire.pack("LLEN", "gptnb:ns:ns:journal"), 1)
        held.append(length)
    assert max(held) == 18 and held[-1] >= 16
    connection.close()


async def test_the_password_and_database_in_a_redis_url_are_used(tmp_path: Path) -> None:
    from processes import RedisServer

    with RedisServer(tmp_path, password="s3cret") as server:
        base = f"redis://:s3cret@127.0.0.1:{server.port}"
        first, second = RedisStore(base + "/1"), RedisStore(base + "/2")
        await first.open()
        await first.add_rule("ns", a_rule())
        assert [info.name for info in await first.namespaces()] == ["ns"] and await second.namespaces() == []
        wrong = RedisStore(f"redis://:nope@127.0.0.1:{server.port}/0")
        with pytest.raises(StoreUnavailable, match=r"cannot reach the state store at redis://127\.0\.0\.1:\d+/0") as refused:
            await wrong.open()
        assert "nope" not in str(refused.value) and "s3cret" not in str(refused.value)
        for store in (first, second):
            await store.close()


async def test_a_redis_that_stops_answering_is_unavailable_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.store import redis as redis_store

    monkeypatch.setattr(redis_store, "COMMAND_TIMEOUT", 0.3)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections (in its backlog), never answers
        store = RedisStore(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        with pytest.raises(StoreUnavailable, match=r"cannot reach the state store .*no answer from Redis within 0\.3s"):
            await asyncio.wait_for(store.open(), 10)
        with pytest.raises(StoreUnavailable, match="no answer"):
            await asyncio.wait_for(store.enter("ns"), 10)


def test_redis_urls_name_the_host_database_credentials_and_transport() -> None:
    from mockserver.store.redis_wire import Address

    assert Address.parse("redis://127.0.0.1:6380/3") == Address("127.0.0.1", 6380, db=3)
    assert Address.parse("rediss://ops:p%40ss@redis.example/2") == Address("redis.example", 6379, tls=True, username="ops", password="p@ss", db=2)
    assert Address.parse("redis://:secret@localhost") == Address("localhost", 6379, password="secret")
    assert Address.parse("unix:///run/redis.sock?db=4") == Address(path="/run/redis.sock", db=4)
    with pytest.raises(ValueError, match="numeric port") as bad:
        Address.parse("redis://:secret@localhost:sixthree/0")
    assert "secret" not in str(bad.value)
