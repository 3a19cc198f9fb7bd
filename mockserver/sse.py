"""Server-sent events: framing what the mock sends, and reading what a server sent.

The writer produces OpenAI's framing (``data: <compact JSON>`` and a blank line, no ``event:`` unless
the family uses named events); the reader is what checks, tests and the proxy use to take any stream
apart, whole or as it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from . import journal
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


def readable(item: Any) -> Any:
    """What an item the handler yielded carries, for people to read: its JSON payload, or its text."""
    if isinstance(item, SseEvent) and isinstance(item.data, str):
        return journal.readable(item.data)
    return payload(item)


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


class EventReader:
    """Takes a stream apart as it arrives: ``feed`` text in pieces of any size, get the events each
    piece completed (the WHATWG event-stream rules; comments dropped). ``close`` when the stream ends."""

    def __init__(self) -> None:
        self._pending = ""
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None

    def feed(self, text: str) -> list[ReceivedEvent]:
        *lines, self._pending = (self._pending + text).split("\n")
        events: list[ReceivedEvent] = []
        for line in lines:
            line = line.removesuffix("\r")
            if not line:
                if self._data:
                    events.append(ReceivedEvent("\n".join(self._data), self._event, self._id))
                self._data, self._event, self._id = [], None, None
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value
            elif name == "id":
                self._id = value
            elif name != "retry":
                raise SseFramingError(f"unknown field {name!r} in line {line!r}")
        return events

    def close(self) -> None:
        """The stream has ended: complain if its last event was left open."""
        if self._pending:
            raise SseFramingError("the stream does not end with a newline: the last event is incomplete")
        if self._data:
            raise SseFramingError("the stream ends without the blank line that closes its last event")


def parse(text: str) -> list[ReceivedEvent]:
    """Split a complete stream into events (comments dropped), per the WHATWG event-stream rules."""
    if text and not text.endswith("\n"):
        raise SseFramingError("the stream does not end with a newline: the last event is incomplete")
    reader = EventReader()
    events = reader.feed(text)
    reader.close()
    return events
