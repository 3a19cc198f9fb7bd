"""WebSocket upgrades: the same route, auth and query checks as HTTP, then the family's session.

A refusal before the upgrade is a plain HTTP answer with the family's error body (the ASGI denial
response), as the relay sends it; servers without that extension get a policy-violation close.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qsl

import orjson
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from . import errors, parsing
from .errors import ApiError, ErrorContext
from .headers import HeaderMap
from .ids import request_id
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
        try:
            await handler(call, WebSocket(scope, receive, send), entry)  # type: ignore[call-arg]
        except Exception:  # a bug in the mock: log it; the client sees the socket close
            log.exception("gptnb-mock WebSocket session %s failed", path)
        entry.duration_ms = (time.perf_counter() - started) * 1000


async def _deny(scope: Scope, receive: Receive, send: Send, status: int, body: bytes) -> None:
    if DENIAL in scope.get("extensions", {}):
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.close", "code": 1008, "reason": body[:120].decode("utf-8", "replace")})
