"""WebSocket upgrades: the same route, auth and query checks as HTTP, then the family's session.

A refusal before the upgrade is a plain HTTP answer with the family's error body (the ASGI denial
response), as the relay sends it; servers without that extension get a policy-violation close.
Every frame of an accepted session, either way, is noted with its time in the session's journal entry.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qsl

import orjson
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from . import errors, parsing
from .errors import ApiError, ErrorContext
from .headers import HeaderMap
from .ids import request_id
from .journal import JournalEntry, Timeline, readable
from .pipeline import Call, Pipeline, base_url
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
        except Exception as exc:  # noqa: BLE001 (refusals are answered before the upgrade)
            reply = errors.answer_error(exc, ErrorContext(settings, rid), contract.errors if contract else None, f"WEBSOCKET {path}")
            entry.status, entry.response = reply.status, reply.body
            space = space or await pipeline.space_for_errors(scope, headers)
            if space is not None:
                await _record(space, entry)
            await _deny(scope, receive, send, reply.status, orjson.dumps(reply.body))
            return
        entry.status = 101
        call = Call(contract, "GET", path, match.params, query, headers, None, {}, api_key, base_url(scope, headers, space.namespace), rid, space)
        started = time.perf_counter()
        frames = Timeline(settings.journal_entry_bytes)
        entry.frames = frames.items
        try:
            await handler(call, WebSocket(scope, _noting_receive(receive, frames), _noting_send(send, frames)), entry)  # type: ignore[call-arg]
        except Exception:  # a bug in the mock: log it; the client sees the socket close
            log.exception("gptnb-mock WebSocket session %s failed", path)
        entry.duration_ms = (time.perf_counter() - started) * 1000
        await _record(space, entry)


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
