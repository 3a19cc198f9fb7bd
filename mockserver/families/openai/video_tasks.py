"""Video tasks of the relay's unified video routes: their plan, and the three shapes they are shown in.

new-api keeps one task per video whatever route made it (relay/relay_task.go). Its status words are
the relay's own (SUBMITTED, IN_PROGRESS, SUCCESS, FAILURE, model/task.go); the routes show a task as
  * the submit answer, new-api's ``dto.OpenAIVideo`` with the public task id (dto/openai_video.go);
  * OpenAI's video object for ``/v1/videos/{id}`` (``ConvertToOpenAIVideo``: queued, in_progress,
    completed, failed, via ``TaskStatus.ToVideoStatus``);
  * new-api's ``TaskDto`` in ``{code, message, data}`` for ``/v1/video/generations/{id}`` (dto/task.go),
    whose ``result_url`` is the relay's own ``/v1/videos/{id}/content`` proxy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...ids import derived_int, random_alnum
from ...taskflow import hands_out_urls, outcome_url, planned_failure, start, stored, task_for
from ...tasks import Step, Task, TaskView
from .task_errors import task_error

if TYPE_CHECKING:
    from ...pipeline import Call

FAMILY = "openai"
hands_out_urls(FAMILY)  # the unified video route's result_url
KIND = "video"
DEFAULT_MODEL = "sora-2"
DEFAULT_SECONDS = "4"
DEFAULT_SIZE = "720x1280"
SUCCESS = Step("SUCCESS", 0.0, 100)
FAILURE = Step("FAILURE", 0.0, 100, failed=True)
# A short render: queued a moment, then progress in three steps (seconds after submission).
PLAN = (Step("SUBMITTED", 0.0, 0), Step("IN_PROGRESS", 2.0, 10), Step("IN_PROGRESS", 4.0, 45), Step("IN_PROGRESS", 6.0, 80))
FINISH_AT = 8.0
OPENAI_STATUS = {"NOT_START": "queued", "SUBMITTED": "queued", "QUEUED": "queued", "IN_PROGRESS": "in_progress", "SUCCESS": "completed", "FAILURE": "failed"}
# OpenAI keeps a finished video's assets for a day.
EXPIRES_AFTER = 24 * 3600


def task_id() -> str:
    """new-api's public task id (model.GenerateTaskID): task_ and 32 alphanumerics."""
    return "task_" + random_alnum(32)


async def submit(call: Call, *, prompt: str, model: str, seconds: str, size: str, remixed_from: str | None = None) -> Task:
    """Create and store a video task; its plan ends in SUCCESS unless steering or the marker says fail."""
    new_id = task_id()
    failure = planned_failure(call, new_id)
    last = Step(FAILURE.status, FINISH_AT, 100, failed=True) if failure else Step(SUCCESS.status, FINISH_AT, 100)
    data = {"prompt": prompt, "model": model, "seconds": seconds, "size": size, "remixed_from": remixed_from, "deleted": False, "base_url": call.base_url}
    task = task_for(call, id=new_id, family=FAMILY, kind=KIND, steps=(*PLAN, last), data=data, fail_reason=failure, success=SUCCESS, failure=FAILURE)
    return await start(call, task, openai_video)


async def find(call: Call, video_id: str) -> Task | None:
    return await stored(call, video_id, FAMILY, KIND)


def submitted(view: TaskView) -> dict[str, Any]:
    """What the submit routes answer: new-api's OpenAIVideo, id and task_id both the public id."""
    data = view.task.data
    answer = {
        "id": view.task.id,
        "task_id": view.task.id,
        "object": "video",
        "model": data["model"],
        "status": OPENAI_STATUS[view.status],
        "progress": view.progress,
        "created_at": int(view.task.created_at),
        "seconds": data["seconds"],
        "size": data["size"],
    }
    if data["remixed_from"]:
        answer["remixed_from_video_id"] = data["remixed_from"]
    return answer


def openai_video(view: TaskView) -> dict[str, Any]:
    """OpenAI's video object, as ``GET /v1/videos/{id}`` shows it."""
    data = view.task.data
    finished = view.entered(view.index) if view.terminal else None
    return {
        "id": view.task.id,
        "object": "video",
        "model": data["model"],
        "status": OPENAI_STATUS[view.status],
        "progress": view.progress,
        "created_at": int(view.task.created_at),
        "completed_at": int(finished) if view.succeeded and finished is not None else None,
        "expires_at": int(finished) + EXPIRES_AFTER if view.succeeded and finished is not None else None,
        "prompt": data["prompt"],
        "seconds": data["seconds"],
        "size": data["size"],
        "remixed_from_video_id": data["remixed_from"],
        "error": {"code": "video_generation_failed", "message": view.task.fail_reason or "task failed"} if view.failed else None,
    }


def task_dto(view: TaskView) -> dict[str, Any]:
    """new-api's TaskDto, as ``GET /v1/video/generations/{id}`` shows it."""
    task, data = view.task, view.task.data
    started = view.entered(1)
    finished = view.entered(view.index) if view.terminal else None
    return {
        "id": derived_int("video-row", task.id) % 1_000_000,
        "created_at": int(task.created_at),
        "updated_at": int(view.entered(view.index) or task.created_at),
        "task_id": task.id,
        "platform": "sora" if data["model"].startswith("sora") else "video",
        "user_id": 1,
        "group": "default",
        "channel_id": 1,
        "quota": 0,
        "action": "remix" if data["remixed_from"] else "generate",
        "status": view.status,
        "fail_reason": (task.fail_reason or "task failed") if view.failed else "",
        "result_url": outcome_url(task, "videos", 0, f"{data['base_url']}/v1/videos/{task.id}/content") if view.succeeded else "",
        "submit_time": int(task.created_at),
        "start_time": int(started) if started is not None else 0,
        "finish_time": int(finished) if finished is not None else 0,
        "progress": f"{view.progress}%",
        "properties": {"origin_model_name": data["model"], "upstream_model_name": data["model"]},
        "data": openai_video(view),
    }


async def found(call: Call, video_id: str) -> Task:
    """The caller's video task, or new-api's TaskError for an id it has no task under (400 task_not_exist)."""
    task = await find(call, video_id)
    if task is None:
        raise task_error("task_not_exist")
    return task
