"""OpenAI's cursor lists (``{object: list, data, first_id, last_id, has_more}``), one way for every list route."""

from __future__ import annotations

from typing import Any

DEFAULT_LIMIT = 20


def cursor_page(items: list[dict[str, Any]], query: dict[str, Any]) -> dict[str, Any]:
    """One page of ``items`` (oldest first, each with an ``id``): ``order`` (desc, newest first, unless
    asc), the ``after`` cursor (an id; unknown ids give an empty page) and ``limit``."""
    ordered = items[::-1] if query.get("order", "desc") == "desc" else list(items)
    after = query.get("after")
    if after is not None:
        ids = [item["id"] for item in ordered]
        ordered = ordered[ids.index(after) + 1 :] if after in ids else []
    limit = query.get("limit", DEFAULT_LIMIT)
    page = ordered[:limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(ordered) > limit,
    }
