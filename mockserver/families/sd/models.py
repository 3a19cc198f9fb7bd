"""Stability as its API behaves: output sizes, seeds, engines and their size rules. No HTTP here."""

from __future__ import annotations

import math

from ...ids import derived_int

MAX_SEED_V2 = 4_294_967_294
MAX_SEED_V1 = 4_294_967_295
MEGAPIXEL = 1024 * 1024
# Output size in megapixels per endpoint (Stability's v2beta docs): "about 1 MP", Core "about 1.5 MP".
MEGAPIXELS = {"ultra": 1.0, "core": 1.5, "sd3": 1.0}
MIN_INPUT_SIDE = 64

SDXL_SIZES = frozenset({(1024, 1024), (1152, 896), (896, 1152), (1216, 832), (832, 1216), (1344, 768), (768, 1344), (1536, 640), (640, 1536)})
ENGINES = ("stable-diffusion-xl-1024-v1-0", "stable-diffusion-xl-1024-v0-9", "stable-diffusion-v1-6", "stable-diffusion-xl-beta-v2-2-2")


def _multiple_of_64(value: float) -> int:
    return max(64, round(value / 64) * 64)


def size_for_aspect(aspect_ratio: str, megapixels: float) -> tuple[int, int]:
    """Pixel size of ``"w:h"`` at about ``megapixels``, sides in multiples of 64 as Stability makes them
    (1 MP: 1:1 -> 1024x1024, 16:9 -> 1344x768, 21:9 -> 1536x640)."""
    w, h = (int(part) for part in aspect_ratio.split(":"))
    return fit(w, h, megapixels)


def fit(width: int, height: int, megapixels: float) -> tuple[int, int]:
    """A ``width`` x ``height`` shape scaled to about ``megapixels`` (image-to-image keeps the start image's shape)."""
    scale = math.sqrt(megapixels * MEGAPIXEL / (width * height))
    return _multiple_of_64(width * scale), _multiple_of_64(height * scale)


def seed_used(requested: float | int | None, salt: str, maximum: int) -> int:
    """The seed the answer reports: the requested one, or a random one (derived from ``salt``) for 0."""
    if requested:
        return int(requested)
    return 1 + derived_int("stability-seed", salt) % maximum


def v1_default_size(engine: str) -> int:
    # The spec's default of 512 is not an allowed SDXL size; SDXL engines answer 1024 (a guess).
    return 1024 if "xl-1024" in engine else 512


def v1_size_problem(engine: str, width: int, height: int) -> str | None:
    """Why ``width`` x ``height`` does not suit ``engine`` (Stability's v1 size rules), or None."""
    if "xl-1024" in engine:
        if (width, height) not in SDXL_SIZES:
            allowed = ", ".join(f"{w}x{h}" for w, h in sorted(SDXL_SIZES))
            return f"height and width must be one of {allowed} for {engine}, got {width}x{height}"
    elif engine == "stable-diffusion-v1-6":
        if not (320 <= width <= 1536 and 320 <= height <= 1536):
            return f"height and width must each be between 320 and 1536 for {engine}, got {width}x{height}"
    elif width > 896 or height > 896 or (width > 512 and height > 512):
        return f"only one side may exceed 512 (up to 896) for {engine}, got {width}x{height}"
    return None
