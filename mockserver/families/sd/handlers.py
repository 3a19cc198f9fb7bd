"""Stability endpoints: the v2beta generators (multipart in, bytes or JSON out) and v1 text-to-image."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from ... import media
from ...replies import BinaryReply, JsonReply, Reply
from .. import handles
from . import models
from .errors import refusal

if TYPE_CHECKING:
    from ...pipeline import Call


def _request_hex(call: Call) -> str:
    """Stability's 32-hex request id, stable for the call (the error builder derives the same one)."""
    return hashlib.blake2b(call.request_id.encode(), digest_size=16).hexdigest()


def _accepts(call: Call, media_type: str) -> bool:
    return media_type in call.headers.get("accept", "").lower()


def _moderate(call: Call, *texts: str) -> None:
    words = {w for text in texts for w in text.lower().replace(",", " ").split()}
    flagged = sorted(words & call.state.settings.banned_words)
    if flagged:
        raise refusal(403, "content_moderation", f"prompt: flagged by content moderation ({flagged[0]}); you have not been charged")


def _start_image(call: Call) -> tuple[int, int] | None:
    """Size of the uploaded start image, or None without one; a non-image or a tiny one is a 400."""
    uploads = call.files.get("image")
    if not uploads:
        return None
    try:
        _, width, height = media.image_size(uploads[0].data)
    except ValueError:
        raise refusal(400, "bad_request", "image: must be a JPEG, PNG or WebP image") from None
    if min(width, height) < models.MIN_INPUT_SIDE:
        raise refusal(400, "bad_request", f"image: each side must be at least {models.MIN_INPUT_SIDE} pixels, got {width}x{height}")
    return width, height


def _image_reply(call: Call, width: int, height: int) -> Reply:
    """The picture as ``accept`` asks: JSON with base64 (application/json) or raw bytes (image/*)."""
    body = call.body
    fmt = body.get("output_format") or "png"
    seed = models.seed_used(body.get("seed"), call.request_id, models.MAX_SEED_V2)
    data = media.image(width, height, fmt, seed=seed, label=body["prompt"][:64])
    if _accepts(call, "application/json"):
        answer = {"image": base64.b64encode(data).decode(), "finish_reason": "SUCCESS", "seed": seed}
        return JsonReply(answer, media_type=f"application/json; type=image/{fmt}", headers={"x-request-id": _request_hex(call)})
    headers = {"x-request-id": _request_hex(call), "finish-reason": "SUCCESS", "seed": str(seed)}
    return BinaryReply(data, media_type=media.IMAGE_MEDIA_TYPES[fmt], headers=headers)


def _image_to_image_size(call: Call, start: tuple[int, int], megapixels: float) -> tuple[int, int]:
    if call.body.get("strength") is None:
        raise refusal(400, "bad_request", "strength: is required when an image is sent")
    return models.fit(*start, megapixels)


@handles("sd.generate.ultra")
def ultra(call: Call) -> Reply:
    _moderate(call, call.body["prompt"])
    start = _start_image(call)
    megapixels = models.MEGAPIXELS["ultra"]
    if start is not None:
        return _image_reply(call, *_image_to_image_size(call, start, megapixels))
    return _image_reply(call, *models.size_for_aspect(call.body.get("aspect_ratio") or "1:1", megapixels))


@handles("sd.generate.core")
def core(call: Call) -> Reply:
    _moderate(call, call.body["prompt"])
    return _image_reply(call, *models.size_for_aspect(call.body.get("aspect_ratio") or "1:1", models.MEGAPIXELS["core"]))


@handles("sd.generate.sd3")
def sd3(call: Call) -> Reply:
    _moderate(call, call.body["prompt"])
    megapixels = models.MEGAPIXELS["sd3"]
    if call.body.get("mode") == "image-to-image":
        start = _start_image(call)
        if start is None:
            raise refusal(400, "bad_request", "image: is required when mode is image-to-image")
        return _image_reply(call, *_image_to_image_size(call, start, megapixels))
    return _image_reply(call, *models.size_for_aspect(call.body.get("aspect_ratio") or "1:1", megapixels))


@handles("sd.v1.text_to_image")
def text_to_image(call: Call) -> Reply:
    engine = call.params["engine_id"]
    if engine not in models.ENGINES:
        raise refusal(404, "not_found", f"The specified engine (ID {engine}) was not found.")
    body: dict[str, Any] = call.body
    prompts = [p["text"] for p in body["text_prompts"] if p.get("text", "").strip()]
    if not prompts:
        raise refusal(400, "invalid_prompts", "text_prompts: at least one prompt needs text")
    _moderate(call, *(p["text"] for p in body["text_prompts"] if p.get("weight", 1) > 0))
    as_png = _accepts(call, "image/png")
    samples = body.get("samples") or 1
    if as_png and samples > 1:
        raise refusal(400, "invalid_samples", "samples: must be 1 when Accept is image/png")
    default = models.v1_default_size(engine)
    width, height = body.get("width") or default, body.get("height") or default
    problem = models.v1_size_problem(engine, width, height)
    if problem:
        raise refusal(400, "invalid_height_or_width", problem)
    first_seed = models.seed_used(body.get("seed"), call.request_id, models.MAX_SEED_V1)
    seeds = [(first_seed + i) % (models.MAX_SEED_V1 + 1) for i in range(samples)]
    images = [media.png(width, height, seed=seed, label=prompts[0][:64]) for seed in seeds]
    if as_png:
        return BinaryReply(images[0], media_type="image/png", headers={"finish-reason": "SUCCESS", "seed": str(seeds[0])})
    artifacts = [{"base64": base64.b64encode(data).decode(), "finishReason": "SUCCESS", "seed": seed} for data, seed in zip(images, seeds)]
    return JsonReply({"artifacts": artifacts})
