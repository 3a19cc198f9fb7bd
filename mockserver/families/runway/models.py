"""Runway's two formats without HTTP: the v1 (DuoMi) flavour and the official task (DuoMi-format pages of api.gptoai.cc; Runway's API reference, docs.dev.runwayml.com)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ...ids import derived_int
from ...media_routes import video_path
from ...taskflow import hands_out_urls, outcome_url
from ...tasks import Step, TaskView
from ..pika import duomi

FAMILY = "runway"
hands_out_urls(FAMILY)
V1_MODES = frozenset({"text", "image"})
OFFICIAL = "image_to_video"
OFFICIAL_SUCCESS = Step("SUCCEEDED", 0.0, 100)
OFFICIAL_FAILURE = Step("FAILED", 0.0, 100, failed=True)
# Ratios each official model accepts (API version 2024-11-06); 16:9 / 9:16 are the 2024-09-13 spelling.
OFFICIAL_RATIOS = {
    "gen3a_turbo": frozenset({"1280:768", "768:1280", "16:9", "9:16"}),
    "gen4_turbo": frozenset({"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672", "16:9", "9:16"}),
}
FAILURE_CODE = "INTERNAL.BAD_OUTPUT.CODE01"
# Runway prices image-to-video per second of output (5 credits a second for gen3a_turbo and gen4_turbo).
CREDITS_PER_SECOND = 5
DEFAULT_SECONDS = 10


def _v1_size(params: dict[str, Any], mode: str) -> tuple[int, int]:
    if mode == "image" and (params.get("options") or {}).get("flip"):
        return 768, 1280  # DuoMi's portrait switch for gen3 image mode
    return duomi.frame_size(params.get("ratio"))


def _v1_extras(view: TaskView, base_url: str, finished: bool) -> dict[str, Any]:
    task = view.task
    size = _v1_size(task.params, task.kind)
    started = view.status != duomi.PENDING
    return {
        # The upstream translates the prompt; the mock has no translator and reports what it was given.
        "prompt_en": (task.params.get("prompt") or "") if started else "",
        "poster": duomi.still_url(base_url, task.id, size, "first", "png") if finished else None,
        "last_frame": duomi.still_url(base_url, task.id, size, "last", "png") if finished else None,
    }


V1 = duomi.Flavour(family=FAMILY, point="200", seconds=8.0, extras=_v1_extras)


class BadInput(ValueError):
    """An official request Runway refuses with 400 {"error": ...}."""


def check_official(body: dict[str, Any]) -> None:
    model, ratio = body["model"], body.get("ratio")
    if ratio and model in OFFICIAL_RATIOS and ratio not in OFFICIAL_RATIOS[model]:
        raise BadInput(f"ratio {ratio} is not supported by {model} (use one of {', '.join(sorted(OFFICIAL_RATIOS[model]))})")
    frames = body["promptImage"]
    if isinstance(frames, list):
        positions = [frame.get("position", "first") for frame in frames]
        if len(positions) != len(set(positions)):
            raise BadInput("promptImage: at most one image per position (first, last)")


def official_plan(failure: str | None, throttled: bool) -> tuple[Step, ...]:
    """[THROTTLED ->] PENDING -> RUNNING (progress rises) -> SUCCEEDED, or FAILED while running."""
    start = (Step("THROTTLED", 0.0), Step("PENDING", 1.0)) if throttled else (Step("PENDING", 0.0),)
    offset = start[-1].at
    running = tuple(Step("RUNNING", offset + 1.0 + i, p) for i, p in enumerate((10, 45, 80)))
    if failure:
        return (*start, running[0], Step("FAILED", offset + 2.0, 100, failed=True))
    return (*start, *running, Step("SUCCEEDED", offset + 5.0, 100))


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(seconds * 1000) % 1000:03d}Z"


def official_task(view: TaskView) -> dict[str, Any]:
    """GET /v1/tasks/{id}: progress only while RUNNING (0-1), output once SUCCEEDED, failure once FAILED."""
    task = view.task
    body: dict[str, Any] = {"id": task.id, "status": view.status, "createdAt": _iso(task.created_at)}
    credits = CREDITS_PER_SECOND * (task.params.get("duration") or DEFAULT_SECONDS)
    if view.terminal:  # refunded when it failed
        body["cost"] = {"credits": 0 if view.failed else credits}
    else:
        body["estimatedCost"] = {"credits": credits}
    if view.status == "RUNNING":
        body["progress"] = view.progress / 100
    elif view.succeeded:
        # Runway's output URLs are signed and expire; the mock's are stable.
        body["output"] = [outcome_url(task, "videos", 0, task.data["base_url"] + video_path(derived_int("runway-output", task.id)))]
    elif view.failed:
        body["failure"] = task.fail_reason or "An unexpected error occurred"
        body["failureCode"] = FAILURE_CODE
    return body
