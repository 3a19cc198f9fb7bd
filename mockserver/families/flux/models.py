"""Flux tasks as BFL runs them: plans in BFL's status words, sizes, and the bodies it answers.

No HTTP here: handlers pass in the host URLs should point at.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from typing import Any
from urllib.parse import quote

from ...ids import derived_int
from ...media_routes import image_path
from ...taskflow import hands_out_urls, outcome_url
from ...tasks import Step, TaskView

FAMILY = "flux"
hands_out_urls(FAMILY)
PENDING, READY = "Pending", "Ready"
REQUEST_MODERATED, CONTENT_MODERATED, ERROR = "Request Moderated", "Content Moderated", "Error"
FAILURES = (REQUEST_MODERATED, CONTENT_MODERATED, ERROR)
DEFAULT_MODEL = "flux-pro"  # BFL's /v1/image was FLUX.1 [pro]
# /v1/image's legacy model pick, as black-forest-labs/bfl-comfy-nodes sends it.
LEGACY_VARIANTS = {"flux.1-pro": "flux-pro", "flux.1-dev": "flux-dev"}
DEFAULT_SIZE = (1024, 768)
SAMPLE_LIFETIME = 600  # seconds a signed sample URL stays valid
MIN_RATIO, MAX_RATIO = 9 / 21, 21 / 9


def task_id(request_id: str) -> str:
    """A UUID v4, as BFL hands out, derived from the request so journals stay reproducible."""
    return str(uuid.UUID(bytes=hashlib.blake2b(f"flux:{request_id}".encode(), digest_size=16).digest(), version=4))


def plan(failure: str | None) -> tuple[Step, ...]:
    """Queued, running, done (about 4.5 s, as BFL's example); moderated input stops at once."""
    if failure == REQUEST_MODERATED:
        return (Step(PENDING, 0.0), Step(REQUEST_MODERATED, 0.5, 100, failed=True))
    running = (Step(PENDING, 0.0), Step(PENDING, 0.4, 10))
    if failure:
        return (*running, Step(failure, 3.0, 100, failed=True))
    return (*running, Step(READY, 4.5, 100))


def failure_status(reason: str | None) -> str | None:
    """A steered reason naming a BFL status ends in it; any other failure is a plain Error."""
    if reason is None:
        return None
    return reason if reason in FAILURES else ERROR


def size_for(body: dict[str, Any], model: str) -> tuple[int, int]:
    """Output size: width/height (pro, dev, 1.1), else aspect_ratio at about 4 MP (ultra) or 1 MP."""
    ratio = body.get("aspect_ratio")
    if body.get("width") or body.get("height") or not (ratio or "ultra" in model):
        return body.get("width") or DEFAULT_SIZE[0], body.get("height") or DEFAULT_SIZE[1]
    w, h = (int(part) for part in (ratio or "16:9").split(":"))
    pixels = (4 if "ultra" in model else 1) * 1024 * 1024
    scale = math.sqrt(pixels / (w * h))
    return max(32, round(w * scale / 32) * 32), max(32, round(h * scale / 32) * 32)


def ratio_allowed(aspect_ratio: str) -> bool:
    w, h = (int(part) for part in aspect_ratio.split(":"))
    return h > 0 and w > 0 and MIN_RATIO - 1e-9 <= w / h <= MAX_RATIO + 1e-9


def _sample_url(view: TaskView, base_url: str) -> str:
    """A signed-looking delivery URL on the mock's host: ``…/<seed>.jpeg?se=<expiry>&sp=r&sig=…``."""
    data = view.task.data
    width, height = data["size"]
    ready_at = view.entered(view.index) or view.now
    expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ready_at + SAMPLE_LIFETIME))
    signature = hashlib.blake2b(f"{view.task.id}:{expiry}".encode(), digest_size=12).hexdigest()
    path = image_path(width, height, data["seed"], data["format"])
    return outcome_url(view.task, "images", 0, f"{base_url}{path}?se={quote(expiry, safe='')}&sp=r&sig={signature}")


def _result(view: TaskView, base_url: str) -> dict[str, Any]:
    data = view.task.data
    started = view.entered(1) or view.task.created_at
    ended = view.entered(view.index) or view.now
    return {
        "sample": _sample_url(view, base_url),
        "prompt": data["final_prompt"],
        "seed": data["seed"],
        "start_time": round(started, 3),
        "end_time": round(ended, 3),
        "duration": round(max(0.0, ended - started), 3),
    }


def task_result(view: TaskView, base_url: str) -> dict[str, Any]:
    """What get_result answers for the task at this moment: every field of BFL's ResultResponse."""
    body: dict[str, Any] = {"id": view.task.id, "status": view.status, "result": None, "progress": None, "details": None, "preview": None}
    if view.succeeded:
        body["result"] = _result(view, base_url)
    elif view.status in (REQUEST_MODERATED, CONTENT_MODERATED):
        body["details"] = {"Moderation Reasons": [view.task.fail_reason or view.status]}
    elif view.failed:
        body["details"] = {"reason": view.task.fail_reason or view.status}
    return body


def webhook(view: TaskView, base_url: str) -> dict[str, Any]:
    """BFL's webhook payload: the result when Ready, error and message when it failed."""
    body: dict[str, Any] = {"id": view.task.id, "status": view.status, "timestamp": int(view.entered(view.index) or view.now)}
    if view.succeeded:
        result = _result(view, base_url)
        body["result"] = {k: result[k] for k in ("sample", "prompt", "seed")}
    elif view.failed:
        body["error"] = view.status
        body["message"] = view.task.fail_reason or view.status
    else:
        body["result"] = None
    return body


def final_prompt(prompt: str, upsampling: bool) -> str:
    """Prompt upsampling rewrites the prompt; the mock makes it visibly richer."""
    return f"{prompt}, highly detailed, soft natural light, carefully composed" if upsampling else prompt


def seed_for(requested: object, salt: str) -> int:
    return requested if isinstance(requested, int) and not isinstance(requested, bool) else derived_int("flux-seed", salt) % 2**32
