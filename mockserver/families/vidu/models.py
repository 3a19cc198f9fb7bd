"""Vidu (vidu.studio web API) as the relay passes it through: plans, ids, the task object, creations.

No HTTP here (moto's ``models.py``): handlers turn requests into calls on these functions.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from ...ids import derived_int
from ...media_routes import image_path, video_path
from ...taskflow import hands_out_urls, outcome_url
from ...tasks import Step, Task, TaskView

FAMILY = "vidu"
hands_out_urls(FAMILY)
UPSCALE = "upscale"
SUCCESS = Step("success", 0.0, 100)
FAILED = Step("failed", 0.0, 100, failed=True)
NEEDS_IMAGE = frozenset({"img2video", "character2video"})
# Output sizes of vidu-1 per aspect ratio (688x384 is the samples' 16:9); upscales double them.
RESOLUTIONS = {"16:9": (688, 384), "9:16": (384, 688), "1:1": (512, 512)}
UPSCALE_FACTOR = 2
FPS = 16
GENERIC_ERR_CODE = "TaskFailed"
_CJK = re.compile(r"[\u3400-\u9fff]")
_CODE_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class InvalidTask(ValueError):
    """A body the schema allows but the task kind does not (e.g. img2video without an image)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def plan(failure: str | None) -> tuple[Step, ...]:
    """queueing -> processing -> success; a failing task fails while processing."""
    steps = (Step("queueing", 0.0), Step("processing", 1.0))
    return (*steps, Step("failed", 2.5, 100, failed=True) if failure else Step("success", 4.0, 100))


def sixteen_digits(*parts: object) -> str:
    """Task and creation ids: 16 decimal digits."""
    return str(10**15 + derived_int("vidu", *parts) % (9 * 10**15))


def creation_id(task_id: str) -> str:
    return sixteen_digits("creation", task_id)


def iso(timestamp: float) -> str:
    """RFC 3339 UTC with microseconds and Z, as Vidu writes created_at."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_generation(body: dict[str, Any]) -> None:
    kinds = [p["type"] for p in body["input"]["prompts"]]
    if body["type"] in NEEDS_IMAGE and "image" not in kinds:
        raise InvalidTask(f"{body['type']} needs an image prompt", "input.prompts")
    if body["type"] == "text2video" and "text" not in kinds:
        raise InvalidTask("text2video needs a text prompt", "input.prompts")
    if body["settings"]["style"] == "anime" and "image" in kinds:
        raise InvalidTask("anime style is only for text-only tasks", "settings.style")


def generation_data(body: dict[str, Any], task_id: str, base_url: str) -> dict[str, Any]:
    """What the task echoes: prompts as stored (images re-hosted on the mock), language, settings."""
    settings = body["settings"]
    width, height = RESOLUTIONS[settings["aspect_ratio"]]
    prompts = []
    for index, prompt in enumerate(body["input"]["prompts"]):
        content = prompt["content"]
        if prompt["type"] == "image":
            content = base_url + image_path(width, height, derived_int("vidu-input", task_id, index))
        prompts.append({"type": prompt["type"], "content": content, "negative": False, "enhance": prompt.get("enhance", True), "recaption": ""})
    texts = " ".join(p["content"] for p in body["input"]["prompts"] if p["type"] == "text")
    echo = {"style": settings["style"], "duration": settings["duration"], "aspect_ratio": settings["aspect_ratio"], "model": settings["model"]}
    return {"creation_id": "0", "prompts": prompts, "lang": "zh" if _CJK.search(texts) else "en", "settings": echo, "size": (width, height)}


def upscale_data(body: dict[str, Any], source: Task) -> dict[str, Any]:
    """An upscale keeps the source's style and ratio, doubles its size and has no prompts."""
    width, height = source.data["size"]
    settings = {**source.data["settings"], "duration": body["settings"]["duration"], "model": body["settings"]["model"]}
    return {
        "creation_id": body["input"]["creation_id"],
        "prompts": [],
        "lang": "en",
        "settings": settings,
        "size": (width * UPSCALE_FACTOR, height * UPSCALE_FACTOR),
        "source_duration": clip_seconds(source.data["settings"]["duration"]),
    }


def clip_seconds(duration: int) -> float:
    """Encoded clips run a little short of the requested length (3.85 s for 4 in the samples)."""
    return duration - 0.15


def creation(task: Task, finished_at: float) -> dict[str, Any]:
    """The one video a finished task made, on stateless mock URLs (MP4 and a JPEG cover)."""
    width, height = task.data["size"]
    seed = derived_int("vidu-video", task.id)
    resolution = {"width": width, "height": height}
    return {
        "id": creation_id(task.id),
        "task_id": task.id,
        "type": "video",
        "grade": "hd" if task.kind == UPSCALE else "draft",
        "uri": outcome_url(task, "videos", 0, task.data["base_url"] + video_path(seed)),
        "cover_uri": outcome_url(task, "images", 0, task.data["base_url"] + image_path(width, height, seed, "jpeg")),
        "resolution": resolution,
        "vote": "unspecified",
        "is_favor": False,
        "src_video_duration": task.data.get("source_duration", 0),
        "creator_id": "0",
        "video": {"duration": clip_seconds(task.data["settings"]["duration"]), "fps": FPS, "resolution": resolution},
        "is_deleted": False,
        "err_code": "",
        "created_at": iso(finished_at),
    }


def err_code(task: Task) -> str:
    """Vidu's err_code is an opaque code word: a steered reason that looks like one is used as is."""
    reason = task.fail_reason or ""
    return reason if _CODE_LIKE.match(reason) else GENERIC_ERR_CODE


def task_object(view: TaskView) -> dict[str, Any]:
    task = view.task
    data = task.data
    finished_at = view.entered(view.index) or view.now
    return {
        "id": task.id,
        "input": {"creation_id": data["creation_id"], "prompts": data["prompts"], "lang": data["lang"]},
        "settings": data["settings"],
        "type": task.kind,
        "state": view.status,
        "creations": [creation(task, finished_at)] if view.succeeded else [],
        "err_code": err_code(task) if view.failed else "",
        "created_at": iso(task.created_at),
    }


def state_event(view: TaskView) -> dict[str, Any]:
    """One event of the state stream; the upstream always says 0 seconds left."""
    return {"state": view.status, "estimated_time_left": 0, "err_code": err_code(view.task) if view.failed else ""}
