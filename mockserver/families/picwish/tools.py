"""What each PicWish tool makes of its input: the result fields, their pixel sizes and formats.

No HTTP here: handlers hand in the request's fields and the source picture's size, and get back the
pictures to serve and the plain fields to show once the task succeeds.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from ... import media
from ...store import storable
from .errors import bad_parameter

MAX_SIDE = 4096  # the mock's media routes serve pictures up to this side
DEFAULT_URL_SIZE = (800, 600)  # a source given by URL is not downloaded; the docs' example size
DOCUMENT_EXTENSIONS = ("pdf", "ppt", "pptx", "xls", "xlsx", "doc", "docx", "jpeg", "jpg", "png", "gif", "bmp")
OUTPUT_FORMATS = ("png", "jpg", "webp")


@dataclass(frozen=True)
class Source:
    width: int
    height: int
    fmt: str
    """png, jpg or webp (what the picture is), or the file extension of a non-image document."""
    decodable: bool = True


@storable
@dataclass(frozen=True)
class Picture:
    field: str
    width: int
    height: int
    fmt: str


@storable
@dataclass(frozen=True)
class Outcome:
    pictures: tuple[Picture, ...]
    fields: dict[str, Any]
    """Plain result fields (sizes, rectangles, echoes, empty slots)."""


def source_of(data: bytes | None, filename: str, url: str | None, tool: str) -> Source:
    """The input as the tool sees it; an undecodable upload is a Source the task will refuse (-7)."""
    if data is None:
        extension = (url or "").rsplit("?", 1)[0].rsplit(".", 1)[-1].lower()
        return Source(*DEFAULT_URL_SIZE, _normal(extension))
    try:
        fmt, width, height = media.image_size(data)
        return Source(width, height, _normal(fmt))
    except ValueError:
        pass
    try:  # bmp, gif and friends: Pillow reads their size
        from PIL import Image

        with Image.open(io.BytesIO(data)) as picture:
            return Source(picture.width, picture.height, "png")
    except Exception:  # noqa: BLE001 (any decoder failure means "not an image")
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        readable = tool == "ocr" and extension in DOCUMENT_EXTENSIONS and bool(data)
        return Source(*DEFAULT_URL_SIZE, extension, decodable=readable)


def _normal(fmt: str) -> str:
    return {"jpeg": "jpg"}.get(fmt, fmt) if fmt in ("jpeg", "jpg", "png", "webp") else "jpg"


def check(tool: str, params: dict[str, Any]) -> None:
    """Rules the body schema cannot state; each broken one is PicWish's 400."""
    if params.get("return_type") == 3 and params.get("sync") != 1:
        raise bad_parameter("return_type 3 requires sync=1", "return_type")
    if tool == "background" and not params.get("prompt") and "scene_type" not in params:
        raise bad_parameter("prompt or scene_type is required", "prompt")
    if tool == "inpaint" and "rectangles" in params:
        rectangles(params["rectangles"])
    if tool == "idphoto" and "size" in params:
        width, height = (int(n) for n in params["size"].split("x"))
        if not (100 <= width <= 2000 and 100 <= height <= 2000):
            raise bad_parameter("size must be {width}x{height} with each side 100-2000", "size")
    if tool == "imgcompress":
        if "quality" in params and "kbyte" in params:
            raise bad_parameter("quality and kbyte cannot be used together", "kbyte")
        if "kbyte" in params and params.get("format") == "png":
            raise bad_parameter("kbyte does not work with png output", "kbyte")


def rectangles(raw: str) -> list[dict[str, int]]:
    try:
        areas = json.loads(raw)
    except ValueError:
        areas = None
    keys = ("x", "y", "width", "height")
    valid = isinstance(areas, list) and 0 < len(areas) <= 50 and all(
        isinstance(a, dict) and all(isinstance(a.get(k), int) and not isinstance(a.get(k), bool) and a[k] >= 0 for k in keys) for a in areas
    )
    if not valid:
        raise bad_parameter("rectangles must be a JSON array of 1-50 {x, y, width, height} objects", "rectangles")
    return areas


def _fit(width: int, height: int) -> tuple[int, int]:
    """Shrink to the largest size the mock serves, keeping the aspect."""
    scale = min(1.0, MAX_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _auto_factor(source: Source) -> int:
    side = max(source.width, source.height)
    return 4 if side <= 512 else 2 if side <= 1024 else 1


def outcome(tool: str, params: dict[str, Any], source: Source) -> Outcome:
    w, h = source.width, source.height
    same_fmt = source.fmt if source.fmt in OUTPUT_FORMATS else "jpg"
    if tool == "segmentation":
        return _segmentation(params, source)
    if tool == "scale":
        factor = params.get("scale_factor") or _auto_factor(source)
        return Outcome((Picture("image", *_fit(w * factor, h * factor), same_fmt),), {"type": params.get("type", "clean")})
    if tool == "background":
        count = params.get("batch_size", 2)
        slots = {f"image_{i}": "" for i in range(count + 1, 5)}
        return Outcome(tuple(Picture(f"image_{i}", w, h, "jpg") for i in range(1, count + 1)), slots)
    if tool == "idphoto":
        size = tuple(int(n) for n in params["size"].split("x")) if "size" in params else (w, h)
        return Outcome((Picture("image", *size, params.get("format", "png")),), {})
    if tool == "colorization":
        fmt = {"jpeg": "jpg"}.get(params.get("format", "jpg"), params.get("format", "jpg"))
        return Outcome((Picture("image", w, h, fmt),), {})
    if tool == "imgcompress":
        return Outcome((Picture("image", *_resized(params, w, h), params.get("format", same_fmt)),), {})
    if tool == "correction":
        return Outcome((Picture("image", w, h, "jpg"),), {"type": params.get("type", 1)})
    return Outcome((Picture("image", w, h, "jpg"),), {})  # inpaint: the picture with the areas filled


def _resized(params: dict[str, Any], w: int, h: int) -> tuple[int, int]:
    width, height = params.get("width") or 0, params.get("height") or 0
    if width and not height:
        height = round(h * width / w)
    elif height and not width:
        width = round(w * height / h)
    return _fit(width or w, height or h)


def _segmentation(params: dict[str, Any], source: Source) -> Outcome:
    w, h = source.width, source.height
    rect = {"x": w * 15 // 100, "y": h // 10, "width": max(1, w * 70 // 100), "height": max(1, h * 80 // 100)}
    width, height = (rect["width"], rect["height"]) if params.get("crop") == 1 else (w, h)
    output_type = params.get("output_type", 2)
    pictures, fields = [], {"image_width": width, "image_height": height, "foreground_rect": rect, "mask": "", "image": ""}
    if output_type in (1, 2):
        pictures.append(Picture("image", width, height, params.get("format", "png")))
    if output_type in (1, 3):
        pictures.append(Picture("mask", width, height, "png"))
    for picture in pictures:
        fields.pop(picture.field)
    return Outcome(tuple(pictures), fields)
