"""What a steered answer should suffer: stream faults by event index, connection faults, WebSocket closes.

A ``FaultPlan`` is a value: rules, scenario headers, chaos picks and the fixture all build one, and the
delivery (``delivery.py``) applies it to whatever the handler produced. Events are numbered from 0 in
the order the handler yields them; a stream's terminator (``data: [DONE]``) is not an event.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class FaultPlan:
    # Stream faults (SSE answers; the WebSocket ones are marked).
    drop_after: int | None = None
    """Close the connection after this many events, without the terminator (WebSocket: drop the socket)."""
    malformed_at: int | None = None
    """This event carries invalid JSON (WebSocket too)."""
    stall_at: tuple[int, int] | None = None
    """(event, milliseconds): wait that long before this event (WebSocket too)."""
    no_done: bool = False
    """End the stream without its terminator (``[DONE]``, or the last event of formats without one)."""
    duplicate_done: bool = False
    """Send the terminator twice."""
    missing_usage: bool = False
    """Every ``usage`` in the stream is null (``usageMetadata`` is left out) (WebSocket too)."""
    id_change_at: int | None = None
    """From this event on, the stream's ``id`` changes, as when a relay switches upstream mid-answer."""
    close_after: tuple[int, int] | None = None
    """(events, close code): WebSocket only, close the session cleanly with that code after that many server events."""
    # Connection faults (any route).
    reset: bool = False
    """Reset the connection (TCP RST) once the request is read, before any byte of the answer."""
    empty: bool = False
    """Close the connection without answering."""
    garbage: bool = False
    """Send bytes that are not HTTP, then close."""
    truncate: int | None = None
    """Send the head (with the full Content-Length) and this many bytes of the body, then close."""
    slow_headers: int | None = None
    """Milliseconds to wait before the response head."""

    STREAM_ONLY = ("drop_after", "malformed_at", "stall_at", "no_done", "duplicate_done", "missing_usage", "id_change_at")
    WEBSOCKET = ("drop_after", "malformed_at", "stall_at", "missing_usage", "close_after", "reset", "slow_headers")
    EVENT_INDEXES = ("malformed_at", "id_change_at")

    def __bool__(self) -> bool:
        return any(self.asks(f.name) for f in fields(self))

    def asks(self, name: str) -> bool:
        """Whether the plan asks for fault ``name`` (0 is a value here: ``drop_after=0`` drops at once)."""
        value = getattr(self, name)
        return value is not None and value is not False

    def named(self) -> list[str]:
        """The faults this plan asks for, by name."""
        return [f.name for f in fields(self) if self.asks(f.name)]

    @property
    def stream_faults(self) -> bool:
        return any(self.asks(name) for name in self.STREAM_ONLY)

    @property
    def needs_wire(self) -> bool:
        """Faults that break the connection itself, which only a real socket or the fixture's bridge can do."""
        return self.reset or self.empty or self.garbage or self.truncate is not None or self.drop_after is not None

    def describe(self) -> str:
        """The plan in the scenario header's words (``drop_after=3; no_done``), for the journal."""
        return "; ".join(name if value is True else f"{name}={value}" for name, value in self.as_fields().items())

    def as_fields(self) -> dict[str, object]:
        """The plan as rule JSON fields (pairs as the header's ``"N:MS"``), only what is set."""
        return {name: f"{value[0]}:{value[1]}" if isinstance(value := getattr(self, name), (tuple, list)) else value for name in self.named()}
