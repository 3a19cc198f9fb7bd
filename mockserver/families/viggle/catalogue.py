"""Viggle's template catalogue as the mock offers it: a fixed set of Mix templates, tags and Multi
templates (the Viggle template pages (gpt-best.apifox.cn/project-3868318 api-208350214, api-208350175, api-208350176, api-208350215)). Media URLs are the mock's stateless files."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from ...ids import derived_int
from ...media_routes import image_path, video_path

TAGS = ({"id": 1, "name": "Featured", "sort": 1}, {"id": 2, "name": "Trending", "sort": 2}, {"id": 3, "name": "Dance", "sort": 3}, {"id": 4, "name": "Meme", "sort": 4})
_NAMES = ("lil-yachty-walk", "joker-stairs", "moonwalk", "shuffle", "floss", "robot", "salsa-spin", "hip-hop-bounce", "zombie-walk", "ballet-twirl", "k-pop-wave", "victory-jump")
_MULTI_NAMES = ("duet-dance", "trio-wave", "couple-waltz", "squad-jump")


def derived_uuid(*parts: object) -> str:
    return str(uuid.UUID(bytes=hashlib.sha256(repr(parts).encode()).digest()[:16], version=4))


@dataclass(frozen=True)
class Template:
    id: str
    command: str
    tags: tuple[int, ...]
    people: int = 1

    def item(self, base_url: str) -> dict[str, Any]:
        seed = derived_int("viggle-template", self.id)
        video = base_url + video_path(seed)
        cover = base_url + image_path(720, 1280, seed, "jpeg")
        preview = base_url + image_path(360, 640, seed, "webp")
        return {
            "id": self.id,
            "command": f"/mix {self.command}",
            "webCommand": self.command,
            "description": self.command.replace("-", " ").capitalize(),
            "webStatus": 1,
            "dcStatus": 1,
            "appStatus": 1,
            "processedURL": video,
            "processedHdURL": video,
            "processedCoverURL": cover,
            "bgURL": video,
            "bgCoverURL": cover,
            "displayURL": video,
            "displayHdURL": video,
            "displayCoverURL": cover,
            # The mock serves no GIFs: the animated preview is a WebP under both names.
            "gifURL": preview,
            "webPURL": preview,
        }

    def multi_item(self, base_url: str) -> dict[str, Any]:
        segments = [{"uuid": derived_uuid("viggle-segment", self.id, i), "type": "human"} for i in range(self.people)]
        return {**self.item(base_url), "segments": segments}


MIX = tuple(Template(derived_uuid("viggle-mix", name), name, (1 + i % 4, 1 if i < 4 else 2)) for i, name in enumerate(_NAMES))
MULTI = tuple(Template(derived_uuid("viggle-multi", name), name, (1,), people=2 + i % 2) for i, name in enumerate(_MULTI_NAMES))
BY_ID = {t.id: t for t in (*MIX, *MULTI)}


def page(templates: tuple[Template, ...], number: int, size: int, keyword: str = "", tag: int | None = None) -> tuple[Template, ...]:
    """One page of the templates matching ``keyword`` (in the command) and ``tag``; no total is reported."""
    found = tuple(t for t in templates if keyword.lower() in t.command and (tag is None or tag in t.tags))
    return found[(number - 1) * size : number * size]
