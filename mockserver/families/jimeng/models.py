"""Jimeng video tasks as new-api relays them: the plan, the submit answer, the task as the poll shows it.

new-api keeps a Jimeng task like any other video task (relay/relay_task.go) and shows it in its own
words (QuantumNous/new-api relay/channel/task/jimeng/adaptor.go): the submit answers dto.OpenAIVideo,
the poll answers TaskDto with Volcengine's last answer in ``data``. ParseTaskResult maps only two
upstream words, in_queue (QUEUED 10%) and done (SUCCESS 100%); generating leaves the task QUEUED.
No HTTP here.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ...ids import derived_int
from ...media_routes import video_path
from ...taskflow import hands_out_urls, outcome_url
from ...tasks import Step, TaskView

FAMILY = "jimeng"
hands_out_urls(FAMILY)
KIND = "video"
SUCCESS = Step("SUCCESS", 0.0, 100)
FAILURE = Step("FAILURE", 0.0, 100, failed=True)
UPSTREAM_OK = 10000
# Volcengine's "Internal Error" code: the mock's failed tasks carry it with the failure's reason.
UPSTREAM_FAILED = 50500
# Seconds after submission: queued upstream, rendering, done.
IN_QUEUE_AT, GENERATING_AT, DONE_AT = 1.0, 2.5, 4.0


def plan(failure: str | None) -> tuple[Step, ...]:
    """SUBMITTED -> QUEUED (in_queue) -> QUEUED (generating) -> SUCCESS; a failing task fails once queued."""
    steps = (Step("SUBMITTED", 0.0, 0), Step("QUEUED", IN_QUEUE_AT, 10))
    if failure:
        return (*steps, Step(FAILURE.status, GENERATING_AT, 100, failed=True))
    return (*steps, Step("QUEUED", GENERATING_AT, 10), Step(SUCCESS.status, DONE_AT, 100))


def task_data(body: dict[str, Any], base_url: str) -> dict[str, Any]:
    images = len(body.get("image_urls") or body.get("binary_data_base64") or [])
    # middleware/jimeng_adapter.go marks a body without an image as a text task.
    return {"model": body["req_key"], "action": "generate" if images else "textGenerate", "base_url": base_url}


def submitted(view: TaskView) -> dict[str, Any]:
    """DoResponse's answer: NewOpenAIVideo with the public id, the model and the time, nothing else."""
    task = view.task
    return {"id": task.id, "task_id": task.id, "object": "video", "model": task.data["model"], "status": "queued", "progress": 0, "created_at": int(task.created_at)}


def upstream_task_id(task_id: str) -> str:
    """Volcengine's own task id: a long decimal number."""
    return str(7 * 10**18 + derived_int("jimeng-upstream", task_id) % 10**18)


def _request_id(task_id: str, at: float) -> str:
    """Volcengine request ids: the UTC time to the second, then hex."""
    stamp = datetime.fromtimestamp(at, timezone.utc).strftime("%Y%m%d%H%M%S")
    return f"{stamp}{derived_int('jimeng-request', task_id, int(at)):X}"[:32]


def _video_url(view: TaskView) -> str:
    return outcome_url(view.task, "videos", 0, view.task.data["base_url"] + video_path(derived_int("jimeng-video", view.task.id)))


def upstream_answer(view: TaskView) -> dict[str, Any]:
    """Volcengine's last answer, as the relay stores it: the submit's until the first poll upstream,
    then get-result's (in_queue, generating, done), or its error envelope for a failed task."""
    task, at = view.task, view.entered(view.index) or view.now
    envelope = {"code": UPSTREAM_OK, "message": "Success", "request_id": _request_id(task.id, at), "status": UPSTREAM_OK, "time_elapsed": "104.852309ms"}
    if view.failed:
        return {**envelope, "code": UPSTREAM_FAILED, "message": task.fail_reason or "Internal Error", "status": UPSTREAM_FAILED, "data": None}
    if view.index == 0:
        return {**envelope, "data": {"task_id": upstream_task_id(task.id)}}
    word = "done" if view.succeeded else ("generating" if view.index >= 2 else "in_queue")
    data = {"binary_data_base64": [], "image_urls": None, "resp_data": "", "status": word, "video_url": _video_url(view) if view.succeeded else ""}
    return {**envelope, "data": data}


def task_dto(view: TaskView) -> dict[str, Any]:
    """new-api's TaskDto for the poll (relay_task.go TaskModel2Dto); result_url is the upstream video_url."""
    task = view.task
    started, finished = view.entered(1), view.entered(view.index) if view.terminal else None
    return {
        "task_id": task.id,
        "platform": FAMILY,
        "action": task.data["action"],
        "status": view.status,
        "fail_reason": (task.fail_reason or "task failed") if view.failed else "",
        "result_url": _video_url(view) if view.succeeded else "",
        "submit_time": int(task.created_at),
        "start_time": int(started) if started is not None else 0,
        "finish_time": int(finished) if finished is not None else 0,
        "progress": f"{view.progress}%",
        "properties": {"origin_model_name": task.data["model"], "upstream_model_name": task.data["model"]},
        "data": upstream_answer(view),
    }
