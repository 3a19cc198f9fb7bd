"""WebSocket upgrades: the same route, auth and query checks as HTTP, then the family's session.

A refusal before the upgrade is a plain HTTP answer with the family's error body (the ASGI denial
response), as the relay sends it; servers without that extension get a policy-violation close.
Every frame of an accepted session, either way, is noted with its time in the session's journal entry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import parse_qsl

import orjson
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from . import errors, parsing
from .errors import ApiError, ErrorContext
from .faults.delivery import Delivery, refuse
from .faults.desk import FAULT_NOTE
from .headers import HeaderMap
from .ids import request_id
from .journal import JournalEntry, Timeline, readable
from .pipeline import Call, Pipeline
from .quota.desk import Admission, admit
from .state import NamespaceState
from .store import StoreUnavailable

log = logging.getLogger("gptnb_mock")
DENIAL = "websocket.http.response"


class WebSocketGate:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        headers = HeaderMap.from_scope(scope)
        query_pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        rid = request_id()
        pipeline = self.pipeline
        settings = pipeline.state.settings
        match = pipeline.router.match(path, "GET")
        candidates = match.route.methods.get("GET") if match else None
        contract = candidates[-1] if candidates else None
        entry = JournalEntry(0, time.time(), "GET", path, contract.id if contract else None, dict(query_pairs), None)
        space = None
        admission: Admission | None = None
        call: Call | None = None
        try:
            if contract is None or contract.kind != "websocket":
                raise ApiError(404, errors.NOT_FOUND, f"Invalid URL (WEBSOCKET {path})")
            prepared = pipeline.prepared[contract.id]
            api_key = pipeline.authenticate(contract, headers, query_pairs)
            space = await pipeline.enter(scope, headers, api_key)
            entry.time = space.clock.now()
            query = parsing.coerce_fields(query_pairs, prepared.query_schema)
            pipeline.validate(prepared, match.params, query, headers, None)
            pipeline.route_model(prepared, query)
            handler = prepared.handler
            replay = pipeline.state.replay
            if replay is not None:  # a recorded session answers before the mock's own (serve --replay)
                handler = await replay.session(space, contract, path, query) or handler
            if handler is None:
                raise ApiError(404, errors.NOT_FOUND, f"no session handler for {contract.id}")
            call = Call(contract, "GET", path, match.params, query, headers, None, {}, api_key, scope, rid, space)
            delivery = await self._steered(call, scope, receive, send)
            if space.quota:
                admission = await admit(call)
        except Exception as exc:  # noqa: BLE001 (refusals are answered before the upgrade)
            reply = errors.answer_error(exc, ErrorContext(settings, rid), contract.errors if contract else None, f"WEBSOCKET {path}")
            entry.status, entry.response = reply.status, reply.body
            entry.fault = call.extras.get(FAULT_NOTE) if call is not None else None
            space = space or await pipeline.space_for_errors(scope, headers)
            if space is not None:
                await _record(space, entry)
            await _deny(scope, receive, send, reply.status, orjson.dumps(reply.body))
            return
        entry.status, entry.fault = 101, call.extras.get(FAULT_NOTE)
        started = time.perf_counter()
        frames = Timeline(settings.journal_entry_bytes)
        entry.frames = frames.items
        recorded = False

        async def record_once() -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                entry.duration_ms = (time.perf_counter() - started) * 1000
                await _record(space, entry)

        try:
            socket = WebSocket(scope, _noting_receive(receive, frames), _noting_send(send, frames))
            socket = socket if delivery is None else delivery.socket(socket, record_once)
            await handler(call, socket if admission is None else admission.socket(socket), entry)  # type: ignore[call-arg]
        except Exception:  # a bug in the mock: log it; the client sees the socket close
            log.exception("gptnb-mock WebSocket session %s failed", path)
        finally:
            if admission is not None:
                await admission.close()
        await record_once()

    async def _steered(self, call: Call, scope: Scope, receive: Receive, send: Send) -> Delivery | None:
        """The session as steering wants it: refused with the rule's error, delayed, or paced and
        faulted event by event (serve-wide physics and chaos too) by the delivery it answers."""
        taken = await self.pipeline.steering_rule(call)
        faults = self.pipeline.state.faults
        if taken is None and faults.idle:
            return None
        taken, delivery = await faults.steer(taken, call, scope, receive, send, websocket=True)
        if taken is not None:
            rule, reply = taken.rule, taken.reply
            call.rule = rule
            if reply.error is not None:
                raise ApiError(reply.status or 500, errors.FAULT, reply.error.message)
            if reply.kinds or rule.side_effect is not None:
                raise refuse("example" if reply.example is not None else "reply", "a canned answer applies to HTTP routes, not to WebSocket sessions")
            if rule.delay_ms:
                await asyncio.sleep(rule.delay_ms / 1000)
        return delivery


async def _record(space: NamespaceState, entry: JournalEntry) -> None:
    """A session is journalled when it ends, with every frame (and its time) and every frame's verdict."""
    try:
        await space.journal.record(entry)
    except StoreUnavailable:
        log.warning("gptnb-mock could not journal the WebSocket session %s: the store is unavailable", entry.path)


FRAME_SIDES = {"websocket.receive": "client", "websocket.send": "server"}


def _noting_receive(receive: Receive, frames: Timeline) -> Receive:
    """The session's ``receive``, noting each frame the client sent on ``frames``."""

    async def noted() -> Message:
        message = await receive()
        _note(message, frames)
        return message

    return noted


def _noting_send(send: Send, frames: Timeline) -> Send:
    """The session's ``send``, noting each frame the mock sends on ``frames``."""

    async def noted(message: Message) -> None:
        _note(message, frames)
        await send(message)

    return noted


def _note(message: Message, frames: Timeline) -> None:
    side = FRAME_SIDES.get(message["type"])
    if side is not None:
        raw = message.get("text")
        raw = raw if raw is not None else message.get("bytes") or b""
        frames.add({"from": side}, readable(raw), len(raw))


async def _deny(scope: Scope, receive: Receive, send: Send, status: int, body: bytes) -> None:
    if DENIAL in scope.get("extensions", {}):
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.close", "code": 1008, "reason": body[:120].decode("utf-8", "replace")})
