"""WebSocket upgrades: the same route, auth and query checks as HTTP, then the family's session.

A refusal before the upgrade is a plain HTTP answer with the family's error body (the ASGI denial
response), as the relay sends it; servers without that extension get a policy-violation close.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import parse_qsl

import orjson
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from . import errors, parsing
from .errors import ApiError, ErrorContext
from .faults.delivery import refuse
from .faults.desk import FAULT_NOTE
from .headers import HeaderMap
from .ids import request_id
from .pipeline import Call, Pipeline, _base_url
from .steering import Rule

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
            call = Call(contract, "GET", path, match.params, query, headers, None, {}, api_key, _base_url(scope, headers), rid, state)
            rule = state.faults.steer(self.pipeline.steering_rule(call), call, websocket=True)
            entry.fault = call.extras.get(FAULT_NOTE)
            socket = await self._steered(rule, call, WebSocket(scope, receive, send), scope, receive, send)
            admission = await state.quota.admit(call) if state.quota.active else None
        except ApiError as error:
            reply = errors.build_error(error, ErrorContext(state.settings, rid), contract.errors if contract else None)
            entry.status, entry.response = reply.status, reply.body
            await _deny(scope, receive, send, reply.status, orjson.dumps(reply.body))
            return
        entry.status = 101
        started = time.perf_counter()
        try:
            await handler(call, socket if admission is None else admission.socket(socket), entry)  # type: ignore[call-arg]
        except Exception:  # a bug in the mock: log it; the client sees the socket close
            log.exception("gptnb-mock WebSocket session %s failed", path)
        finally:
            if admission is not None:
                await admission.close()
        entry.duration_ms = (time.perf_counter() - started) * 1000


    async def _steered(self, rule: Rule | None, call: Call, socket: WebSocket, scope: Scope, receive: Receive, send: Send) -> WebSocket:
        """The session's socket as steering wants it: refused with the rule's error, delayed, or paced
        and faulted event by event (serve-wide physics and chaos too)."""
        if rule is not None:
            if rule.status is not None and rule.status >= 400:
                raise ApiError(rule.status, errors.FAULT, rule.message or f"injected fault: HTTP {rule.status}")
            if rule.body is not None or rule.example is not None or rule.side_effect is not None:
                raise refuse("example" if rule.example is not None else "body", "a canned answer applies to HTTP routes, not to WebSocket sessions")
            if rule.delay_ms:
                await asyncio.sleep(rule.delay_ms / 1000)
        delivery = self.pipeline.state.faults.delivery(rule, call, scope, receive, send, websocket=True)
        return socket if delivery is None else delivery.socket(socket)


async def _deny(scope: Scope, receive: Receive, send: Send, status: int, body: bytes) -> None:
    if DENIAL in scope.get("extensions", {}):
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.close", "code": 1008, "reason": body[:120].decode("utf-8", "replace")})
