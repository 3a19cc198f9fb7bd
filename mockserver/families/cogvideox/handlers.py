"""CogVideoX endpoints: create a video task, answer async-result queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...replies import JsonReply, Reply
from ...taskflow import find_task, planned_failure, start, task_for
from .. import handles
from . import models
from .errors import field_invalid

if TYPE_CHECKING:
    from ...pipeline import Call


@handles("cogvideox.videos.generate")
async def generate(call: Call) -> Reply:
    task_id = models.task_id(call.request_id)
    failure = planned_failure(call, task_id)
    task = task_for(
        call,
        id=task_id,
        family=models.FAMILY,
        kind="video",
        steps=models.plan(failure),
        data={"base_url": call.base_url, "request_id": call.body.get("request_id") or models.platform_request_id(call.request_id)},
        fail_reason=failure,
        success=models.SUCCESS,
        failure=models.FAIL,
    )
    await start(call, task, models.async_result)
    return JsonReply(models.submitted(call.state.tasks.view(task)))


@handles("cogvideox.async_result.get")
async def async_result(call: Call) -> Reply:
    task = await find_task(call, call.params["id"])
    if task is None or task.family != models.FAMILY:
        raise field_invalid("id", status=404)
    return JsonReply(models.async_result(await call.state.tasks.poll(task)))
