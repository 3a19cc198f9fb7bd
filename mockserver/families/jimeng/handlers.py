"""Jimeng endpoints: submit a video task and get its result, both POST /jimeng/ (the Action query decides)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...replies import JsonReply, Reply
from ...taskflow import planned_failure, start, stored, task_for
from ..openai.task_errors import task_error
from ..openai.video_tasks import task_id as public_task_id
from .. import handles
from . import models

if TYPE_CHECKING:
    from ...pipeline import Call


@handles("jimeng.submit_task")
async def submit_task(call: Call) -> Reply:
    new_id = public_task_id()
    failure = planned_failure(call, new_id)
    task = task_for(
        call,
        id=new_id,
        family=models.FAMILY,
        kind=models.KIND,
        steps=models.plan(failure),
        data=models.task_data(call.body, call.base_url),
        fail_reason=failure,
        success=models.SUCCESS,
        failure=models.FAILURE,
    )
    await start(call, task, models.task_dto)
    return JsonReply(models.submitted(call.state.tasks.view(task)))


@handles("jimeng.get_result")
async def get_result(call: Call) -> Reply:
    task = await stored(call, call.body["task_id"], models.FAMILY, models.KIND)
    if task is None:  # unknown, or another key's: the relay looks tasks up per user
        raise task_error("task_not_exist")
    return JsonReply({"code": "success", "message": "", "data": models.task_dto(await call.state.tasks.poll(task))})
