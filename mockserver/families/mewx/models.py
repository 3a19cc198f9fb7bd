"""MewXAI generations as the provider shows them: img_uuid, status 0 / 1 / -1, urls, duration, cost.

No HTTP here. The generic engine keeps status words as strings, so a status is stored as its decimal
text and sent as the integer MewXAI uses.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from ...ids import derived_int
from ...taskflow import hands_out_urls
from ...tasks import Step, TaskView

FAMILY = "mewx"
hands_out_urls(FAMILY)
RUNNING, DONE, FAILED = "0", "1", "-1"
SUCCESS_STEP = Step(DONE, 0.0, 100)
FAILURE_STEP = Step(FAILED, 0.0, 0, failed=True)
LONG_SIDE = 1024
# Cute ratios 1-3 are documented; 4-6 are listed without meaning, these are guesses.
CUTE_RATIOS = {1: (1, 1), 2: (9, 16), 3: (16, 9), 4: (3, 4), 5: (4, 3), 6: (2, 3)}
UPSCALER_SIDES = {1: 1536, 2: 3072, 3: 2688, 4: 2304}
_FLAG = re.compile(r"--(v|iw|shape|ar)\s+(\S+)")
_RATIO = re.compile(r"^(\d{1,2}):(\d{1,2})$")


class BadFlag(ValueError):
    """A prompt flag with a value the service cannot use."""


@dataclass(frozen=True)
class Flags:
    version: str | None = None
    strength: float | None = None
    shape: str | None = None
    aspect: tuple[int, int] = (1, 1)


def flags(prompt: str | None) -> Flags:
    """Read ``--v``, ``--iw``, ``--shape`` and ``--ar`` from the end of a prompt."""
    found = dict(_FLAG.findall(prompt or ""))
    strength = None
    if "iw" in found:
        try:
            strength = float(found["iw"])
        except ValueError:
            raise BadFlag(f"--iw {found['iw']} is not a number") from None
        if not 0 <= strength <= 1:
            raise BadFlag("--iw must be between 0 and 1")
    aspect = (1, 1)
    if "ar" in found:
        ratio = _RATIO.match(found["ar"])
        if not ratio or int(ratio.group(1)) == 0 or int(ratio.group(2)) == 0:
            raise BadFlag(f"--ar {found['ar']} is not a w:h ratio")
        aspect = (int(ratio.group(1)), int(ratio.group(2)))
    return Flags(found.get("v"), strength, found.get("shape"), aspect)


def fit(aspect: tuple[int, int], long_side: int = LONG_SIDE) -> tuple[int, int]:
    w, h = aspect
    if w >= h:
        return long_side, max(1, round(long_side * h / w))
    return max(1, round(long_side * w / h)), long_side


def new_img_uuid(request_id: str) -> str:
    """32 hex digits, as the img_uuid values clients store."""
    return uuid.UUID(int=derived_int("mewx", request_id) << 64 | derived_int("mewx-low", request_id)).hex


def plan(failure: str | None) -> tuple[Step, ...]:
    """Running, then done (or failed) a few seconds later; the result comes by callback or 查询详情."""
    last = Step(FAILED, 2.0, 0, failed=True) if failure else Step(DONE, 3.0, 100)
    return (Step(RUNNING, 0.0), last)


def detail(view: TaskView, result_url: str) -> dict[str, Any]:
    """The data of 查询详情 (and, with img_uuid, the callback body)."""
    status = int(view.status)
    data: dict[str, Any] = {"status": status}
    if view.terminal:
        finished = view.entered(view.index) or view.now
        data["duration"] = max(1, round(finished - view.task.created_at))
    if view.succeeded:
        data["urls"] = [result_url]
        data["cost"] = view.task.data["cost"]
    return data


def callback(view: TaskView, result_url: str) -> dict[str, Any]:
    return {"img_uuid": view.task.id, **detail(view, result_url)}
