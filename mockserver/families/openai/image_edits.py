"""Image edits and variations: multipart uploads in, real images of the asked size out.

dall-e-2 edits and varies one square PNG and answers URLs or base64; the GPT Image models edit up to
16 images of any of PNG, JPEG and WebP, always answer base64 in the asked ``output_format``, and
report token usage, as OpenAI's images API does (openapi.yaml createImageEdit / createImageVariation).
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from ... import media
from ... import text as texts
from ...errors import ApiError
from ...ids import derived_int
from ...media_routes import image_path
from ...replies import JsonReply, Reply
from .. import handles

if TYPE_CHECKING:
    from ...parsing import Upload
    from ...pipeline import Call

DALL_E_2_SIZES = ("256x256", "512x512", "1024x1024")
GPT_IMAGE_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
MAX_DALL_E_2_BYTES = 4 * 1024 * 1024
MAX_GPT_IMAGE_BYTES = 50 * 1024 * 1024
MAX_GPT_IMAGES = 16
# GPT Image output tokens for a 1024x1024 picture per quality (OpenAI's image generation guide,
# "Cost and latency"); other sizes scale with their area. Each input image costs a fixed tile count.
OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160}
INPUT_IMAGE_TOKENS = 323


def _invalid(message: str, param: str) -> ApiError:
    return ApiError(400, "invalid_request", message, param=param, code="invalid_value")


def _uploads(call: Call, name: str) -> list[Upload]:
    uploads = call.files.get(name) or []
    if not uploads:
        raise _invalid(f"'{name}' is required and must be a file upload", name)
    return uploads


def _read(upload: Upload, param: str, limit: int) -> tuple[str, int, int]:
    """The upload's (format, width, height); anything that is not a PNG, JPEG or WebP is refused."""
    if len(upload.data) > limit:
        raise _invalid(f"Uploaded image must be less than {limit // (1024 * 1024)} MB.", param)
    try:
        return media.image_size(upload.data)
    except ValueError:
        raise _invalid(f"Invalid input image '{upload.filename}': format must be one of image/png, image/jpeg, image/webp.", param) from None


def _dall_e_2_square_png(upload: Upload, param: str) -> tuple[int, int]:
    fmt, width, height = _read(upload, param, MAX_DALL_E_2_BYTES)
    if fmt != "png" or width != height:
        raise _invalid("Uploaded image must be a square PNG and less than 4 MB.", param)
    return width, height


def _fingerprint(uploads: list[Upload]) -> str:
    # Outputs depend on what was uploaded, so a different picture gives a different result.
    return hashlib.blake2b(b"".join(u.data for u in uploads), digest_size=8).hexdigest()


def _size(body: dict[str, Any], allowed: tuple[str, ...]) -> tuple[int, int]:
    size = body.get("size") or "1024x1024"
    if size not in allowed:
        raise _invalid(f"Invalid value: '{size}'. Supported values are: {', '.join(repr(s) for s in allowed)}.", "size")
    if size == "auto":
        size = "1024x1024"
    width, height = (int(side) for side in size.split("x"))
    return width, height


def _dall_e_2_images(call: Call, width: int, height: int, salt: tuple[Any, ...]) -> list[dict[str, str]]:
    as_base64 = call.body.get("response_format") == "b64_json"
    data = []
    for index in range(call.body.get("n") or 1):
        seed = derived_int(call.seed, *salt, index) % 10**12
        if as_base64:
            data.append({"b64_json": base64.b64encode(media.image(width, height, "png", seed=seed)).decode()})
        else:
            data.append({"url": call.url_for(image_path(width, height, seed))})
    return data


@handles("openai.images.edits")
def edit(call: Call) -> Reply:
    body = call.body
    model = body.get("model") or "dall-e-2"
    images = _uploads(call, "image")
    prompt = body["prompt"]
    if model == "dall-e-2":
        if len(images) > 1:
            raise _invalid("dall-e-2 edits exactly one image; upload one 'image'.", "image")
        side = _dall_e_2_square_png(images[0], "image")
        for mask in call.files.get("mask") or []:
            if _dall_e_2_square_png(mask, "mask") != side:
                raise _invalid("Invalid mask image: the mask and the image must have the same dimensions.", "mask")
        width, height = _size(body, DALL_E_2_SIZES)
        data = _dall_e_2_images(call, width, height, (model, prompt, width, height, _fingerprint(images)))
        return JsonReply({"created": int(call.state.clock.now()), "data": data})
    if len(images) > MAX_GPT_IMAGES:
        raise _invalid(f"At most {MAX_GPT_IMAGES} images can be edited at once.", "image")
    for upload in images:
        _read(upload, "image", MAX_GPT_IMAGE_BYTES)
    if body.get("response_format") is not None:
        raise ApiError(400, "invalid_request", f"Unknown parameter: 'response_format'. {model} always answers b64_json.", param="response_format", code="unknown_parameter")
    width, height = _size(body, GPT_IMAGE_SIZES)
    fmt = body.get("output_format") or "png"
    data = []
    for index in range(body.get("n") or 1):
        seed = derived_int(call.seed, model, prompt, width, height, fmt, _fingerprint(images), index) % 10**12
        data.append({"b64_json": base64.b64encode(media.image(width, height, fmt, seed=seed)).decode()})
    quality = body.get("quality") if body.get("quality") in OUTPUT_TOKENS else "medium"
    text_tokens = texts.count_tokens(prompt)
    image_tokens = INPUT_IMAGE_TOKENS * len(images)
    output_tokens = OUTPUT_TOKENS[quality] * width * height // (1024 * 1024) * len(data)
    return JsonReply({
        "created": int(call.state.clock.now()),
        "background": "transparent" if body.get("background") == "transparent" else "opaque",
        "data": data,
        "output_format": fmt,
        "quality": quality,
        "size": f"{width}x{height}",
        "usage": {
            "input_tokens": text_tokens + image_tokens,
            "input_tokens_details": {"image_tokens": image_tokens, "text_tokens": text_tokens},
            "output_tokens": output_tokens,
            "total_tokens": text_tokens + image_tokens + output_tokens,
        },
    })


@handles("openai.images.variations")
def variations(call: Call) -> Reply:
    body = call.body
    images = _uploads(call, "image")
    _dall_e_2_square_png(images[0], "image")
    width, height = _size(body, DALL_E_2_SIZES)
    data = _dall_e_2_images(call, width, height, ("variation", width, height, _fingerprint(images)))
    return JsonReply({"created": int(call.state.clock.now()), "data": data})
