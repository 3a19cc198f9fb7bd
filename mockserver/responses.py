"""Judge an answer against the contract's ``responses``: status, media type, body or every event.

The pipeline uses it in strict mode on everything the mock sends; the conformance checks use the same
functions on what any server sent, and the proxy reads upstream answers through ``BodyReader`` as they
stream, so "conforms" means one thing everywhere.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import orjson

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
        reader = BodyReader(self, status, "text/event-stream")
        reader.feed(text)
        return reader.finish()

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
            # Bytes as another server wrote them (a canned reply, a side effect's, a recording): judged as
            # received, whatever the media type says they are (a JSON body, an event stream, a file).
            reader = BodyReader(self, reply.status, reply.media_type, violations)
            if not isinstance(reply.data, bytes):
                return replace(reply, data=_read(reader, reply.data))
            reader.feed(reply.data)
            reader.finish()
        elif isinstance(reply, StreamReply):
            expected = self.terminator(reply.status)
            if reply.terminator != expected:
                violations.append(f"stream terminator {reply.terminator!r}, contract says {expected!r}")
            return replace(reply, events=self._checked(reply, violations))
        return reply

    async def _checked(self, reply: StreamReply, violations: list[str]) -> AsyncIterator[Any]:
        index = 0
        async for item in reply.events:
            violations += self.event_violations(reply.status, sse.payload(item), index, sse.name(item))
            index += 1
            yield item


class BodyReader:
    """Judges a body as its bytes arrive: each event of a stream as it completes, a JSON or text body
    once it is whole, a binary one by its media type alone. ``feed`` every chunk, then ``finish``.

    What breaks the contract is appended to ``violations`` (the caller's list, when given), so a journal
    entry shows a stream's problems while it is still running.
    """

    def __init__(self, judge: ResponseJudge, status: int, media_type: str, violations: list[str] | None = None) -> None:
        self.judge = judge
        self.status = status
        self.media_type = media_type.split(";", 1)[0].strip().lower()
        self.violations = violations if violations is not None else []
        found = judge.media(status, media_type)
        if isinstance(found, str):
            self.violations.append(found)
            entry: dict[str, Any] = {}
        else:
            entry = found[1]
        self.streams = "sse" in entry
        self._whole = "schema" in entry
        self._body = bytearray()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._events = sse.EventReader()
        self._terminator = judge.terminator(status) if self.streams else None
        self._count = 0
        self._last: str | None = None
        self._broken = False

    @property
    def needs_body(self) -> bool:
        """Whether the body has anything to judge (a binary or undeclared one is judged by now)."""
        return self.streams or self._whole

    def feed(self, chunk: bytes | str) -> list[sse.ReceivedEvent]:
        """Take the next piece of the body; the events it completed (for a stream)."""
        if self._whole:
            self._body += chunk.encode() if isinstance(chunk, str) else chunk
            return []
        if not self.streams or self._broken:
            return []
        text = chunk if isinstance(chunk, str) else self._decoder.decode(chunk)
        try:
            events = self._events.feed(text)
        except sse.SseFramingError as exc:
            self._frame_broken(exc)
            return []
        for event in events:
            self._judge_event(event)
        return events

    def finish(self) -> list[str]:
        """The body has ended: judge what can only be judged whole. Returns every violation found."""
        if self._whole:
            self._judge_body()
        elif self.streams and not self._broken:
            try:
                self._events.feed(self._decoder.decode(b"", final=True))
                self._events.close()
            except sse.SseFramingError as exc:
                self._frame_broken(exc)
            if self._terminator is not None and self._last != self._terminator:
                self.violations.append(f"the stream does not end with data: {self._terminator}")
        return self.violations

    def _frame_broken(self, exc: sse.SseFramingError) -> None:
        # Past a framing error event boundaries are guesses: one violation says it all.
        self.violations.append(f"framing: {exc}")
        self._broken = True

    def _judge_event(self, event: sse.ReceivedEvent) -> None:
        index, self._count = self._count, self._count + 1
        if self._last is not None and self._last == self._terminator:
            self.violations.append(f"event {index - 1}: {self._terminator} before the end of the stream")
        self._last = event.data
        if event.data == self._terminator:
            return
        try:
            payload = event.json()
        except ValueError:
            self.violations.append(f"event {index}: data is not JSON: {event.data[:80]!r}")
            return
        self.violations.extend(self.judge.event_violations(self.status, payload, index, event.event))

    def _judge_body(self) -> None:
        body: Any = self._body.decode("utf-8", errors="replace")
        if self.media_type.endswith("json"):
            try:
                body = orjson.loads(self._body)
            except orjson.JSONDecodeError as exc:
                self.violations.append(f"body is not JSON ({exc}): {bytes(self._body[:80])!r}")
                return
        self.violations.extend(self.judge.body_violations(self.status, self.media_type, body))


async def _read(reader: BodyReader, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        reader.feed(chunk)
        yield chunk
    reader.finish()
