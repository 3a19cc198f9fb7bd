"""Art QR pictures that still scan: a QR code (made with segno, or the caller's own) blended onto art.

Dark modules darken the art and light modules lighten it; ``strength`` (the prompt's ``--iw``) says
how far, never so little that a reader loses the code.
"""

from __future__ import annotations

import io

import segno
from PIL import Image, ImageOps

from ... import media

QUIET_ZONE = 4  # modules of light border readers need around the code
COVER = 0.8  # share of the shorter side the code covers


def modules(content: str) -> Image.Image:
    """The code as a one-pixel-per-module mask (255 = dark), with its quiet zone, high error correction."""
    rows = list(segno.make(content, error="h").matrix_iter(border=QUIET_ZONE))
    mask = Image.new("L", (len(rows[0]), len(rows)))
    mask.putdata([255 if dark else 0 for row in rows for dark in row])
    return mask


def uploaded_modules(data: bytes) -> Image.Image:
    """A caller's QR picture as a dark-module mask (raises ValueError when it is not a picture)."""
    try:
        picture = Image.open(io.BytesIO(data))
        picture.load()
    except Exception as exc:  # noqa: BLE001 (any decoder failure)
        raise ValueError("qr_image is not a picture") from exc
    grey = ImageOps.pad(picture.convert("L"), (max(picture.size),) * 2, color=255)
    return grey.point(lambda level: 255 if level < 128 else 0)


def art_qr(mask: Image.Image, width: int, height: int, *, seed: int, strength: float) -> bytes:
    """A ``width`` x ``height`` PNG: art with the code centred on it."""
    art = Image.open(io.BytesIO(media.png(width, height, seed=seed))).convert("RGB")
    side = int(min(width, height) * COVER)
    code = mask.resize((side, side), Image.Resampling.NEAREST)
    amount = 0.6 + 0.35 * min(max(strength, 0.0), 1.0)  # 0.6 keeps dark <= 40% and light >= 60% of white
    box = ((width - side) // 2, (height - side) // 2)
    region = art.crop((*box, box[0] + side, box[1] + side))
    dark = Image.blend(region, Image.new("RGB", region.size, (0, 0, 0)), amount)
    light = Image.blend(region, Image.new("RGB", region.size, (255, 255, 255)), amount)
    art.paste(Image.composite(dark, light, code), box)
    out = io.BytesIO()
    art.save(out, format="PNG", compress_level=1)
    return out.getvalue()
