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
from .journal import Timeline, readable
from .pipeline import Call, Pipeline, _base_url

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
        state = self.pipeline.state
        match = self.pipeline.router.match(path, "GET")
        candidates = match.route.methods.get("GET") if match else None
        contract = candidates[-1] if candidates else None
        entry = state.journal.record(
            {"method": "GET", "path": path, "contract_id": contract.id if contract else None, "query": dict(query_pairs), "body": None, "time": state.clock.now()}
        )
        try:
            if contract is None or contract.kind != "websocket":
                raise ApiError(404, errors.NOT_FOUND, f"Invalid URL (WEBSOCKET {path})")
            prepared = self.pipeline.prepared[contract.id]
            api_key = self.pipeline.authenticate(contract, headers, query_pairs)
            query = parsing.coerce_fields(query_pairs, prepared.query_schema)
            self.pipeline.validate(prepared, match.params, query, headers, None)
            self.pipeline.route_model(prepared, query)
            handler = prepared.handler
            if handler is None:
                raise ApiError(404, errors.NOT_FOUND, f"no session handler for {contract.id}")
        except ApiError as error:
            reply = errors.build_error(error, ErrorContext(state.settings, rid), contract.errors if contract else None)
            entry.status, entry.response = reply.status, reply.body
            await _deny(scope, receive, send, reply.status, orjson.dumps(reply.body))
            return
        entry.status = 101
        call = Call(contract, "GET", path, match.params, query, headers, None, {}, api_key, _base_url(scope, headers), rid, state)
        started = time.perf_counter()
        frames = Timeline(state.settings.journal_entry_bytes)
        entry.frames = frames.items
        try:
            await handler(call, WebSocket(scope, _noting_receive(receive, frames), _noting_send(send, frames)), entry)  # type: ignore[call-arg]
        except Exception:  # a bug in the mock: log it; the client sees the socket close
            log.exception("gptnb-mock WebSocket session %s failed", path)
        entry.duration_ms = (time.perf_counter() - started) * 1000


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
