"""Runway endpoints: v1 generate (text / image variant) and feed; official image_to_video and tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...replies import JsonReply, Reply
from ...taskflow import find_task, planned_failure, start, task_for
from .. import handles
from ..pika import duomi, flow
from . import models
from .errors import bad_input, task_not_found

if TYPE_CHECKING:
    from ...pipeline import Call


@handles("runway.v1.generate.text")
def generate_text(call: Call) -> Reply:
    return flow.submit(call, models.V1, "text")


@handles("runway.v1.generate.image")
def generate_image(call: Call) -> Reply:
    return flow.submit(call, models.V1, "image")


@handles("runway.v1.feed")
def feed(call: Call) -> Reply:
    return flow.feed(call, models.V1, call.body.get("task_id"), models.V1_MODES)


@handles("runway.official.image_to_video")
async def image_to_video(call: Call) -> Reply:
    try:
        models.check_official(call.body)
    except models.BadInput as problem:
        raise bad_input(str(problem)) from None
    task_id = duomi.task_id(call.request_id)
    failure = planned_failure(call, task_id)
    # Past the account's concurrency the task waits as THROTTLED before it is PENDING.
    engine = call.state.tasks
    throttled = await engine.running(models.FAMILY) >= call.state.settings.task_concurrency
    task = task_for(
        call,
        id=task_id,
        family=models.FAMILY,
        kind=models.OFFICIAL,
        steps=models.official_plan(failure, throttled),
        data={"base_url": call.base_url},
        fail_reason=failure,
        success=models.OFFICIAL_SUCCESS,
        failure=models.OFFICIAL_FAILURE,
    )
    await start(call, task, models.official_task)  # Runway's official API takes no callback: nothing is watched
    return JsonReply({"id": task_id})


@handles("runway.official.task.get")
async def get_task(call: Call) -> Reply:
    task = await find_task(call, call.params["id"])
    if task is None or task.family != models.FAMILY or task.kind != models.OFFICIAL:
        raise task_not_found()
    return JsonReply(models.official_task(await call.state.tasks.poll(task)))
