"""Vidu endpoints: create and upscale tasks, get a task, stream its state as server-sent events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ...clock import STEP, Clock
from ...replies import JsonReply, Reply, StreamReply
from ...taskflow import find_task, mine, planned_failure, start, task_for
from ...tasks import Task, TaskView
from .. import handles
from . import models
from .errors import invalid, not_found

if TYPE_CHECKING:
    from ...pipeline import Call

# The upstream sends one event per internal tick; the mock ticks at most this often (seconds of wall time).
TICK = 0.5
MIN_TICK = 0.02
# A stream ends after this many events even if its task has not (a manual clock nobody advances).
MAX_EVENTS = 240


async def _start(call: Call, kind: str, data: dict[str, Any], task_id: str, parent: Task | None = None) -> Reply:
    failure = planned_failure(call, task_id)
    task = task_for(
        call,
        id=task_id,
        family=models.FAMILY,
        kind=kind,
        steps=models.plan(failure),
        parent_id=parent.id if parent else None,
        data={**data, "base_url": call.base_url},
        fail_reason=failure,
        success=models.SUCCESS,
        failure=models.FAILED,
    )
    await start(call, task, models.task_object)
    return JsonReply(models.task_object(call.state.tasks.view(task)))


@handles("vidu.tasks.create")
def create(call: Call) -> Reply:
    try:
        models.check_generation(call.body)
    except models.InvalidTask as problem:
        raise invalid(str(problem), problem.field) from None
    task_id = models.sixteen_digits("task", call.request_id)
    return _start(call, call.body["type"], models.generation_data(call.body, task_id, call.base_url), task_id)


async def _finished_creation(call: Call, wanted: str) -> Task:
    """The finished task whose creation has this id (upscale takes a creation id, not a task id)."""
    engine = call.state.tasks
    for task in await mine(call, models.FAMILY):
        if models.creation_id(task.id) == wanted and engine.view(task).succeeded:
            return task
    hint = " (that is a task id: use creations[].id)" if await find_task(call, wanted) is not None else ""
    raise invalid(f"creation {wanted} not found{hint}", "input.creation_id")


@handles("vidu.tasks.upscale")
async def upscale(call: Call) -> Reply:
    source = await _finished_creation(call, call.body["input"]["creation_id"])
    task_id = models.sixteen_digits("task", call.request_id)
    return await _start(call, models.UPSCALE, models.upscale_data(call.body, source), task_id, parent=source)


async def _task(call: Call, task_id: str) -> Task:
    task = await find_task(call, task_id)
    if task is None or task.family != models.FAMILY:
        raise not_found("task", "id")
    return task


@handles("vidu.tasks.get")
async def get_task(call: Call) -> Reply:
    return JsonReply(models.task_object(await call.state.tasks.poll(await _task(call, call.params["id"]))))


def _pause(view: TaskView, clock: Clock) -> float:
    """Wall seconds until the task's next step is due, within one tick."""
    due = view.task.created_at + view.task.steps[view.index + 1].at - view.now
    return min(max(due / clock.speed, MIN_TICK), TICK)


async def _state_events(call: Call, task: Task) -> AsyncIterator[dict[str, Any]]:
    """Each event looks at the task once: under the step clock that moves it a step, under the
    real or manual clock the stream waits (asyncio, bounded) for the clock to move it."""
    state = call.state
    for _ in range(MAX_EVENTS):
        view = await state.tasks.poll(task)
        yield models.state_event(view)
        if view.terminal:
            return
        if state.clock.mode != STEP:
            await asyncio.sleep(_pause(view, state.clock))
            state = await state.mock.enter(state.namespace)  # the clock may have been moved meanwhile


@handles("vidu.tasks.state_stream")
async def state_stream(call: Call) -> Reply:
    return StreamReply(_state_events(call, await _task(call, call.query["id"])))
