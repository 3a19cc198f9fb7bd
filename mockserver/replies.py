"""What a handler returns: the answer as data, before it becomes bytes on the wire.

Handlers build replies instead of Starlette responses so the pipeline can check a reply against the
contract (strict mode), journal it and serialise it in one place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class JsonReply:
    body: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    media_type: str = "application/json"


@dataclass
class TextReply:
    text: str
    status: int = 200
    media_type: str = "text/plain"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class BinaryReply:
    """Bytes answered as they are: all at once, or (an async iterator of chunks) as they come."""

    data: bytes | AsyncIterator[bytes]
    media_type: str
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class SseEvent:
    """One server-sent event; ``data`` is JSON-encoded unless it is already a string."""

    data: Any
    event: str | None = None


@dataclass
class StreamReply:
    """An SSE stream: each item of ``events`` is a payload (dict) or an ``SseEvent``."""

    events: AsyncIterator[Any]
    terminator: str | None = None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    media_type: str = "text/event-stream"


Reply = JsonReply | TextReply | BinaryReply | StreamReply
