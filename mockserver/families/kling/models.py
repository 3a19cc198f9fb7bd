"""Kling as its official API shows it: task plans, ids, the task object and its result files.

No HTTP here (moto's ``models.py``): handlers turn requests into calls on these functions.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from ...ids import derived_int
from ...media_routes import image_path, video_path
from ...taskflow import hands_out_urls, outcome_url
from ...tasks import Step, Task, TaskView

FAMILY = "kling"
hands_out_urls(FAMILY)
SUCCEED = Step("succeed", 0.0, 100)
FAILED = Step("failed", 0.0, 100, failed=True)
DEFAULT_MODEL = "kling-v1"
CAMERA_AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")
# Long side in pixels per requested resolution (Kling does not document pixel sizes).
LONG_SIDE = {"1k": 1024, "2k": 2048}


@dataclass(frozen=True)
class Endpoint:
    """A task kind, named by the two path segments that create it and must query it."""

    action: str
    action2: str

    @property
    def key(self) -> str:
        return f"{self.action}/{self.action2}"

    @property
    def makes_images(self) -> bool:
        return self.action == "images"


IMAGES = Endpoint("images", "generations")
TEXT2VIDEO = Endpoint("videos", "text2video")
IMAGE2VIDEO = Endpoint("videos", "image2video")
ENDPOINTS = {e.key: e for e in (IMAGES, TEXT2VIDEO, IMAGE2VIDEO)}


class InvalidParameter(ValueError):
    """A request Kling refuses with code 1201; the message names the parameter."""


def plan(endpoint: Endpoint, failure: str | None) -> tuple[Step, ...]:
    """submitted -> processing -> succeed (images are quicker than videos); failures end processing."""
    end = 3.0 if endpoint.makes_images else 6.0
    steps = (Step("submitted", 0.0), Step("processing", 1.0))
    last = Step("failed", end / 2, 100, failed=True) if failure else Step("succeed", end, 100)
    return (*steps, last)


def task_id(request_id: str) -> str:
    """18 decimal digits, as current Kling task ids look."""
    return str(10**17 + derived_int("kling-task", request_id) % (9 * 10**17))


def derived_uuid(*parts: object) -> str:
    """A UUID that depends only on ``parts`` (Kling's request ids and video ids are UUIDs)."""
    return str(uuid.UUID(bytes=hashlib.sha256(repr(parts).encode()).digest()[:16], version=4))


def model_of(body: dict[str, Any]) -> str:
    """model_name wins; the legacy model field behaves as an empty model_name (kling-v1)."""
    return body.get("model_name") or DEFAULT_MODEL


def check_images_request(body: dict[str, Any]) -> None:
    if body.get("image") and body.get("negative_prompt"):
        raise InvalidParameter("negative_prompt: not supported together with image")
    if body.get("image") and model_of(body) == "kling-v1-5" and not body.get("image_reference"):
        raise InvalidParameter("image_reference: required when model_name is kling-v1-5 and image is set")


def check_video_request(body: dict[str, Any], endpoint: Endpoint) -> None:
    camera = body.get("camera_control") or {}
    if camera.get("type") == "simple":
        moving = [axis for axis in CAMERA_AXES if camera.get("config", {}).get(axis)]
        if len(moving) != 1:
            raise InvalidParameter(f"camera_control.config: exactly one of {', '.join(CAMERA_AXES)} must be non-zero")
    if endpoint is IMAGE2VIDEO:
        controls = [bool(body.get("image_tail")), bool(body.get("static_mask") or body.get("dynamic_masks")), bool(camera)]
        if sum(controls) > 1:
            raise InvalidParameter("image_tail, static_mask/dynamic_masks and camera_control cannot be used together")
        if body.get("image_tail") and body.get("duration", "5") != "5":
            raise InvalidParameter("duration: only 5 is supported with image_tail")


def _image_size(params: dict[str, Any]) -> tuple[int, int]:
    width, height = (int(part) for part in params.get("aspect_ratio", "16:9").split(":"))
    long_side = LONG_SIDE[params.get("resolution", "1k")]
    if width >= height:
        return long_side, round(long_side * height / width)
    return round(long_side * width / height), long_side


def task_result(task: Task, endpoint: Endpoint, base_url: str) -> dict[str, Any]:
    """The files of a finished task, on stateless mock URLs (PNG images, MP4 videos) or a steering rule's."""
    params = task.params
    if endpoint.makes_images:
        width, height = _image_size(params)
        seed = derived_int("kling-image", task.id)
        images = [{"index": i, "url": outcome_url(task, "images", i, base_url + image_path(width, height, seed + i))} for i in range(params.get("n", 1))]
        return {"images": images}
    video_id = derived_uuid("kling-video", task.id)
    seconds = params.get("duration", "5")
    url = outcome_url(task, "videos", 0, base_url + video_path(derived_int("kling-video", task.id)))
    return {"videos": [{"id": video_id, "url": url, "duration": f"{seconds}.1"}]}


def submitted_object(view: TaskView) -> dict[str, Any]:
    """data of a create answer."""
    task = view.task
    return {**_times(view), "task_id": task.id, "task_status": view.status, "task_info": _task_info(task.params)}


def task_object(view: TaskView) -> dict[str, Any]:
    """The full task object: data of a query answer and the body of a callback."""
    task = view.task
    result = task_result(task, ENDPOINTS[task.kind], task.data["base_url"]) if view.succeeded else {}
    return {
        "task_id": task.id,
        "task_status": view.status,
        "task_status_msg": (task.fail_reason or "") if view.failed else "",
        "task_info": _task_info(task.params),
        "task_result": result,
        **_times(view),
    }


def _task_info(params: dict[str, Any]) -> dict[str, Any]:
    external = params.get("external_task_id")
    return {"external_task_id": external} if external else {}


def _times(view: TaskView) -> dict[str, int]:
    updated = view.entered(view.index) or view.task.created_at
    return {"created_at": int(view.task.created_at * 1000), "updated_at": int(updated * 1000)}
