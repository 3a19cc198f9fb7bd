"""The DuoMi "feed/generate" template that Pika, Runway v1 and Pixverse share (DuoMi's docs (duomiapi.com, apifox project b924931e-29c0-4127-b025-d68c90285060) and their api.gptoai.cc copies).

A create answers ``{code: 200, msg: "成功", data: {task_id}, exec_time}``; feed answers the task object
in the same envelope; callbacks POST the bare task object. Status is a digit string: "0" pending,
"1" running, "2" failed (refunded), "3" succeeded; newer builds add the ``state`` word. Timestamps
are Unix seconds as strings. Each family adds its own URL fields through ``Flavour``.
No HTTP here: handlers of the three families call these functions.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...ids import derived_int
from ...media_routes import image_path, video_path
from ...taskflow import outcome_url
from ...tasks import Step, TaskView

PENDING, RUNNING, FAILED, SUCCEEDED = "0", "1", "2", "3"
STATE_WORDS = {PENDING: "pending", RUNNING: "running", FAILED: "error", SUCCEEDED: "succeeded"}
SUCCESS_STEP = Step(SUCCEEDED, 0.0, 100)
FAILURE_STEP = Step(FAILED, 0.0, 100, failed=True)
OK_MESSAGE = "成功"
LONG_SIDE = 1280

# Extra fields a family adds to the task object, from (view, base_url, finished) to a dict.
Extras = Callable[[TaskView, str, bool], dict[str, Any]]


@dataclass(frozen=True)
class Flavour:
    """What differs between the DuoMi families: the credits charged, how long a task takes, extra fields."""

    family: str
    point: str
    seconds: float
    extras: Extras

    def __post_init__(self) -> None:
        _flavours[self.family] = self


_flavours: dict[str, Flavour] = {}


def callback_body(view: TaskView, family: str) -> dict[str, Any]:
    """A callback's body: the task object in its family's flavour (found by name, so any worker can render it)."""
    return task_object(_flavours[family], view)


def plan(flavour: Flavour, failure: str | None) -> tuple[Step, ...]:
    """pending -> running -> succeeded, or pending -> running -> failed halfway."""
    steps = (Step(PENDING, 0.0), Step(RUNNING, 1.0, 50))
    if failure:
        return (*steps, Step(FAILED, flavour.seconds / 2, 100, failed=True))
    return (*steps, Step(SUCCEEDED, flavour.seconds, 100))


def task_id(request_id: str) -> str:
    """A lowercase UUID v4 that depends only on the request (DuoMi task ids are UUIDs)."""
    return str(uuid.UUID(bytes=hashlib.sha256(f"duomi-task:{request_id}".encode()).digest()[:16], version=4))


def exec_time(request_id: str) -> float:
    """Seconds the upstream says it spent; a stable small float per request (never the wall clock)."""
    return round(0.02 + derived_int("exec", request_id) % 600 / 1000, 3)


def envelope(data: Any, request_id: str) -> dict[str, Any]:
    return {"code": 200, "msg": OK_MESSAGE, "data": data, "exec_time": exec_time(request_id)}


def frame_size(ratio: str | None, default: str = "16:9") -> tuple[int, int]:
    """Pixel size for an ``w:h`` ratio, long side 1280, even sides (video encoders want them)."""
    width, height = (int(part) for part in (ratio or default).split(":"))
    if width >= height:
        return LONG_SIDE, round(LONG_SIDE * height / width / 2) * 2
    return round(LONG_SIDE * width / height / 2) * 2, LONG_SIDE


def video_url(base_url: str, task_id_: str) -> str:
    return base_url + video_path(derived_int("duomi-video", task_id_))


def still_url(base_url: str, task_id_: str, size: tuple[int, int], label: str, fmt: str = "jpeg") -> str:
    return base_url + image_path(size[0], size[1], derived_int("duomi-still", label, task_id_), fmt)


def task_object(flavour: Flavour, view: TaskView) -> dict[str, Any]:
    """The task as feed shows it and callbacks carry it (every key present; null until known)."""
    task = view.task
    status = view.status
    finished = status == SUCCEEDED
    base_url = task.data["base_url"]
    updated = view.entered(view.index) or task.created_at
    return {
        "task_id": task.id,
        "state": STATE_WORDS[status],
        "status": status,
        "prompt": task.params.get("prompt") or "",
        "video_url": outcome_url(task, "videos", 0, video_url(base_url, task.id)) if finished else None,
        **flavour.extras(view, base_url, finished),
        "msg": (task.fail_reason or "generation failed") if status == FAILED else None,
        "point": flavour.point,
        "refund": "1" if status == FAILED else "0",
        "create_time": str(int(task.created_at)),
        "update_time": str(int(updated)),
    }
