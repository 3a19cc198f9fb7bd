"""Viggle without HTTP: assets, video-task plans, the task item and credits (the Viggle template pages (gpt-best.apifox.cn/project-3868318 api-208350214, api-208350175, api-208350176, api-208350215)).

Uploaded assets are kept as tasks that are finished at once (one step, "ready"), so they live in the
mock's task store, vanish on reset and can be looked up by the generate calls that name them.
"""

from __future__ import annotations

import struct
from pathlib import PurePosixPath
from typing import Any

from ...ids import derived_int
from ...media_routes import MAX_SIDE, image_path, video_path
from ...taskflow import hands_out_urls, outcome_url
from ...tasks import Step, Task, TaskView
from .catalogue import BY_ID, derived_uuid

FAMILY = "viggle"
hands_out_urls(FAMILY)
IMAGE_ASSET, VIDEO_ASSET = "asset-image", "asset-video"
MIX, MULTI, MOVE = "mix", "multi", "move"
VIDEO_KINDS = frozenset({MIX, MULTI, MOVE})
READY = Step("ready", 0.0, 100)
# Integer statuses. The Viggle tab of Dooy/chatgpt-web-midjourney-proxy (src/api/viggle.ts) polls by-ids until
# status is 0 and then shows result, so 0 is the finished word and a task in flight reads non-zero (1 here);
# no public source shows the failure word (3 here).
RUNNING, DONE, FAILED = "1", "0", "3"
SUCCESS_STEP = Step(DONE, 0.0, 100)
FAILURE_STEP = Step(FAILED, 0.0, 100, failed=True)
TOTAL_CREDITS = 300
CREDITS_PER_TASK = 10
DEFAULT_VIDEO_SIZE = (1280, 720)


def asset_id(request_id: str) -> str:
    return derived_uuid("viggle-asset", request_id)


def stem(filename: str) -> str:
    return PurePosixPath(filename or "upload").stem or "upload"


def mp4_size(data: bytes) -> tuple[int, int]:
    """Width and height of the first video track (the tkhd box with a non-zero size), else a default."""
    start = 0
    while (found := data.find(b"tkhd", start)) != -1:
        version = data[found + 4] if found + 4 < len(data) else 0
        offset = found + 4 + (88 if version == 1 else 76)
        if offset + 8 <= len(data):
            width, height = (value >> 16 for value in struct.unpack(">II", data[offset : offset + 8]))
            if width and height:
                return width, height
        start = found + 4
    return DEFAULT_VIDEO_SIZE


def image_asset(task: Task) -> dict[str, Any]:
    width, height = task.data["size"]
    seed = derived_int("viggle-image", task.id)
    url = task.data["base_url"] + image_path(min(width, MAX_SIDE), min(height, MAX_SIDE), seed, "jpeg")
    return {"id": task.id, "name": task.data["name"], "url": url, "width": width, "height": height}


def video_asset(task: Task) -> dict[str, Any]:
    width, height = task.data["size"]
    seed = derived_int("viggle-video", task.id)
    base_url = task.data["base_url"]
    cover = base_url + image_path(min(width, MAX_SIDE), min(height, MAX_SIDE), seed, "jpeg")
    return {"id": task.id, "name": task.data["name"], "url": base_url + video_path(seed), "coverURL": cover, "width": width, "height": height}


def plan(failure: str | None) -> tuple[Step, ...]:
    steps = (Step(RUNNING, 0.0), Step(RUNNING, 1.0, 30), Step(RUNNING, 3.0, 70))
    if failure:
        return (*steps[:2], Step(FAILED, 2.0, 100, failed=True))
    return (*steps, Step(DONE, 6.0, 100))


def task_item(view: TaskView) -> dict[str, Any]:
    """One entry of by-ids: the result URL (MP4) and its cover only once done, "" before."""
    task = view.task
    base_url = task.data["base_url"]
    seed = derived_int("viggle-result", task.id)
    width, height = task.data["image"]["width"], task.data["image"]["height"]
    item: dict[str, Any] = {
        "taskID": task.id,
        "name": task.data["name"],
        "status": int(view.status),
        "image": task.data["image"],
        "result": outcome_url(task, "videos", 0, base_url + video_path(seed)) if view.succeeded else "",
        "resultCover": outcome_url(task, "images", 0, base_url + image_path(min(width, MAX_SIDE), min(height, MAX_SIDE), seed, "jpeg")) if view.succeeded else "",
    }
    template = BY_ID.get(task.params.get("templateID") or "")
    if template is not None:
        item["template"] = template.item(base_url)
    return item


def credits_left(spent_tasks: int) -> dict[str, int]:
    return {"credit": max(TOTAL_CREDITS - CREDITS_PER_TASK * spent_tasks, 0), "total": TOTAL_CREDITS}
