"""The task engine and clock over both stores: plans, the three clock modes, forced outcomes, bounds."""

from __future__ import annotations

import asyncio

import pytest

from mockserver.clock import Clock
from mockserver.store import Limits, MemoryStore, Store
from mockserver.store.redis import RedisStore
from mockserver.tasks import Step, Task, TaskEngine

PLAN = (Step("queued", 0.0), Step("running", 1.0, 10), Step("running", 2.0, 60), Step("done", 3.0, 100))
NS = "tasks-test"

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Store:
    limits = Limits(max_tasks=5)
    if request.param == "memory":
        return MemoryStore(limits)
    return RedisStore(request.getfixturevalue("redis_url"), limits)


async def engine_with(store: Store, clock: Clock) -> TaskEngine:
    await store.set_clock(NS, clock)
    return TaskEngine(store, NS, (await store.enter(NS)).clock)


async def moved(engine: TaskEngine, seconds: float) -> TaskEngine:
    """The engine after the clock moved, as the next request sees it."""
    await engine.store.advance_clock(NS, seconds)
    return TaskEngine(engine.store, NS, (await engine.store.enter(NS)).clock)


async def make(engine: TaskEngine, task_id: str = "t1", steps: tuple[Step, ...] = PLAN) -> Task:
    return await engine.create(Task(task_id, "demo", "RENDER", {}, steps, created_at=engine.clock.now()))


async def test_manual_clock_moves_tasks_only_when_told(store: Store) -> None:
    engine = await engine_with(store, Clock("manual", start=1000.0))
    task = await make(engine)
    assert engine.view(await engine.get(task.id)).status == "queued"
    engine = await moved(engine, 1.5)
    view = engine.view(await engine.get(task.id))
    assert (view.status, view.progress, view.entered_at) == ("running", 10, 1001.0)
    engine = await moved(engine, 10)
    view = engine.view(await engine.get(task.id))
    assert view.terminal and view.succeeded and view.entered(1) == 1001.0 and view.entered(3) == 1003.0


async def test_real_clock_speed_scales_the_plan(store: Store) -> None:
    engine = await engine_with(store, Clock("real", speed=10.0))
    task = await make(engine)
    assert engine.view(task).index < 3  # the 3 s plan takes 0.3 s of wall time at 10x
    await asyncio.sleep(0.35)
    assert engine.view(await engine.get(task.id)).terminal


async def test_step_clock_moves_one_step_per_poll_and_shows_every_step(store: Store) -> None:
    engine = await engine_with(store, Clock("step"))
    task = await make(engine)
    seen = [(await engine.poll(task)).status for _ in range(6)]
    assert seen == ["queued", "running", "running", "done", "done", "done"]
    stored = await engine.get(task.id)
    assert engine.view(stored).terminal and stored.polls == 6


async def test_concurrent_polls_under_the_step_clock_each_move_the_task_once(store: Store) -> None:
    engine = await engine_with(store, Clock("step"))
    task = await make(engine)
    seen = await asyncio.gather(*(engine.poll(task) for _ in range(4)))
    assert sorted(v.index for v in seen) == [0, 1, 2, 3]


async def test_operator_can_fail_or_complete_a_running_task_but_not_rewrite_a_finished_one(store: Store) -> None:
    engine = await engine_with(store, Clock("manual", start=0.0))
    failing, finishing = await make(engine, "a"), await make(engine, "b")
    engine = await moved(engine, 1.2)
    failed = await engine.finish(failing, failed=True, reason="boom")
    assert failed.failed and failed.status == "FAILURE" and failing.fail_reason == "boom"
    stored = await engine.get("a")
    assert [s.status for s in stored.steps] == ["queued", "running", "FAILURE"] and stored.fail_reason == "boom"
    done = await engine.finish(finishing)
    assert done.succeeded and done.status == "SUCCESS"
    assert (await engine.finish(await engine.get("b"), failed=True)).succeeded  # statuses only move forward


async def test_an_update_from_a_stale_copy_is_reapplied_to_the_fresh_one(store: Store) -> None:
    engine = await engine_with(store, Clock("manual", start=0.0))
    task = await make(engine)
    stale = await engine.get(task.id)
    await engine.update(task, lambda t: t.data.update(first=1))
    await engine.update(stale, lambda t: t.data.update(second=2))  # read before the first write
    assert (await engine.get(task.id)).data == {"first": 1, "second": 2}


async def test_running_counts_unfinished_tasks_per_family(store: Store) -> None:
    engine = await engine_with(store, Clock("manual", start=0.0))
    for i in range(3):
        await make(engine, f"t{i}")
    assert await engine.running("demo") == 3 and await engine.running("other") == 0
    engine = await moved(engine, 5)
    assert await engine.running("demo") == 0


async def test_resume_continues_a_waiting_task_from_now(store: Store) -> None:
    engine = await engine_with(store, Clock("manual", start=0.0))
    task = await make(engine, steps=(Step("MODAL", 0.0),))
    engine = await moved(engine, 100)
    assert engine.view(task).terminal and await engine.running("demo") == 0
    await engine.resume(task, (Step("running", 0.5), Step("done", 1.0, 100)))
    assert engine.view(await engine.get(task.id)).status == "MODAL" and await engine.running("demo") == 1
    engine = await moved(engine, 1.0)
    assert engine.view(await engine.get(task.id)).status == "done"


async def test_store_is_bounded_and_evicts_oldest_finished_tasks_first(store: Store) -> None:
    engine = await engine_with(store, Clock("manual", start=0.0))
    old = [await make(engine, f"old{i}", steps=(Step("done", 0.0, 100),)) for i in range(3)]
    running = [await make(engine, f"run{i}") for i in range(4)]
    assert len(await engine.tasks()) == 5
    assert [await engine.get(t.id) for t in old[:2]] == [None, None]
    assert None not in [await engine.get(t.id) for t in running]


def test_clock_only_moves_forward() -> None:
    clock = Clock("manual", start=50.0)
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set(10.0)
    assert clock.set(60.0) == 60.0
    with pytest.raises(ValueError):
        Clock("sideways")


def test_a_clock_survives_being_written_down() -> None:
    clock = Clock("real", speed=2.0)
    clock.advance(30)
    copy = Clock.from_fields({k: str(v) for k, v in clock.fields().items()})
    assert copy.mode == "real" and copy.speed == 2.0 and copy.now() == pytest.approx(clock.now(), abs=0.01)
