"""CogVideoX as Zhipu's API shows it: plans, ids and the async-result object.

No HTTP here (moto's ``models.py``): handlers turn requests into calls on these functions.
"""

from __future__ import annotations

from typing import Any

from ...ids import derived_int
from ...media_routes import image_path, video_path
from ...taskflow import hands_out_urls, outcome_url
from ...tasks import Step, TaskView

FAMILY = "cogvideox"
hands_out_urls(FAMILY)
SUCCESS = Step("SUCCESS", 0.0, 100)
FAIL = Step("FAIL", 0.0, 100, failed=True)
# Zhipu's default output: short side 1080, landscape unless the image says otherwise.
DEFAULT_SIZE = "1920x1080"


def plan(failure: str | None) -> tuple[Step, ...]:
    """PROCESSING for a few polls, then SUCCESS (or FAIL); Zhipu reports no progress."""
    steps = (Step("PROCESSING", 0.0), Step("PROCESSING", 2.0))
    return (*steps, Step("FAIL", 3.0, 100, failed=True) if failure else Step("SUCCESS", 4.0, 100))


def _digits(count: int, *parts: object) -> str:
    """``count`` decimal digits, the first non-zero, derived from ``parts``."""
    value = derived_int(*parts) * derived_int("more", *parts)  # wide enough for 36 digits
    return str(10 ** (count - 1) + value % (9 * 10 ** (count - 1)))


def task_id(request_id: str) -> str:
    """The id to poll: a long decimal string (36 digits in the samples)."""
    return _digits(36, "cogvideox-task", request_id)


def platform_request_id(request_id: str) -> str:
    """The request_id Zhipu makes when the client sends none (~19 digits)."""
    return _digits(19, "cogvideox-request", request_id)


def video_result(view: TaskView) -> list[dict[str, Any]]:
    """One MP4 and its PNG cover at the requested size, on stateless mock URLs."""
    task = view.task
    width, height = (int(side) for side in task.params.get("size", DEFAULT_SIZE).split("x"))
    seed = derived_int("cogvideox-video", task.id)
    base = task.data["base_url"]
    return [{"url": outcome_url(task, "videos", 0, base + video_path(seed)), "cover_image_url": outcome_url(task, "images", 0, base + image_path(width, height, seed))}]


def submitted(view: TaskView) -> dict[str, Any]:
    task = view.task
    return {"id": task.id, "model": task.params["model"], "request_id": task.data["request_id"], "task_status": view.status}


def async_result(view: TaskView) -> dict[str, Any]:
    """The query answer: no id, no timestamps, no failure reason; videos only on SUCCESS."""
    task = view.task
    result: dict[str, Any] = {"model": task.params["model"], "request_id": task.data["request_id"], "task_status": view.status}
    if view.succeeded:
        result["video_result"] = video_result(view)
    return result
