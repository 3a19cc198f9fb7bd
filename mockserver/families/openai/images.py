"""Images: DALL·E generations with real PNGs, and gpt-4-all's image replies inside chat content."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from ... import media
from ... import text as texts
from ...errors import ApiError
from ...ids import derived_int
from ...media_routes import image_path
from ...replies import JsonReply, Reply, StreamReply
from ...streaming import wants_stream
from .. import handles
from .chat import ChatCompletion

if TYPE_CHECKING:
    from ...pipeline import Call

SIZES = {
    "dall-e-3": ("1024x1024", "1792x1024", "1024x1792"),
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
}
MAX_N = {"dall-e-3": 1, "dall-e-2": 10}


def _invalid(message: str, param: str) -> ApiError:
    return ApiError(400, "invalid_request", message, param=param, code="invalid_image_request")


def _revised(prompt: str, style: str) -> str:
    look = "natural, true-to-life" if style == "natural" else "vivid, hyper-real"
    return f"A detailed, {look} image of {texts.excerpt(prompt, 300).rstrip('.')}, carefully composed with balanced lighting."


@handles("openai.images.generate")
def generate(call: Call) -> Reply:
    body = call.body
    model = body.get("model") or "dall-e-2"  # the relay's default when the field is missing
    size = body.get("size") or "1024x1024"
    n = body.get("n") or 1
    if size not in SIZES.get(model, SIZES["dall-e-3"]):
        raise _invalid(f"size must be one of {', '.join(SIZES.get(model, SIZES['dall-e-3']))} for {model}", "size")
    if n > MAX_N.get(model, 1):
        raise _invalid(f"You must provide n=1 for {model}." if MAX_N.get(model, 1) == 1 else f"n must be at most {MAX_N[model]}", "n")
    if model == "dall-e-2" and (body.get("quality") == "hd" or body.get("style")):
        raise _invalid("quality 'hd' and style are only supported for dall-e-3", "quality" if body.get("quality") == "hd" else "style")
    width, height = (int(side) for side in size.split("x"))
    style = body.get("style") or "vivid"
    as_base64 = body.get("response_format") == "b64_json"
    data = []
    for index in range(n):
        seed = derived_int(call.seed, model, body["prompt"], size, body.get("quality"), style, index) % 10**12
        item: dict[str, Any] = {}
        if as_base64:
            item["b64_json"] = base64.b64encode(media.image(width, height, "png", seed=seed)).decode()
        else:
            item["url"] = call.url_for(image_path(width, height, seed))
        if model == "dall-e-3":
            item["revised_prompt"] = _revised(body["prompt"], style)
        data.append(item)
    return JsonReply({"created": int(call.state.clock.now()), "data": data})


def _image_reply(call: Call, question: str, seed: int, index: int) -> str:
    """gpt-4-all's answer: the tool-call echo, the image as markdown, a download link, a caption."""
    image_seed = seed % 10**12
    url = call.url_for(image_path(1024, 1024, image_seed))
    echo = json.dumps({"prompt": f"An illustration of {texts.excerpt(question, 200)}", "size": "1024x1024"}, ensure_ascii=False)
    return f"{echo}\n\n![image]({url})\n\n[下载1]({url})\n\n{texts.filler(seed, 10)}"


@handles("openai.chat.gpt4all_image")
def gpt4all_image(call: Call) -> Reply:
    call.extras["content"] = _image_reply
    completion = ChatCompletion(call)
    if wants_stream(call):
        return StreamReply(completion.chunks(), terminator="[DONE]")
    return JsonReply(completion.body())
