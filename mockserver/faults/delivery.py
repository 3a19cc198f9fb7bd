"""How one answer reaches its client when steering asked for faults or physics.

The handler has produced its reply and knows nothing of this. ``prepare`` checks the plan against
the reply (an event index past the end of the stream is a 400, not a fault that never happens);
``frames`` is the stream on the wire, paced and reshaped event by event; ``sender`` wraps the ASGI
``send`` for the faults that live below HTTP (reset, early close, garbage, a cut body, slow headers);
``socket`` does the same for a WebSocket session's server events.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import orjson
from starlette.types import Message, Send
from starlette.websockets import WebSocket

from .. import errors, sse, usage
from ..errors import ApiError
from ..replies import BinaryReply, JsonReply, Reply, StreamReply, TextReply
from . import events
from .physics import Pacer, Physics
from .plan import FaultPlan
from .wire import Wire

NO_FAULTS = FaultPlan()
GARBAGE_BYTES = 48


def refuse(key: str, why: str) -> ApiError:
    """The 400 for a steering instruction that cannot apply to this request; it names the instruction."""
    return ApiError(400, errors.STEERING, f"Cannot apply {key}: {why}", param=key.partition("=")[0], code="invalid_request")


class Delivery:
    def __init__(self, plan: FaultPlan | None, physics: Physics | None, rng: random.Random, wire: Wire | None) -> None:
        self.plan = plan or NO_FAULTS
        self.physics = physics or None
        self.rng = rng
        self.wire = wire
        self.broken = False
        self.count: int | None = None  # events in a buffered stream

    # ---- before the answer leaves ----

    async def prepare(self, reply: Reply) -> Reply:
        """Judge the plan against the reply; a stream with faults is read whole, so indexes can be checked."""
        plan = self.plan
        if plan.truncate is not None and not isinstance(reply, StreamReply):
            if isinstance(reply, BinaryReply) and not isinstance(reply.data, bytes):  # bytes made as they go: read them whole
                reply = replace(reply, data=b"".join([chunk async for chunk in reply.data]))
            size = len(_body_bytes(reply))
            if plan.truncate >= size:
                raise refuse(f"truncate={plan.truncate}", f"the body is only {size} bytes, so nothing would be cut; use a smaller number")
        if not isinstance(reply, StreamReply) or not (plan.stream_faults or plan.truncate is not None):
            return reply
        items = [item async for item in reply.events]
        self.count = len(items)
        for name in (*FaultPlan.EVENT_INDEXES, "stall_at"):
            index = getattr(plan, name)
            index = index[0] if isinstance(index, tuple) else index
            if index is not None and index >= len(items):
                raise refuse(f"{name}={index}", f"this stream has {len(items)} events (numbered from 0), so it could never happen")
        if plan.drop_after is not None and plan.drop_after > len(items):
            raise refuse(f"drop_after={plan.drop_after}", f"this stream has only {len(items)} events, so it would end before the drop")
        if plan.id_change_at is not None and not any(events.carries_id(item) for item in items[plan.id_change_at :]):
            raise refuse(f"id_change_at={plan.id_change_at}", "no event from there on carries an id, so nothing would change")
        if plan.missing_usage and not any(events.carries_usage(item) for item in items):
            raise refuse("missing_usage", "this stream reports no usage to leave out (OpenAI streams need stream_options.include_usage)")
        if (plan.no_done or plan.duplicate_done) and reply.terminator is None and not items:
            raise refuse("no_done" if plan.no_done else "duplicate_done", "this stream has neither a terminator nor events")
        if plan.truncate is not None:
            size = sum(len(sse.encode(item)) for item in items) + (len(sse.encode_terminator(reply.terminator)) if reply.terminator else 0)
            if plan.truncate >= size:
                raise refuse(f"truncate={plan.truncate}", f"the stream is only {size} bytes, so nothing would be cut; use a smaller number")
        return replace(reply, events=_replay(items))

    # ---- on the wire ----

    async def before_head(self, reply: Reply) -> None:
        """A whole (not streamed) answer under physics comes when a model would have finished it:
        time to first token, then its output tokens at the physics' rate."""
        physics = self.physics
        if not physics:
            return
        seconds = (physics.ttft_ms or 0) / 1000
        if physics.tps and isinstance(reply, JsonReply):
            found = usage.reported(reply.body)
            seconds += (found.output_tokens if found else 0) / physics.tps
        if seconds > 0:
            await asyncio.sleep(seconds)

    async def frames(self, reply: StreamReply, note: Callable[[Any, bytes], None], ending: Callable[[], Awaitable[None]]) -> AsyncIterator[bytes]:
        """The reply's events as SSE frames: paced by the physics, reshaped by the stream faults.
        ``note(item, frame)`` sees every frame as it goes out, the event as sent (a malformed one as
        its text); ``ending`` runs when the events are out, before the terminator or the break (the
        journal)."""
        plan = self.plan
        pacer = Pacer(self.physics, self.rng) if self.physics else None
        stall_index, stall_ms = plan.stall_at or (-1, 0)
        # Formats without a terminator line end with a closing event: it is their terminator.
        last = self.count - 1 if reply.terminator is None and self.count is not None else None
        index = 0
        async for item in reply.events:
            if self.broken:
                return
            if index == plan.drop_after:
                await ending()
                await self._break(self._wire().close)
                return
            if index == last and plan.no_done:
                break
            if pacer is not None:
                await pacer.wait(index, stall_ms if index == stall_index else 0)
            elif index == stall_index:
                await asyncio.sleep(stall_ms / 1000)
            if plan.id_change_at is not None and index >= plan.id_change_at:
                item = events.with_changed_id(item)
            if plan.missing_usage:
                item = events.without_usage(item)
            if index == plan.malformed_at:
                frame = events.malformed(item)
                item = frame.decode("utf-8", "replace")
            else:
                frame = sse.encode(item)
            for _ in range(2 if index == last and plan.duplicate_done else 1):
                note(item, frame)
                yield frame
            index += 1
        dropped = plan.drop_after is not None and plan.drop_after == index
        terminator = None
        if reply.terminator is not None and not plan.no_done and not dropped and not self.broken:
            terminator = sse.encode_terminator(reply.terminator)
            for _ in range(2 if plan.duplicate_done else 1):
                note(reply.terminator, terminator)  # noted as it is about to go out, so the journal has it
        await ending()
        if dropped:
            await self._break(self._wire().close)
            return
        if terminator is not None:
            for _ in range(2 if plan.duplicate_done else 1):
                yield terminator

    def sender(self, send: Send) -> Send:
        """``send`` with the connection faults of the plan applied to the response as it goes out."""
        plan = self.plan
        if not (plan.needs_wire or plan.slow_headers):
            return send
        left = plan.truncate

        async def faulty_send(message: Message) -> None:
            nonlocal left
            if self.broken:
                return  # the connection is gone: whatever the response still sends goes nowhere
            if message["type"] == "http.response.start":
                if plan.slow_headers:
                    await asyncio.sleep(plan.slow_headers / 1000)
                if plan.reset:
                    return await self._break(self._wire().reset)
                if plan.empty:
                    return await self._break(self._wire().close)
                if plan.garbage:
                    await self._wire().write(self._garbage())
                    return await self._break(self._wire().close)
            elif message["type"] == "http.response.body" and left is not None:
                body = message.get("body", b"")
                if len(body) >= left:
                    await send({"type": "http.response.body", "body": body[:left], "more_body": True})
                    return await self._break(self._wire().close)
                left -= len(body)
            await send(message)

        return faulty_send

    def socket(self, socket: WebSocket, ending: Callable[[], Awaitable[None]]) -> WebSocket:
        """``socket`` with the plan's faults and the physics' pace; ``ending`` runs before a fault ends the
        session (the journal), so a client that saw it end finds it journalled."""
        return FaultySocket(socket, self, ending)  # type: ignore[return-value]

    async def _break(self, how: Any) -> None:
        self.broken = True
        await how()

    def _wire(self) -> Wire:
        assert self.wire is not None, "the desk gives a delivery that breaks connections a wire"
        return self.wire

    def _garbage(self) -> bytes:
        # A line an HTTP client reads as a status line and cannot parse (it never starts "HTTP/").
        noise = bytes([0x80 | self.rng.getrandbits(7)]) + bytes(self.rng.getrandbits(8) for _ in range(GARBAGE_BYTES - 1))
        return noise.replace(b"\r", b"").replace(b"\n", b"") + b"\r\n\r\n"


class FaultySocket:
    """A WebSocket whose server events go out paced and faulted; everything else is the socket's own."""

    def __init__(self, socket: WebSocket, delivery: Delivery, ending: Callable[[], Awaitable[None]]) -> None:
        self._socket = socket
        self._delivery = delivery
        self._ending = ending
        self._plan = delivery.plan
        self._pacer: Pacer | None = None
        self._sent = 0
        self._burst = 0  # events sent since the client last spoke (physics pace each answer)
        self._closed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._socket, name)

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        plan = self._plan
        if plan.slow_headers:
            await asyncio.sleep(plan.slow_headers / 1000)
        if plan.reset:
            self._closed = True
            await self._ending()
            await self._delivery._wire().reset()
            return
        await self._socket.accept(subprotocol=subprotocol, headers=headers)

    async def receive(self) -> Message:
        message = await self._socket.receive()
        self._burst = 0
        return message

    async def send_text(self, data: str) -> None:
        if self._closed:
            return  # the session ended on purpose; its code may still be finishing a response
        plan, index = self._plan, self._sent
        if index == plan.drop_after:
            self._closed = True
            await self._ending()
            await self._delivery._wire().close()  # no close frame: the client sees 1006
            return
        if plan.close_after is not None and index == plan.close_after[0]:
            self._closed = True
            await self._ending()
            await self._socket.close(code=plan.close_after[1], reason="closed by X-Mock-Scenario close_after")
            return
        await self._pace(index)
        if plan.missing_usage and "usage" in data:
            data = json.dumps(events.without_usage(json.loads(data)), ensure_ascii=False)
        if index == plan.malformed_at:
            data = data[: max(1, len(data) // 2)]
        self._sent += 1
        self._burst += 1
        await self._socket.send_text(data)

    async def _pace(self, index: int) -> None:
        physics, plan = self._delivery.physics, self._plan
        stall = plan.stall_at[1] if plan.stall_at is not None and plan.stall_at[0] == index else 0
        if physics:
            if self._burst == 0 or self._pacer is None:
                self._pacer = Pacer(physics, self._delivery.rng)
            await self._pacer.wait(self._burst, stall)
        elif stall:
            await asyncio.sleep(stall / 1000)


async def _replay(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


def _body_bytes(reply: Reply) -> bytes:
    if isinstance(reply, JsonReply):
        return orjson.dumps(reply.body)
    if isinstance(reply, TextReply):
        return reply.text.encode()
    assert isinstance(reply, BinaryReply) and isinstance(reply.data, bytes)
    return reply.data
