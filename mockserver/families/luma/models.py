"""Luma generations as a relay shows them: plans, account pools and the generation object.

No HTTP here (moto's ``models.py``): handlers turn requests into tasks and tasks into these objects.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ...ids import derived_int
from ...media_routes import image_path, video_path
from ...store import storable
from ...taskflow import hands_out_urls, outcome_url
from ...tasks import Step, TaskView

FAMILY = "luma"
hands_out_urls(FAMILY)
GENERATION = "generation"
OFFICIAL, FREE, PAID = "official", "free", "paid"
COMPLETED = Step("completed", 0.0, 100)
FAILED = Step("failed", 0.0, 100, failed=True)
CLIP_SECONDS = 5.04  # one generation or extension adds about five seconds
SIZES = {"16:9": (1360, 752), "9:16": (752, 1360), "1:1": (1024, 1024), "4:3": (1168, 880), "3:4": (880, 1168), "21:9": (1568, 672), "9:21": (672, 1568)}
DEFAULT_ASPECT = "16:9"
LINK_SECONDS = 3600  # the signed download link lives an hour (X-Amz-Expires)
EXPANSION = ", cinematic lighting, smooth camera motion, rich detail"


@storable
@dataclass(frozen=True)
class Clip:
    """What a generation is about, fixed at submission."""

    prompt: str
    aspect_ratio: str
    pool: str
    expand_prompt: bool
    duration: float
    request: dict[str, Any]
    parent_id: str | None = None

    @property
    def size(self) -> tuple[int, int]:
        return SIZES.get(self.aspect_ratio, SIZES[DEFAULT_ASPECT])

    @property
    def shown_prompt(self) -> str:
        return self.prompt + EXPANSION if self.expand_prompt and self.prompt else self.prompt


def plan(failure: str | None) -> tuple[Step, ...]:
    """Paid renders take 1-3 min upstream, the free pool longer; the mock keeps the order, not the wait."""
    if failure:
        return (Step("pending", 0.0), Step("processing", 1.0, 50), Step("failed", 3.0, 100, failed=True))
    return (Step("pending", 0.0), Step("processing", 1.0, 50), Step("completed", 6.0, 100))


def clip_for(body: dict[str, Any], pool: str, parent: Clip | None = None, parent_id: str | None = None) -> Clip:
    """A submit or extend body as a clip; an extension keeps its source's pool and frame and runs on from it."""
    aspect = parent.aspect_ratio if parent else body.get("aspect_ratio") or DEFAULT_ASPECT
    echo = {k: body[k] for k in ("aspect_ratio", "expand_prompt", "loop", "image_url", "image_end_url", "model_name", "resolution", "duration") if body.get(k) is not None}
    prompt = body.get("user_prompt", "")  # "" reaches here as absent: Luma-API sends it on as ""
    return Clip(
        prompt=prompt.strip(),
        aspect_ratio=aspect,
        pool=parent.pool if parent else pool,
        expand_prompt=bool(body.get("expand_prompt")),
        duration=round((parent.duration if parent else 0) + CLIP_SECONDS, 2),
        request={"prompt": prompt, "aspect_ratio": aspect, **echo},
        parent_id=parent_id,
    )


def iso_us(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _seeds(generation_id: str) -> tuple[int, int]:
    """Seeds of the watermarked and the raw file: different URLs, as upstream has."""
    return derived_int("luma-watermarked", generation_id) % 10**12, derived_int("luma-raw", generation_id) % 10**12


def raw_video_url(generation_id: str, base_url: str) -> str:
    return base_url + video_path(_seeds(generation_id)[1])


def generation(view: TaskView, base_url: str) -> dict[str, Any]:
    """The generation object (the Luma 官方格式 template pages (gpt-best.apifox.cn/project-3868318/api-189362390) and LumaAI-API/Luma-API models.go, v2 shape): media appear only once completed."""
    task = view.task
    clip: Clip = task.data["clip"]
    state = view.status
    done = state == "completed"
    body: dict[str, Any] = {
        "id": task.id,
        "prompt": "" if state == "pending" else clip.shown_prompt,
        "state": state,
        "queue_state": None,
        "created_at": iso_us(task.created_at),
        "batch_id": str(uuid.UUID(int=derived_int("luma-batch", task.id) << 64, version=4)) if state != "pending" else "",
        "video": None,
        "video_raw": None,
        "liked": None,
        "estimate_wait_seconds": None,
        "thumbnail": None,
        "last_frame": None,
        "user_id": "",
        "failure_reason": (task.fail_reason or "generation failed") if state == "failed" else None,
    }
    if done:
        body.update(_artifacts(view, clip, base_url))
    return body


def _artifacts(view: TaskView, clip: Clip, base_url: str) -> dict[str, Any]:
    task = view.task
    width, height = clip.size
    marked_seed, raw_seed = _seeds(task.id)
    raw_url = outcome_url(task, "videos", 0, base_url + video_path(raw_seed))
    # Free accounts watermark the playable file and leave download_url empty; paid ones do neither.
    video = {
        "url": raw_url if clip.pool == PAID else outcome_url(task, "videos", 0, base_url + video_path(marked_seed)),
        "width": width,
        "height": height,
        "download_url": "" if clip.pool == FREE else raw_url,
    }
    raw = {"url": raw_url, "width": width, "height": height, "duration": clip.duration, "media_type": "video"}
    thumbnail = {"url": outcome_url(task, "images", 0, base_url + image_path(width, height, raw_seed, "jpeg")), "width": width, "height": height, "palette": {"grid": f"{raw_seed:x}"[:10]}, "media_type": "image"}
    last_frame = {"url": outcome_url(task, "images", 1, base_url + image_path(width, height, marked_seed, "jpeg")), "width": width, "height": height, "palette": None, "media_type": "image"}
    finished = view.entered(view.index) or view.now
    return {
        "video": video,
        "video_raw": raw,
        "thumbnail": thumbnail,
        "last_frame": last_frame,
        "request": clip.request,
        "artifact": {"video": video, "thumbnail": thumbnail, "video_raw": raw, "created_at": iso_us(finished), "last_frame": last_frame},
    }


def signed_download_url(generation_id: str, base_url: str, now: float) -> str:
    """The watermark-free file behind an S3-style signature (Cloudflare R2), valid an hour."""
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    signature = hashlib.sha256(f"{generation_id}:{stamp}".encode()).hexdigest()
    query = f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={stamp}&X-Amz-Expires={LINK_SECONDS}&X-Amz-SignedHeaders=host&X-Amz-Signature={signature}"
    return f"{raw_video_url(generation_id, base_url)}?{query}"
