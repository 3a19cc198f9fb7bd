"""One WebSocket session through the proxy (the Realtime API): the handshake made afresh towards the
upstream with the client's subprotocols and headers, then every frame passed on both ways as it comes,
each judged against the contract's client or server event schema, timed and recorded.

An upstream that refuses the handshake has its answer passed back as the refusal (the ASGI denial
response), as a relay does; servers without that extension give the client a policy-violation close.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from ..headers import HeaderMap
from ..ids import request_id
from ..responses import ResponseJudge
from .cassette import encode_body
from .redact import scrub
from .upstream import HANDSHAKE
from .verdict import verdict_headers

if TYPE_CHECKING:
    from .app import ProxyCore

log = logging.getLogger("gptnb_mock.proxy")
DENIAL = "websocket.http.response"
MAX_FRAME_BYTES = 16 * 1024 * 1024


class WebSocketRelay:
    def __init__(self, core: ProxyCore) -> None:
        self.core = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        core = self.core
        started, clock = time.time(), time.perf_counter()
        path = scope["path"]
        received = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", ())]
        headers = HeaderMap.from_scope(scope)
        query_string = scope.get("query_string", b"").decode("latin-1")
        query = parse_qsl(query_string, keep_blank_values=True)
        seen = await core.requests.judge("GET", path, query, headers, b"")
        contract = seen.contract
        if contract is not None and contract.kind != "websocket":
            seen.violations.append(f"request: {contract.id} is not a WebSocket endpoint")
        entry = core.journal_entry("GET", path, seen, query)
        refused = core.guard.refusal(contract, "WEBSOCKET", path)
        if refused is not None:
            entry.status, entry.response = 403, refused
            await _deny(scope, receive, send, 403, orjson.dumps(core.refusal(contract, 403, "proxy_refused", refused, request_id()).body))
            return
        await receive()  # websocket.connect
        offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        upstream_headers = core.upstream.headers(contract, received, skip=HANDSHAKE)
        try:
            upstream = await connect(
                core.upstream.url(scope.get("raw_path") or path.encode(), core.upstream.query(contract, query_string), websocket=True),
                subprotocols=core.upstream.subprotocols(contract, offered) or None,  # type: ignore[arg-type]
                additional_headers=upstream_headers,
                user_agent_header=None if "user-agent" in headers else "gptnb-mock proxy",
                open_timeout=core.options.timeout,
                max_size=MAX_FRAME_BYTES,
                ping_interval=None,  # the client keeps its own session alive; the proxy adds no traffic
            )
        except InvalidStatus as exc:
            entry.status, entry.response = exc.response.status_code, exc.response.body.decode("utf-8", "replace")[:2000]
            await _deny(scope, receive, send, exc.response.status_code, exc.response.body, connected=True)
            return
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            message = f"the upstream {core.upstream.base_url} did not take the WebSocket: {type(exc).__name__}: {exc}"
            entry.status, entry.response = 502, message
            await _deny(scope, receive, send, 502, orjson.dumps(core.refusal(contract, 502, "upstream_unreachable", message, request_id()).body), connected=True)
            return
        session = _Session(core, contract, entry, clock)
        session.handshake_ms = session.elapsed_ms()
        entry.status = 101
        await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol, "headers": verdict_headers(contract, entry, pending=True)})
        try:
            await session.relay(upstream, receive, send)
        finally:
            await upstream.close()
        entry.duration_ms = session.elapsed_ms()
        entry.response = f"{session.counts['client']} client frames, {session.counts['server']} server frames"
        log.info("WEBSOCKET %s -> 101 %s: %s, %s", path, contract.id if contract else "(no contract)", entry.response, "conforms" if not entry.violations else f"{len(entry.violations)} violation(s)")
        if core.writer is not None:
            cassette = session.cassette(path, query, received, upstream.subprotocol, started)
            await asyncio.to_thread(core.writer.write, core.writer.number(), scrub(cassette, core.redactor.secrets(received, query) | core.upstream.secrets()))


class _Session:
    def __init__(self, core: ProxyCore, contract: Any, entry: Any, clock: float) -> None:
        self.core = core
        self.contract = contract
        self.entry = entry
        self.clock = clock
        self.judge = ResponseJudge(contract, core.registry) if contract is not None and contract.kind == "websocket" else None
        self.frames: list[dict[str, Any]] = []
        self.counts = {"client": 0, "server": 0}
        self.handshake_ms = 0.0
        self.close: dict[str, Any] = {}

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.clock) * 1000

    def take(self, side: str, data: str | bytes) -> None:
        index, self.counts[side] = self.counts[side], self.counts[side] + 1
        raw = data.encode() if isinstance(data, str) else data
        self.frames.append({"at_ms": round(self.elapsed_ms() - self.handshake_ms, 1), "from": side, **encode_body(raw, "application/json" if isinstance(data, str) else "")})
        if self.judge is None:
            return
        if isinstance(data, bytes):
            self.entry.violations.append(f"{side} frame {index}: a binary frame; the contract describes JSON text frames")
            return
        try:
            frame = orjson.loads(data)
        except orjson.JSONDecodeError:
            self.entry.violations.append(f"{side} frame {index}: not JSON: {data[:80]!r}")
            return
        found = self.judge.frame_violations(101, frame, index, side="server_event" if side == "server" else "client_event")
        self.entry.violations += [f"{side} {v}" for v in found]

    async def relay(self, upstream: ClientConnection, receive: Receive, send: Send) -> None:
        inbound = asyncio.ensure_future(self._from_client(upstream, receive))
        outbound = asyncio.ensure_future(self._from_upstream(upstream, send))
        done, pending = await asyncio.wait({inbound, outbound}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        for task in done:
            task.result()

    async def _from_client(self, upstream: ClientConnection, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.close = {"by": "client", "code": message.get("code", 1000)}
                return
            data = message.get("text")
            data = data if data is not None else message.get("bytes") or b""
            self.take("client", data)
            try:
                await upstream.send(data)
            except ConnectionClosed:
                return

    async def _from_upstream(self, upstream: ClientConnection, send: Send) -> None:
        try:
            async for data in upstream:
                self.take("server", data)
                await send({"type": "websocket.send", "text": data} if isinstance(data, str) else {"type": "websocket.send", "bytes": data})
        except ConnectionClosed:
            pass
        code, reason = upstream.close_code or 1000, upstream.close_reason or ""
        self.close = {"by": "upstream", "code": code, **({"reason": reason} if reason else {})}
        await send({"type": "websocket.close", "code": code, "reason": reason})

    def cassette(self, path: str, query: list[tuple[str, str]], received: list[tuple[str, str]], subprotocol: str | None, started: float) -> dict[str, Any]:
        redactor = self.core.redactor
        return {
            "gptnb_cassette": 1,
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "upstream": self.core.upstream.base_url,
            "contract": self.contract.id if self.contract else None,
            "request": {"method": "GET", "path": path, "query": dict(redactor.query(query)), "headers": redactor.headers(received)},
            "response": {"status": 101, "headers": {"sec-websocket-protocol": subprotocol} if subprotocol else {}},
            "websocket": {"subprotocol": subprotocol, "frames": self.frames, "close": self.close},
            "timing": {"started_at": round(started, 3), "time_to_headers_ms": round(self.handshake_ms, 1), "duration_ms": round(self.elapsed_ms(), 1)},
            "verdict": {"conforms": not self.entry.violations, "violations": list(self.entry.violations)},
        }


async def _deny(scope: Scope, receive: Receive, send: Send, status: int, body: bytes, connected: bool = False) -> None:
    if DENIAL in scope.get("extensions", {}):
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    if not connected:
        await receive()  # websocket.connect
    await send({"type": "websocket.close", "code": 1008, "reason": body[:120].decode("utf-8", "replace")})
