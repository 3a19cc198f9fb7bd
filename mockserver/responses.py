"""Judge an answer against the contract's ``responses``: status, media type, body or every event.

The pipeline uses it in strict mode on everything the mock sends; the conformance checks use the same
functions on what any server sent, so "conforms" means one thing everywhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from . import sse
from .contracts import Contract, ContractRegistry
from .replies import BinaryReply, JsonReply, Reply, StreamReply, TextReply


class ResponseJudge:
    def __init__(self, contract: Contract, registry: ContractRegistry) -> None:
        self.contract = contract
        self.registry = registry

    def media(self, status: int, media_type: str) -> tuple[str, dict[str, Any]] | str:
        """The contract's entry for (status, media type), or a sentence saying why there is none."""
        key = self.contract.response_key(status)
        if key is None:
            allowed = ", ".join(sorted(self.contract.responses))
            return f"status {status} is not among the contract's responses ({allowed})"
        content = self.contract.responses[key]["content"]
        media = media_type.split(";", 1)[0].strip().lower()
        if media not in content:
            return f"status {status}: content type {media or '(none)'} is not one of {', '.join(content)}"
        return key, content[media]

    def body_violations(self, status: int, media_type: str, body: Any) -> list[str]:
        """Violations of a JSON (or text) body."""
        found = self.media(status, media_type)
        if isinstance(found, str):
            return [found]
        key, entry = found
        if "schema" not in entry:
            return [f"status {status}: {media_type} is declared as {'binary' if 'binary' in entry else 'an event stream'}, not a body"]
        media = media_type.split(";", 1)[0].strip().lower()
        check = self.registry.check(self.contract.pointer("responses", key, "content", media, "schema"))
        return [f"body {v}" for v in check.violations(body)]

    def is_error(self, status: int, media_type: str, body: Any) -> bool:
        """Whether the answer reports an error: a 4xx/5xx, or a 2xx the contract marks as a business error."""
        if status >= 400:
            return True
        found = self.media(status, media_type)
        if isinstance(found, str):
            return False
        key = self.contract.response_key(status)
        if "error_when" not in self.contract.responses[key]:
            return False
        return self.registry.check(self.contract.pointer("responses", key, "error_when")).is_valid(body)

    def event_violations(self, status: int, payload: Any, index: int, name: str | None = None) -> list[str]:
        """Violations of one event: its payload, and its ``event:`` name where the contract names events."""
        found = self.media(status, "text/event-stream")
        if isinstance(found, str):
            return [found]
        key, entry = found
        if "sse" not in entry:
            return [f"status {status}: text/event-stream is not declared as an event stream"]
        check = self.registry.check(self.contract.pointer("responses", key, "content", "text/event-stream", "sse", "event"))
        problems = [f"event {index} {v}" for v in check.violations(payload)]
        named_by = entry["sse"].get("named_by")
        if named_by is not None:
            expected = payload.get(named_by) if isinstance(payload, dict) else None
            if name != expected:
                problems.append(f"event {index}: event name {name!r}, its payload's {named_by} is {expected!r}")
        return problems

    def frame_violations(self, status: int, frame: Any, index: int, side: str = "server_event") -> list[str]:
        """Violations of one WebSocket frame (``side``: server_event or client_event)."""
        key = self.contract.response_key(status)
        content = self.contract.responses.get(key or "", {}).get("content", {})
        media = next((m for m, entry in content.items() if "websocket" in entry), None)
        if media is None:
            return [f"status {status} does not describe a WebSocket session"]
        check = self.registry.check(self.contract.pointer("responses", key, "content", media, "websocket", side))
        return [f"frame {index} {v}" for v in check.violations(frame)]

    def stream_violations(self, status: int, text: str) -> list[str]:
        """Violations of a whole SSE stream as received: framing, every event's schema, the terminator."""
        try:
            events = sse.parse(text)
        except sse.SseFramingError as exc:
            return [f"framing: {exc}"]
        terminator = self.terminator(status)
        found: list[str] = []
        for index, event in enumerate(events):
            if terminator is not None and event.data == terminator:
                if index != len(events) - 1:
                    found.append(f"event {index}: {terminator} before the end of the stream")
                continue
            try:
                payload = event.json()
            except ValueError:
                found.append(f"event {index}: data is not JSON: {event.data[:80]!r}")
                continue
            found += self.event_violations(status, payload, index, event.event)
        if terminator is not None and (not events or events[-1].data != terminator):
            found.append(f"the stream does not end with data: {terminator}")
        return found

    def terminator(self, status: int) -> str | None:
        found = self.media(status, "text/event-stream")
        return None if isinstance(found, str) else found[1].get("sse", {}).get("terminator")
    def watch(self, reply: Reply, violations: list[str]) -> Reply:
        """Check ``reply`` now, or as it streams; what breaks the contract is appended to ``violations``."""
        if isinstance(reply, JsonReply):
            violations += self.body_violations(reply.status, reply.media_type, reply.body)
        elif isinstance(reply, TextReply):
            violations += self.body_violations(reply.status, reply.media_type, reply.text)
        elif isinstance(reply, BinaryReply):
            found = self.media(reply.status, reply.media_type)
            if isinstance(found, str):
                violations.append(found)
            elif "sse" in found[1]:  # an event stream given as bytes (a canned reply): judged as received
                if isinstance(reply.data, bytes):
                    violations += self.stream_violations(reply.status, reply.data.decode("utf-8", "replace"))
                else:
                    return replace(reply, data=self._checked_bytes(reply, violations))
        elif isinstance(reply, StreamReply):
            expected = self.terminator(reply.status)
            if reply.terminator != expected:
                violations.append(f"stream terminator {reply.terminator!r}, contract says {expected!r}")
            return replace(reply, events=self._checked(reply, violations))
        return reply

    async def _checked_bytes(self, reply: BinaryReply, violations: list[str]) -> AsyncIterator[bytes]:
        received = bytearray()
        async for chunk in reply.data:  # type: ignore[union-attr]
            received += chunk
            yield chunk
        violations += self.stream_violations(reply.status, received.decode("utf-8", "replace"))

    async def _checked(self, reply: StreamReply, violations: list[str]) -> AsyncIterator[Any]:
        index = 0
        async for item in reply.events:
            violations += self.event_violations(reply.status, sse.payload(item), index, sse.name(item))
            index += 1
            yield item
