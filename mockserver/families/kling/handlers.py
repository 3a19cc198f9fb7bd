"""Kling endpoints: create image / video tasks, answer queries, in the {code, message, request_id, data} envelope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...replies import JsonReply, Reply
from ...taskflow import find_task, mine, planned_failure, start, task_for
from ...tasks import Task, TaskView
from .. import handles
from . import models
from .errors import invalid_parameter, task_not_found
from .models import IMAGE2VIDEO, IMAGES, TEXT2VIDEO, Endpoint

if TYPE_CHECKING:
    from ...pipeline import Call

QUERY_PREFIX = "/kling/v1/"


def _envelope(call: Call, data: dict[str, Any]) -> JsonReply:
    return JsonReply({"code": 0, "message": "SUCCEED", "request_id": models.derived_uuid("kling-request", call.request_id), "data": data})


async def _find(call: Call, endpoint: Endpoint, reference: str) -> Task | None:
    """A task of this caller's endpoint, by task_id or by the caller's external_task_id ("二选一")."""
    task = await find_task(call, reference)
    if task is not None and task.family == models.FAMILY and task.kind == endpoint.key:
        return task
    return next(
        (t for t in await mine(call, models.FAMILY) if t.kind == endpoint.key and t.params.get("external_task_id") == reference),
        None,
    )


async def _submit(call: Call, endpoint: Endpoint) -> Reply:
    try:
        if endpoint.makes_images:
            models.check_images_request(call.body)
        else:
            models.check_video_request(call.body, endpoint)
    except models.InvalidParameter as problem:
        raise invalid_parameter(str(problem)) from None
    external = call.body.get("external_task_id")
    if external and await _find(call, endpoint, external) is not None:
        raise invalid_parameter(f"external_task_id: {external} already exists")
    task_id = models.task_id(call.request_id)
    failure = planned_failure(call, task_id)
    task = task_for(
        call,
        id=task_id,
        family=models.FAMILY,
        kind=endpoint.key,
        steps=models.plan(endpoint, failure),
        data={"base_url": call.base_url},
        fail_reason=failure,
        success=models.SUCCEED,
        failure=models.FAILED,
    )
    await start(call, task, models.task_object)
    return _envelope(call, models.submitted_object(call.state.tasks.view(task)))


@handles("kling.images.generate")
def generate_images(call: Call) -> Reply:
    return _submit(call, IMAGES)


@handles("kling.videos.text2video")
def text2video(call: Call) -> Reply:
    return _submit(call, TEXT2VIDEO)


@handles("kling.videos.image2video")
def image2video(call: Call) -> Reply:
    return _submit(call, IMAGE2VIDEO)


@handles("kling.tasks.get")
async def get_task(call: Call) -> Reply:
    # The concrete aliases carry no action parameters: the endpoint is read from the path itself.
    endpoint_key = call.path.removeprefix(QUERY_PREFIX).rsplit("/", 1)[0]
    endpoint = models.ENDPOINTS.get(endpoint_key)
    task = await _find(call, endpoint, call.params["task_id"]) if endpoint else None
    if task is None:
        raise task_not_found()
    view: TaskView = await call.state.tasks.poll(task)
    return _envelope(call, models.task_object(view))
