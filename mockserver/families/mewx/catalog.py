"""The template and model lists MewXAI offers (GPTNB pages 获取模板列表 and 获取模型列表), and what a generation costs."""

from __future__ import annotations

from typing import Any

# From a client's cached copy of the qrcode list (ids 3 and 54 verbatim); the art-text entries are
# the mock's guesses, since that list and its type word were not recoverable.
TEMPLATES: dict[str, list[dict[str, Any]]] = {
    "qrcode": [
        {"id": 3, "name": "钢铁侠", "is_vip": 0, "points": 1},
        {"id": 12, "name": "油画肖像", "is_vip": 0, "points": 2},
        {"id": 54, "name": "星河与你", "is_vip": 1, "points": 10, "iw": 0.28},
    ],
    "shadow": [
        {"id": 201, "name": "竹林光影", "is_vip": 0, "points": 2},
        {"id": 211, "name": "金色艺术字", "is_vip": 0, "points": 2},
    ],
}
TEMPLATE_TYPE_ALIASES = {"text": "shadow", "arttext": "shadow"}
MODELS: dict[str, list[dict[str, Any]]] = {
    "qrcode": [
        {"id": 67, "name": "卡通插画"},
        {"id": 51, "name": "糖果头像"},
        {"id": 69, "name": "水墨画"},
        {"id": 70, "name": "美漫"},
        {"id": 74, "name": "彩漫4"},
    ],
}
CUSTOM_POINTS = 5
UPSCALER_POINTS = {1: 1, 2: 2, 3: 6, 4: 4}


def templates(kind: str) -> list[dict[str, Any]]:
    return TEMPLATES.get(TEMPLATE_TYPE_ALIASES.get(kind, kind), [])


def template(template_id: Any) -> dict[str, Any] | None:
    wanted = str(template_id)
    return next((t for group in TEMPLATES.values() for t in group if str(t["id"]) == wanted), None)


def models(kind: str) -> list[dict[str, Any]]:
    return MODELS.get(kind, [])


def has_model(model_id: Any) -> bool:
    return any(str(m["id"]) == str(model_id) for group in MODELS.values() for m in group)
