"""What a stream fault does to one event, whatever format the event belongs to.

The handler's events are payloads (dicts) or named ``SseEvent``s; these functions return a changed
copy of the same kind, so the SSE framing (``sse.encode``) stays the one way events reach the wire.
They look only at fields every format shares the meaning of: ``id`` and ``usage`` at the top of the
payload or of the object it carries (``response``, ``message``), and Gemini's ``usageMetadata``.
"""

from __future__ import annotations

from typing import Any

import orjson

from .. import sse
from ..ids import derived_alnum
from ..replies import SseEvent
from ..usage import CARRIERS


def _rebuilt(item: Any, payload: Any) -> Any:
    if isinstance(item, SseEvent):
        return SseEvent(payload if not isinstance(item.data, str) else orjson.dumps(payload).decode(), item.event)
    return payload


def _objects(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The payload and the answer objects it carries, each of which may hold an id or a usage."""
    return [payload, *(payload[name] for name in CARRIERS if isinstance(payload.get(name), dict))]


def _copied(payload: dict[str, Any]) -> dict[str, Any]:
    copy = dict(payload)
    for name in CARRIERS:
        if isinstance(copy.get(name), dict):
            copy[name] = dict(copy[name])
    return copy


def carries_usage(item: Any) -> bool:
    payload = sse.payload(item)
    return isinstance(payload, dict) and any("usage" in o or "usageMetadata" in o for o in _objects(payload))


def carries_id(item: Any) -> bool:
    payload = sse.payload(item)
    return isinstance(payload, dict) and any(isinstance(o.get("id"), str) for o in _objects(payload))


def without_usage(item: Any) -> Any:
    """Every ``usage`` is null and ``usageMetadata`` is gone, as from a relay that lost the accounting."""
    if not carries_usage(item):
        return item
    payload = sse.payload(item)
    payload = _copied(payload)
    for target in _objects(payload):
        if "usage" in target:
            target["usage"] = None
        target.pop("usageMetadata", None)
    return _rebuilt(item, payload)


def changed_id(value: str) -> str:
    """Another id of the same shape: the prefix up to the last ``-`` or ``_`` kept, the rest redrawn."""
    cut = max(value.rfind("-"), value.rfind("_")) + 1
    return value[:cut] + derived_alnum(max(len(value) - cut, 8), "id change", value)


def with_changed_id(item: Any) -> Any:
    if not carries_id(item):
        return item
    payload = _copied(sse.payload(item))
    for target in _objects(payload):
        if isinstance(target.get("id"), str):
            target["id"] = changed_id(target["id"])
    return _rebuilt(item, payload)


def malformed(item: Any) -> bytes:
    """The event on the wire with its JSON cut in half: a client's JSON parser fails on it."""
    text = orjson.dumps(sse.payload(item)).decode()
    return sse.encode(SseEvent(text[: max(1, len(text) // 2)], item.event if isinstance(item, SseEvent) else None))
