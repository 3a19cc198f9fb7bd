"""The template catalogue: 137 system templates made from the documented filter values (GPTNB page 分页查询 PPT 模板).

The catalogue is the same in every instance and process (ids and fields derive from the index), so a
template id seen once can be used later; custom templates (type 4) do not exist in the mock.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from ...ids import derived_int
from ...media_routes import image_path

SYSTEM = 1
CUSTOM = 4
COUNT = 137
CATEGORIES = ("年终总结", "教育培训", "医学医疗", "商业计划书", "企业介绍", "毕业答辩", "营销推广", "晚会表彰", "个人简历")
STYLES = ("扁平简约", "商务科技", "文艺清新", "卡通手绘", "中国风", "创意时尚", "创意趣味")
COLORS = {"#FA920A": "橙色", "#589AFD": "蓝色", "#7664FA": "紫色", "#65E5EC": "青色", "#61D328": "绿色", "#F5FD59": "黄色", "#E05757": "红色", "#8F5A0B": "棕色", "#FFFFFF": "白色", "#000000": "黑色"}
FIRST_ID = 1_804_412_230_881_271_808  # the documented template ids are 2024 snowflakes
CATALOGUE_START = 1_719_000_000  # 2024-06-21, when the documented templates were made


@functools.cache
def catalogue() -> tuple[dict[str, Any], ...]:
    """Every system template, without coverUrl (that needs the request's host)."""
    colors = tuple(COLORS)
    found = []
    for index in range(COUNT):
        category, style, color = CATEGORIES[index % len(CATEGORIES)], STYLES[index * 5 % len(STYLES)], colors[index * 3 % len(colors)]
        made = CATALOGUE_START + index * 86_400 + derived_int("docmee-template", index) % 86_400
        found.append({
            "id": str(FIRST_ID + index * 9_400_000_000_000 + derived_int("docmee-template-id", index) % 4_000_000),
            "type": SYSTEM,
            "category": category,
            "style": style,
            "themeColor": color,
            "subject": f"{COLORS[color][:-1]}{style}{category}",
            "num": 12 + derived_int("docmee-pages", index) % 20,
            "createTime": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(made + 8 * 3600)),
        })
    return tuple(found)


def find(template_id: str | None) -> dict[str, Any] | None:
    return next((t for t in catalogue() if t["id"] == template_id), None)


def matching(filters: dict[str, Any]) -> list[dict[str, Any]]:
    """Templates of the filtered pool; an empty or null filter value means all."""
    if filters.get("type") != SYSTEM:
        return []
    excluded = set(filters.get("neq_id") or [])
    return [
        t
        for t in catalogue()
        if t["id"] not in excluded and all(not filters.get(name) or filters[name] == t[name] for name in ("category", "style", "themeColor"))
    ]


def cover_path(template_id: str) -> str:
    return image_path(480, 270, derived_int("docmee-cover", template_id) % 1_000_000)


def with_cover(template: dict[str, Any], url_for: Any) -> dict[str, Any]:
    return {**template, "coverUrl": url_for(cover_path(template["id"]))}
