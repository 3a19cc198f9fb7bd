"""Ideogram endpoints: generate from JSON, remix / upscale / describe from multipart uploads."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ... import media
from ...media_routes import image_path
from ...replies import JsonReply, Reply
from .. import handles
from . import models
from .errors import invalid_input, unsafe_prompt

if TYPE_CHECKING:
    from ...pipeline import Call


def _upload_size(call: Call) -> tuple[int, int]:
    """Pixel size of ``image_file``; anything but a JPEG, PNG or WebP image is invalid input."""
    uploads = call.files.get("image_file")
    if not uploads:
        raise invalid_input("image_file: a JPEG, PNG or WebP file is required")
    try:
        _, width, height = media.image_size(uploads[0].data)
    except ValueError:
        raise invalid_input("image_file: must be a JPEG, PNG or WebP image") from None
    return width, height


def _moderate(call: Call, prompt: str) -> None:
    if set(prompt.lower().replace(",", " ").split()) & call.state.settings.banned_words:
        raise unsafe_prompt()


def _form_request(call: Call) -> dict[str, Any]:
    """Remix and upscale send image_request as a JSON string: parse it, judge it by its contentSchema."""
    try:
        request = json.loads(call.body["image_request"])
    except ValueError:
        raise invalid_input("image_request: must be a JSON object written as a string") from None
    if not isinstance(request, dict):
        raise invalid_input("image_request: must be a JSON object")
    check = call.state.registry.check(call.contract.pointer("request", "body", "properties", "image_request", "contentSchema"))
    for violation in check.violations(request):
        raise invalid_input(f"image_request.{violation.path.replace('/', '.') or '(root)'}: {violation.message}")
    return request


def _request(call: Call, request: dict[str, Any]) -> dict[str, Any]:
    """Refuse what Ideogram refuses beyond the schema: conflicting fields, an unsafe prompt."""
    problem = models.conflict(request)
    if problem:
        raise invalid_input(problem)
    _moderate(call, request.get("prompt") or "")
    return request


def _images(call: Call, request: dict[str, Any], size: tuple[int, int], prompt: str, extra: dict[str, Any] | None = None) -> Reply:
    """The GenerateImageResponse: one PNG URL per image on the relay's host ("已反代图片")."""
    width, height = size
    items = []
    for seed in models.seeds(request.get("seed"), call.request_id, request.get("num_images") or 1):
        items.append({
            "url": call.url_for(image_path(width, height, seed)),
            "prompt": prompt,
            "resolution": f"{width}x{height}",
            "is_image_safe": True,
            "seed": seed,
            **(extra or {}),
        })
    return JsonReply({"created": models.created(call.state.clock.now()), "data": items})


def _style(request: dict[str, Any]) -> dict[str, Any]:
    style = models.style_of(request)
    return {"style_type": style} if style else {}


@handles("ideogram.generate")
def generate(call: Call) -> Reply:
    request = _request(call, call.body["image_request"])
    prompt = models.final_prompt(request["prompt"], request.get("magic_prompt_option"))
    return _images(call, request, models.size_for(request), prompt, _style(request))


@handles("ideogram.remix")
def remix(call: Call) -> Reply:
    request = _request(call, _form_request(call))
    source = _upload_size(call)
    prompt = models.final_prompt(request["prompt"], request.get("magic_prompt_option"))
    return _images(call, request, models.size_for(request, source), prompt, _style(request))


@handles("ideogram.upscale")
def upscale(call: Call) -> Reply:
    request = _request(call, _form_request(call))
    width, height = _upload_size(call)
    big = models.upscaled(width, height)
    prompt = request.get("prompt") or models.descriptions(width, height, call.request_id)[0]["text"]
    return _images(call, request, big, prompt, {"resolution": f"{width}x{height}", "upscaled_resolution": f"{big[0]}x{big[1]}"})


@handles("ideogram.describe")
def describe(call: Call) -> Reply:
    width, height = _upload_size(call)
    upload = call.files["image_file"][0]
    return JsonReply({"descriptions": models.descriptions(width, height, f"{upload.filename}:{upload.size}")})
