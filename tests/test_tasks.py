"""The task engine and clock: plans, the three clock modes, forced outcomes, the bounded store."""

from __future__ import annotations

import pytest

from mockserver.clock import Clock
from mockserver.tasks import MemoryTaskStore, Step, Task, TaskEngine

PLAN = (Step("queued", 0.0), Step("running", 1.0, 10), Step("running", 2.0, 60), Step("done", 3.0, 100))


def make(engine: TaskEngine, task_id: str = "t1", steps=PLAN) -> Task:
    return engine.create(Task(task_id, "demo", "RENDER", {}, steps, created_at=engine.clock.now()))


def test_manual_clock_moves_tasks_only_when_told() -> None:
    engine = TaskEngine(Clock("manual", start=1000.0))
    task = make(engine)
    assert engine.view(task).status == "queued"
    engine.clock.advance(1.5)
    view = engine.view(task)
    assert (view.status, view.progress, view.entered_at) == ("running", 10, 1001.0)
    engine.clock.advance(10)
    view = engine.view(task)
    assert view.terminal and view.succeeded and view.entered(1) == 1001.0 and view.entered(3) == 1003.0


def test_real_clock_speed_scales_the_plan() -> None:
    clock = Clock("real", speed=1000.0)
    engine = TaskEngine(clock)
    task = make(engine)
    assert engine.view(task).index < 3
    import time

    time.sleep(0.01)  # 10 s of mock time at 1000x
    assert engine.view(task).terminal


def test_step_clock_moves_one_step_per_poll_and_shows_every_step() -> None:
    engine = TaskEngine(Clock("step"))
    task = make(engine)
    seen = [engine.poll(task).status for _ in range(6)]
    assert seen == ["queued", "running", "running", "done", "done", "done"]
    assert engine.view(task).terminal and task.polls == 6


def test_operator_can_fail_or_complete_a_running_task_but_not_rewrite_a_finished_one() -> None:
    engine = TaskEngine(Clock("manual", start=0.0))
    failing, finishing = make(engine, "a"), make(engine, "b")
    engine.clock.advance(1.2)
    failed = engine.finish(failing, failed=True, reason="boom")
    assert failed.failed and failed.status == "FAILURE" and failing.fail_reason == "boom"
    assert [s.status for s in failing.steps] == ["queued", "running", "FAILURE"]
    done = engine.finish(finishing)
    assert done.succeeded and done.status == "SUCCESS"
    assert engine.finish(finishing, failed=True).succeeded  # statuses only move forward


def test_running_counts_unfinished_tasks_per_family() -> None:
    engine = TaskEngine(Clock("manual", start=0.0))
    for i in range(3):
        make(engine, f"t{i}")
    assert engine.running("demo") == 3 and engine.running("other") == 0
    engine.clock.advance(5)
    assert engine.running("demo") == 0


def test_resume_continues_a_waiting_task_from_now() -> None:
    engine = TaskEngine(Clock("manual", start=0.0))
    task = make(engine, steps=(Step("MODAL", 0.0),))
    engine.clock.advance(100)
    assert engine.view(task).terminal and engine.running("demo") == 0
    engine.resume(task, (Step("running", 0.5), Step("done", 1.0, 100)))
    assert engine.view(task).status == "MODAL" and engine.running("demo") == 1
    engine.clock.advance(1.0)
    assert engine.view(task).status == "done"


def test_store_is_bounded_and_evicts_oldest_finished_tasks_first() -> None:
    engine = TaskEngine(Clock("manual", start=0.0), MemoryTaskStore(max_tasks=5))
    old = [make(engine, f"old{i}", steps=(Step("done", 0.0, 100),)) for i in range(3)]
    running = [make(engine, f"run{i}") for i in range(4)]
    assert len(engine.store) == 5
    assert all(engine.get(t.id) is None for t in old[:2])
    assert all(engine.get(t.id) is not None for t in running)


def test_clock_only_moves_forward() -> None:
    clock = Clock("manual", start=50.0)
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set(10.0)
    assert clock.set(60.0) == 60.0
    with pytest.raises(ValueError):
        Clock("sideways")
