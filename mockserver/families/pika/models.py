"""Pika as the DuoMi template shows it: credits, timing and the optional poster (DuoMi's Pika pages (duomiapi.com) and gpt-best.apifox.cn/project-3868318/api-223415348)."""

from __future__ import annotations

from typing import Any

from ...taskflow import hands_out_urls
from ...tasks import TaskView
from . import duomi

FAMILY = "pika"
hands_out_urls(FAMILY)
MODES = frozenset({"text", "image", "video"})


def _extras(view: TaskView, base_url: str, finished: bool) -> dict[str, Any]:
    # Pika has no prompt_en or last_frame; the poster is the first frame, in the requested shape.
    size = duomi.frame_size(view.task.params.get("ratio") if view.task.kind == "text" else None)
    return {"poster": duomi.still_url(base_url, view.task.id, size, "poster") if finished else None}


FLAVOUR = duomi.Flavour(family=FAMILY, point="30", seconds=5.0, extras=_extras)
