"""PicWish tasks as the provider shows them: integer states, the result object, second timestamps.

No HTTP here. The generic task engine keeps status words as strings, so a state is stored as its
decimal text ("4", "-7") and turned back into the integer PicWish sends when a view is rendered.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from ...ids import derived_int
from ...taskflow import hands_out_urls
from ...tasks import Step, Task, TaskView
from .tools import Outcome, Picture

FAMILY = "picwish"
hands_out_urls(FAMILY)
SUCCESS = 1
FAILED = -1
NOT_AN_IMAGE = -7
RUNNING = ("0", "2", "3", "4")
LINK_LIFETIME = 3600  # result links (and results) are kept one hour
STATE_DETAIL = {
    1: "Complete", 0: "Queued", 2: "Preparing", 3: "Waiting", 4: "Processing",
    -1: "Failed", -2: "Upload failed", -3: "Download failed", -5: "File too large", -7: "Invalid image", -8: "Timeout",
}
# Tools the docs call effectively async-only: sync=1 is taken but answered with the task id.
ASYNC_ONLY = frozenset({"ocr", "background"})
# Tools whose create form has a return_type (the result echoes it).
WITH_RETURN_TYPE = frozenset({"segmentation", "scale", "inpaint", "idphoto", "colorization", "imgcompress", "correction"})

SUCCESS_STEP = Step(str(SUCCESS), 0.0, 100)
FAILURE_STEP = Step(str(FAILED), 0.0, 0, failed=True)

Link = Callable[[Picture, int], str]
"""Turns a result picture into what its field holds (a URL expiring at the given second, or base64)."""


def new_task_id(request_id: str) -> str:
    """A UUID v4, as PicWish's task ids are."""
    return str(uuid.UUID(bytes=hashlib.blake2b(f"picwish:{request_id}".encode(), digest_size=16).digest(), version=4))


def plan(tool: str, sync: bool, failure_state: int | None) -> tuple[Step, ...]:
    """Waiting, processing (twice, as progress grows), then 1; a failing plan ends in its negative state."""
    if sync:
        return (Step(str(failure_state), 0.0, 0, failed=True),) if failure_state else (SUCCESS_STEP,)
    pace = 4.0 if tool == "ocr" else 1.0  # OCR is polled for ~120 s where images take ~30 s
    running = (Step("3", 0.0, 0), Step("4", 0.4 * pace, 20), Step("4", 0.9 * pace, 60))
    if failure_state:
        return (*running[:2], Step(str(failure_state), 0.9 * pace, 0, failed=True))
    return (*running, Step(str(SUCCESS), 1.5 * pace, 100))


def state_of(view: TaskView) -> int:
    return int(view.status)


def result(view: TaskView, link: Link) -> dict[str, Any]:
    """The query answer (also the sync create answer and the callback body)."""
    task = view.task
    state = state_of(view)
    data: dict[str, Any] = {
        "task_id": task.id,
        "state": state,
        "state_detail": STATE_DETAIL[state],
        "progress": view.progress,
        "created_at": int(task.created_at),
    }
    if task.kind in WITH_RETURN_TYPE:
        data["return_type"] = task.data["return_type"]
    processed = next((view.entered(i) for i in range(view.index + 1) if task.steps[i].status == "4"), None)
    if view.terminal:
        processed = processed if processed is not None else task.created_at
        completed = view.entered(view.index) or view.now
        data["completed_at"] = int(completed)
        elapsed = (completed - processed) * 1000 or 600 + derived_int("elapsed", task.id) % 2400
        data["time_elapsed"] = round(elapsed, 1)
        data["err_info"] = (task.fail_reason or STATE_DETAIL[state]) if view.failed else ""
    if processed is not None:
        data["processed_at"] = int(processed)
    if task.data.get("from_url"):
        data["download_time"] = 100 + derived_int("download", task.id) % 500
    if view.succeeded:
        outcome: Outcome = task.data["outcome"]
        expires = data["completed_at"] + LINK_LIFETIME
        data.update(outcome.fields)
        data.update({picture.field: link(picture, expires) for picture in outcome.pictures})
    return {"status": 200, "message": "success", "data": data}


def is_task(task: Task | None, tool: str) -> bool:
    """A task of this family and tool (each tool's query path knows only its own tasks)."""
    return task is not None and task.family == FAMILY and task.kind == tool
