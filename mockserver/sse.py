"""Server-sent events: framing what the mock sends, and reading what a server sent.

The writer produces OpenAI's framing (``data: <compact JSON>`` and a blank line, no ``event:`` unless
the family uses named events); the reader is what checks and tests use to take any stream apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from .replies import SseEvent


def encode(item: Any) -> bytes:
    """One event on the wire."""
    if isinstance(item, SseEvent):
        data = item.data if isinstance(item.data, str) else orjson.dumps(item.data).decode()
        head = f"event: {item.event}\n" if item.event else ""
        return (head + "".join(f"data: {line}\n" for line in data.split("\n")) + "\n").encode()
    return b"data: " + orjson.dumps(item) + b"\n\n"


def encode_terminator(terminator: str) -> bytes:
    return f"data: {terminator}\n\n".encode()


def name(item: Any) -> str | None:
    """The ``event:`` name of an item the handler yielded (None for a bare payload)."""
    return item.event if isinstance(item, SseEvent) else None


def named(payload: Any, field: str | None) -> Any:
    """``payload`` as an event named after its ``field`` (Anthropic's ``type``), or as it is without one."""
    if field is None or not isinstance(payload, dict) or not isinstance(payload.get(field), str):
        return payload
    return SseEvent(payload, event=payload[field])


def payload(item: Any) -> Any:
    """The JSON payload of an item the handler yielded (what the contract's event schema judges)."""
    if isinstance(item, SseEvent):
        return orjson.loads(item.data) if isinstance(item.data, str) else item.data
    return item


@dataclass
class ReceivedEvent:
    data: str
    event: str | None = None
    id: str | None = None

    def json(self) -> Any:
        return orjson.loads(self.data)


class SseFramingError(ValueError):
    """The bytes are not a well-formed event stream."""


def parse(text: str) -> list[ReceivedEvent]:
    """Split a complete stream into events (comments dropped), per the WHATWG event-stream rules."""
    if text and not text.endswith("\n"):
        raise SseFramingError("the stream does not end with a newline: the last event is incomplete")
    events: list[ReceivedEvent] = []
    data: list[str] = []
    event: str | None = None
    event_id: str | None = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line:
            if data:
                events.append(ReceivedEvent("\n".join(data), event, event_id))
            data, event, event_id = [], None, None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id":
            event_id = value
        elif name != "retry":
            raise SseFramingError(f"unknown field {name!r} in line {line!r}")
    if data:
        raise SseFramingError("the stream ends without the blank line that closes its last event")
    return events
