"""Luma endpoints: submit on three account pools, get, extend, and the watermark-free link."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ...replies import JsonReply, Reply
from ...taskflow import callback_url, find_task, planned_failure, start, task_for
from ...tasks import Task
from .. import handles
from . import models
from .errors import detail, not_found

if TYPE_CHECKING:
    from ...pipeline import Call

# Luma-API passes Luma's 201 Created through (LumaAI-API/Luma-API luma.go (doGeneration) and the Luma 官方格式 template pages (docs.yutoai.net)); the contracts accept 200 too.
CREATED = 201
# Which pools' generations each kind of route can read: paid ids live in their own account pool.
READABLE = {models.OFFICIAL: (models.OFFICIAL, models.FREE), models.FREE: (models.OFFICIAL, models.FREE), models.PAID: (models.PAID,)}


async def _submit(call: Call, clip: models.Clip, parent: Task | None = None) -> Reply:
    if not clip.prompt and not call.body.get("image_url"):
        raise detail(400, "user_prompt is required")
    task_id = str(uuid.uuid4())
    failure = planned_failure(call, task_id)
    task = task_for(
        call,
        id=task_id, family=models.FAMILY, kind=models.GENERATION, params=dict(call.body), steps=models.plan(failure),
        created_at=call.state.clock.now(), owner=call.api_key, parent_id=parent.id if parent else None,
        callback_url=callback_url(call), data={"clip": clip}, fail_reason=failure,
        success=models.COMPLETED, failure=models.FAILED,
    )
    await start(call, task, models.generation, call.base_url)
    return JsonReply(models.generation(call.state.tasks.view(task), call.base_url), status=CREATED)


@handles("luma.official.submit")
def official_submit(call: Call) -> Reply:
    return _submit(call, models.clip_for(call.body, models.OFFICIAL))


@handles("luma.goamz.free.submit")
def free_submit(call: Call) -> Reply:
    return _submit(call, models.clip_for(call.body, models.FREE))


@handles("luma.goamz.paid.submit")
def paid_submit(call: Call) -> Reply:
    return _submit(call, models.clip_for(call.body, models.PAID))


async def _generation(call: Call, pools: tuple[str, ...] = (models.OFFICIAL, models.FREE, models.PAID)) -> Task:
    task = await find_task(call, call.params["task_id"])
    if task is None or task.family != models.FAMILY or task.data["clip"].pool not in pools:
        raise not_found()
    return task


def _completed(call: Call, task: Task) -> None:
    if not call.state.tasks.view(task).succeeded:
        raise detail(400, "generation not completed")


@handles("luma.official.get")
def official_get(call: Call) -> Reply:
    return _get(call, models.OFFICIAL)


@handles("luma.goamz.free.get")
def free_get(call: Call) -> Reply:
    return _get(call, models.FREE)


@handles("luma.goamz.paid.get")
def paid_get(call: Call) -> Reply:
    return _get(call, models.PAID)


async def _get(call: Call, route_pool: str) -> Reply:
    task = await _generation(call, READABLE[route_pool])
    return JsonReply(models.generation(await call.state.tasks.poll(task), call.base_url))


@handles("luma.official.extend")
async def extend(call: Call) -> Reply:
    # The only extend route: it reads every pool, and the extension stays in its source's pool.
    source = await _generation(call)
    _completed(call, source)
    return await _submit(call, models.clip_for(call.body, models.OFFICIAL, parent=source.data["clip"], parent_id=source.id), parent=source)


@handles("luma.official.download_url")
async def download_url(call: Call) -> Reply:
    task = await _generation(call)
    _completed(call, task)
    return JsonReply({"url": models.signed_download_url(task.id, call.base_url, call.state.clock.now())})
