"""Flux through the OpenAI Images API: a synchronous answer in OpenAI's images shape, JPEG images."""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

from ... import media
from ...errors import ApiError
from ...ids import derived_int
from ...media_routes import image_path
from ...replies import JsonReply, Reply
from .. import handles

if TYPE_CHECKING:
    from ...pipeline import Call

LONG_SIDE = 1024


def _size(body: dict[str, Any]) -> tuple[int, int]:
    """``aspect_ratio`` (Kontext / ultra framing) wins over ``size``; the long side is 1024 then."""
    ratio = body.get("aspect_ratio")
    if ratio:
        w, h = (int(part) for part in ratio.split(":"))
        return (LONG_SIDE, round(LONG_SIDE * h / w)) if w >= h else (round(LONG_SIDE * w / h), LONG_SIDE)
    width, height = (int(side) for side in (body.get("size") or "1024x1024").split("x"))
    return width, height


def _moderated(call: Call, prompt: str) -> bool:
    words = set(re.findall(r"[\w-]+", prompt.lower()))
    return bool(words & call.state.settings.banned_words)


@handles("flux.openai.images_generations")
def images_generations(call: Call) -> Reply:
    body = call.body
    if _moderated(call, body["prompt"]):
        raise ApiError(400, "invalid_request", "Flux task ended with status Content Moderated", param="prompt", code="content_policy_violation")
    width, height = _size(body)
    as_base64 = body.get("response_format") == "b64_json"
    data = []
    for index in range(body.get("n") or 1):
        seed = derived_int(call.seed, body["model"], body["prompt"], width, height, body.get("seed"), index) % 10**12
        item: dict[str, Any] = (
            {"b64_json": base64.b64encode(media.image(width, height, "jpeg", seed=seed)).decode()}
            if as_base64
            else {"url": call.url_for(image_path(width, height, seed, "jpeg"))}
        )
        if body.get("prompt_upsampling"):
            item["revised_prompt"] = f"{body['prompt'].rstrip('.')}, highly detailed, natural light"
        data.append(item)
    return JsonReply({"created": int(call.state.clock.now()), "data": data})
