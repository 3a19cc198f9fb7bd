"""Pixverse as the DuoMi template shows it: credits, timing, the preview and poster fields (the Pixverse template pages (docs.yutoai.net/api/api-260301783, api-260252178))."""

from __future__ import annotations

from typing import Any

from ...taskflow import hands_out_urls
from ...tasks import TaskView
from ..pika import duomi

FAMILY = "pixverse"
hands_out_urls(FAMILY)
MODES = frozenset({"text", "image"})


def _extras(view: TaskView, base_url: str, finished: bool) -> dict[str, Any]:
    # image_url is the animated preview (webp) once done; poster the first frame as JPEG.
    task = view.task
    size = duomi.frame_size(task.params.get("ratio") if task.kind == "text" else None)
    return {
        "image_url": duomi.still_url(base_url, task.id, size, "preview", "webp") if finished else None,
        "poster": duomi.still_url(base_url, task.id, size, "poster") if finished else None,
    }


FLAVOUR = duomi.Flavour(family=FAMILY, point="120", seconds=6.0, extras=_extras)
