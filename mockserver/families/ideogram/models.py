"""Ideogram as its API behaves: sizes from aspect ratios and resolutions, seeds, MagicPrompt, captions.

No HTTP here: handlers pass in what they read from the request.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ...ids import derived_int

MAX_SEED = 2_147_483_647
MAX_SIDE = 4096  # the mock's media URLs serve up to this
# Ideogram's output size per aspect ratio: 1:1 and 2:3 as documented, the rest from its resolution list.
ASPECT_SIZES = {
    "ASPECT_1_1": (1024, 1024),
    "ASPECT_2_3": (832, 1248),
    "ASPECT_3_2": (1248, 832),
    "ASPECT_16_9": (1312, 736),
    "ASPECT_9_16": (736, 1312),
    "ASPECT_10_16": (800, 1280),
    "ASPECT_16_10": (1280, 800),
    "ASPECT_4_3": (1152, 864),
    "ASPECT_3_4": (864, 1152),
    "ASPECT_1_3": (512, 1536),
    "ASPECT_3_1": (1536, 512),
}
NO_STYLE_MODELS = frozenset({"V_1", "V_1_TURBO"})
NO_PALETTE_MODELS = frozenset({"V_1", "V_1_TURBO", "V_2A", "V_2A_TURBO"})


def created(now: float) -> str:
    """``2024-10-30T18:45:11.507243+00:00``: microseconds and an explicit +00:00, as Ideogram writes it."""
    return datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="microseconds")


def conflict(request: dict[str, Any]) -> str | None:
    """A combination of fields Ideogram refuses, as '<field>: <why>', or None."""
    model = request.get("model") or "V_2"
    if request.get("aspect_ratio") and request.get("resolution"):
        return "resolution: cannot be combined with aspect_ratio"
    if request.get("style_type") and model in NO_STYLE_MODELS:
        return f"style_type: not supported by {model}"
    if request.get("color_palette") and model in NO_PALETTE_MODELS:
        return f"color_palette: not supported by {model}"
    return None


def size_for(request: dict[str, Any], source: tuple[int, int] | None = None) -> tuple[int, int]:
    """resolution, else aspect_ratio, else the upload's nearest aspect ratio (remix), else 1:1."""
    resolution = request.get("resolution")
    if resolution:
        _, width, height = resolution.split("_")
        return int(width), int(height)
    aspect = request.get("aspect_ratio") or (nearest_aspect(*source) if source else "ASPECT_1_1")
    return ASPECT_SIZES[aspect]


def nearest_aspect(width: int, height: int) -> str:
    ratio = width / height
    return min(ASPECT_SIZES, key=lambda name: abs(ASPECT_SIZES[name][0] / ASPECT_SIZES[name][1] - ratio))


def upscaled(width: int, height: int) -> tuple[int, int]:
    """4x for small inputs (the doc's 512 -> 2048), 2x otherwise, within what the media URLs serve."""
    factor = 4 if max(width, height) <= 512 else 2
    factor = min(factor, MAX_SIDE / max(width, height))
    return max(1, int(width * factor)), max(1, int(height * factor))


def seeds(requested: int | None, salt: str, count: int) -> list[int]:
    """One seed per image: the requested one and its successors, or random ones."""
    first = requested if requested is not None else derived_int("ideogram-seed", salt) % (MAX_SEED + 1)
    return [(first + i) % (MAX_SEED + 1) for i in range(count)]


def final_prompt(prompt: str, option: str | None) -> str:
    """MagicPrompt rewrites the prompt when ON (and, for short prompts, when AUTO)."""
    if option == "ON" or (option in (None, "AUTO") and len(prompt.split()) < 12):
        return f"A richly detailed image of {prompt.rstrip('.')}, with balanced composition, vivid colours and soft natural light."
    return prompt


def style_of(request: dict[str, Any]) -> str | None:
    if (request.get("model") or "V_2") in NO_STYLE_MODELS:
        return None
    return request.get("style_type") or "GENERAL"


def descriptions(width: int, height: int, salt: str) -> list[dict[str, str]]:
    """A caption that at least gets the picture's shape right, worded from a stable seed."""
    subjects = ("a lighthouse on dark cliffs", "a quiet harbour at dawn", "a fox resting in fresh snow", "a glass greenhouse in rain", "a paper lantern over a river")
    styles = ("soft watercolor", "cinematic lighting", "ink wash", "an isometric 3D render", "an oil painting")
    seed = derived_int("ideogram-describe", salt)
    shape = "square" if abs(width - height) < max(width, height) * 0.05 else ("wide" if width > height else "tall")
    text = f"A {shape} picture of {subjects[seed % 5]} in the style of {styles[(seed // 5) % 5]}, {width}x{height} pixels."
    return [{"text": text}]
