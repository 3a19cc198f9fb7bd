"""Slides in Docmee's structural protocol (pptxProperty, published as
docmee/docmee-pptxproperty-structural-protocol) and as real .pptx files.

One model of a deck, the pptxProperty object, is the source of every rendering: the .pptx download,
json2ppt, asyncPptInfo's partial pages and loadPptx's base64(gzip(JSON)). ppt2json reads a .pptx back
into the same shape, so json2ppt → ppt2json keeps pages and texts.
"""

from __future__ import annotations

import base64
import gzip
import io
import re
from typing import Any

import orjson
from pptx import Presentation
from pptx.exc import PackageNotFoundError
from pptx.util import Emu, Pt

from .outline import leaves, sections

WIDTH, HEIGHT = 960, 540
EMU_PER_PIXEL = 12700  # 960 px = 13.333 in, PowerPoint's 16:9 slide
MAX_SIDE = 4000  # PowerPoint refuses slides over 56 in
MAX_COORDINATE = 100_000
MAX_NODES = 2_000  # a page tree deeper or wider than this is not a slide anyone draws
BLANK_LAYOUT = 6
# XML 1.0 cannot carry control characters (lxml raises on them); clients' JSON may.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class UnreadableDeck(ValueError):
    """The upload is not a presentation python-pptx can open."""


def _text_node(node_id: str, point: list[int], text: str, size: int | None = None) -> dict[str, Any]:
    prop = {"fontSize": size} if size else {}
    return {"id": node_id, "pid": None, "type": "text", "depth": 1, "point": point, "text": text, "extInfo": {"property": prop}, "children": []}


def _page(number: int, children: list[dict[str, Any]]) -> dict[str, Any]:
    background = {"realType": "Background", "anchor": [0, 0, WIDTH, HEIGHT], "fillStyle": {"type": "color", "color": {"realColor": -1, "color": -1}}, "strokeStyle": {}}
    return {"page": number, "extInfo": {"background": background, "slideMasterIdx": 0, "slideLayoutIdx": BLANK_LAYOUT}, "children": children}


def deck(tree: dict[str, Any]) -> dict[str, Any]:
    """The pptxProperty of an outline: one page per chapter, its title and the lines below it."""
    pages = []
    for number, section in enumerate(sections(tree), start=1):
        title = _text_node(f"{number}-1", [60, 40, 840, 80], section["name"] or tree["name"], 32)
        body = _text_node(f"{number}-2", [60, 140, 840, 360], "\n".join(leaves(section)), 16)
        pages.append(_page(number, [title, body]))
    return {"version": "1.0", "width": WIDTH, "height": HEIGHT, "font": [], "pages": pages, "slideMasters": [{"children": [], "slideLayouts": [], "extInfo": {}}]}


def packed(prop: dict[str, Any]) -> str:
    """base64(gzip(JSON)), as loadPptx and asyncPptInfo carry the structure."""
    return base64.b64encode(gzip.compress(orjson.dumps(prop), mtime=0)).decode()


def first_pages(prop: dict[str, Any], count: int) -> dict[str, Any]:
    return {**prop, "pages": prop.get("pages", [])[:count]}


def _number(value: Any, default: float, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return default
    return min(max(float(value), low), high)


def _emu(pixels: float) -> Emu:
    return Emu(int(round(pixels * EMU_PER_PIXEL)))


def _nodes(children: Any, budget: list[int]) -> list[dict[str, Any]]:
    """Every element node of a page tree (groups flattened), at most MAX_NODES per deck."""
    found: list[dict[str, Any]] = []
    pending = list(children) if isinstance(children, list) else []
    while pending and budget[0] > 0:
        node = pending.pop(0)
        if not isinstance(node, dict):
            continue
        budget[0] -= 1
        found.append(node)
        if isinstance(node.get("children"), list):
            pending = node["children"] + pending
    return found


def to_pptx(prop: dict[str, Any]) -> bytes:
    """A .pptx with one slide per page and a text box per text node (a tolerant reader of any JSON)."""
    presentation = Presentation()
    width = _number(prop.get("width"), WIDTH, 96, MAX_SIDE)
    height = _number(prop.get("height"), HEIGHT, 96, MAX_SIDE)
    presentation.slide_width, presentation.slide_height = _emu(width), _emu(height)
    layout = presentation.slide_layouts[BLANK_LAYOUT]
    budget = [MAX_NODES]
    for page in prop.get("pages") or []:
        slide = presentation.slides.add_slide(layout)
        for node in _nodes(page.get("children") if isinstance(page, dict) else None, budget):
            text = node.get("text")
            if node.get("type") != "text" or not isinstance(text, str):
                continue
            point = node.get("point") if isinstance(node.get("point"), list) else []
            x, y, w, h = (_number(point[i] if i < len(point) else None, d, -MAX_COORDINATE, MAX_COORDINATE) for i, d in enumerate((0, 0, width, 60)))
            box = slide.shapes.add_textbox(_emu(x), _emu(y), _emu(max(w, 1)), _emu(max(h, 1)))
            frame = box.text_frame
            frame.word_wrap = True
            size = (node.get("extInfo") or {}).get("property", {}).get("fontSize") if isinstance(node.get("extInfo"), dict) else None
            for index, line in enumerate(_NOT_XML.sub("", text).split("\n")):
                paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
                paragraph.text = line
                if isinstance(size, int) and 1 <= size <= 400:
                    paragraph.font.size = Pt(size)
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def from_pptx(data: bytes) -> dict[str, Any]:
    """The pptxProperty of a .pptx: canvas size, and per slide its text shapes and pictures."""
    try:
        presentation = Presentation(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise UnreadableDeck(str(exc)) from None
    except Exception as exc:  # zipfile and lxml raise their own kinds on garbage
        raise UnreadableDeck(f"{type(exc).__name__}: {exc}") from None
    width = round((presentation.slide_width or _emu(WIDTH)) / EMU_PER_PIXEL)
    height = round((presentation.slide_height or _emu(HEIGHT)) / EMU_PER_PIXEL)
    pages = []
    for number, slide in enumerate(presentation.slides, start=1):
        children = []
        for index, shape in enumerate(slide.shapes, start=1):
            point = [round((getattr(shape, name) or 0) / EMU_PER_PIXEL) for name in ("left", "top", "width", "height")]
            if shape.has_text_frame:
                children.append(_text_node(f"{number}-{index}", point, shape.text_frame.text.replace("\x0b", "\n")))
            elif shape.shape_type is not None and "PICTURE" in str(shape.shape_type):
                children.append({"id": f"{number}-{index}", "pid": None, "type": "image", "depth": 1, "point": point, "extInfo": {"property": {}}, "children": []})
        pages.append(_page(number, children))
    return {"version": "1.0", "width": width, "height": height, "font": [], "pages": pages, "slideMasters": [{"children": [], "slideLayouts": [], "extInfo": {}}]}
