"""Requests to tasks and back for the DuoMi template: the create and feed answers all three families give."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...replies import JsonReply, Reply
from ...taskflow import find_task, planned_failure, start, task_for
from . import duomi
from .errors import refused, task_not_exist

if TYPE_CHECKING:
    from ...pipeline import Call


async def submit(call: Call, flavour: duomi.Flavour, mode: str) -> Reply:
    """Create a task of ``mode`` (text / image / video); callbacks go to callback_url when given."""
    if not str(call.body.get("prompt", "")).strip():
        raise refused("prompt is required")
    task_id = duomi.task_id(call.request_id)
    failure = planned_failure(call, task_id)
    task = task_for(
        call,
        id=task_id,
        family=flavour.family,
        kind=mode,
        steps=duomi.plan(flavour, failure),
        data={"base_url": call.base_url},
        fail_reason=failure,
        success=duomi.SUCCESS_STEP,
        failure=duomi.FAILURE_STEP,
    )
    await start(call, task, duomi.callback_body, flavour.family)
    return JsonReply(duomi.envelope({"task_id": task_id}, call.request_id))


async def feed(call: Call, flavour: duomi.Flavour, task_id: object, modes: frozenset[str]) -> Reply:
    """One task of this family (and of one of ``modes``), polled: under the step clock it moves on."""
    if not isinstance(task_id, str) or not task_id.strip():
        raise refused("task_id is required")
    task = await find_task(call, task_id.strip())
    if task is None or task.family != flavour.family or task.kind not in modes:
        raise task_not_exist()
    return JsonReply(duomi.envelope(duomi.task_object(flavour, await call.state.tasks.poll(task)), call.request_id))
