"""One WebSocket session through the proxy (the Realtime API): the handshake made afresh towards the
upstream with the client's subprotocols and headers, then every frame passed on both ways as it comes,
each judged against the contract's client or server event schema, timed and recorded.

An upstream that refuses the handshake has its answer passed back as the refusal (the ASGI denial
response), as a relay does; servers without that extension give the client a policy-violation close.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import orjson
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from ..ids import request_id
from ..responses import ResponseJudge
from .cassette import encode_body
from .upstream import HANDSHAKE
from .verdict import Incoming, verdict_headers

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
        incoming = Incoming.from_scope(scope)
        path = incoming.path
        seen = await core.requests.judge("GET", path, incoming.query, incoming.headers, b"")
        contract = seen.contract
        if contract is not None and contract.kind != "websocket":
            seen.violations.append(f"request: {contract.id} is not a WebSocket endpoint")
        entry = core.journal_entry("GET", incoming, seen)
        refused = core.guard.refusal(contract, "WEBSOCKET", path)
        if refused is not None:
            entry.status, entry.response = 403, refused
            await core.journal.record(entry)
            await _deny(scope, receive, send, 403, orjson.dumps(core.refusal(contract, 403, "proxy_refused", refused, request_id()).body))
            return
        await receive()  # websocket.connect
        number = core.writer.number() if core.writer else None
        offered = [p.strip() for p in incoming.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        try:
            upstream = await connect(
                core.upstream.url(incoming.raw_path, core.upstream.query(contract, incoming.query_string), websocket=True),
                subprotocols=core.upstream.subprotocols(contract, offered) or None,  # type: ignore[arg-type]
                additional_headers=core.upstream.headers(contract, incoming.received, skip=HANDSHAKE),
                user_agent_header=None if "user-agent" in incoming.headers else "gptnb-mock proxy",
                open_timeout=core.options.timeout,
                max_size=MAX_FRAME_BYTES,
                ping_interval=None,  # the client keeps its own session alive; the proxy adds no traffic
            )
        except InvalidStatus as exc:
            entry.status, entry.response = exc.response.status_code, exc.response.body.decode("utf-8", "replace")[:2000]
            await core.journal.record(entry)
            await _deny(scope, receive, send, exc.response.status_code, exc.response.body, connected=True)
            return
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            message = f"the upstream {core.upstream.base_url} did not take the WebSocket: {type(exc).__name__}: {exc}"
            entry.status, entry.response = 502, message
            await core.journal.record(entry)
            await _deny(scope, receive, send, 502, orjson.dumps(core.refusal(contract, 502, "upstream_unreachable", message, request_id()).body), connected=True)
            return
        session = _Session(core, contract, entry, incoming)
        entry.status = 101
        await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol, "headers": verdict_headers(contract, entry, pending=True)})
        try:
            await session.relay(upstream, receive, send)
        finally:
            await upstream.close()
        entry.duration_ms = incoming.elapsed_ms()
        entry.response = f"{session.counts['client']} client frames, {session.counts['server']} server frames"
        await core.journal.record(entry)  # a session is journalled when it ends, with every frame's verdict
        log.info("WEBSOCKET %s -> 101 %s: %s, %s", path, contract.id if contract else "(no contract)", entry.response, "conforms" if not entry.violations else f"{len(entry.violations)} violation(s)")
        if number is not None:
            await core.record(number, core.cassette(incoming, "GET", contract, None, **session.recorded(upstream.subprotocol)))


class _Session:
    def __init__(self, core: ProxyCore, contract: Any, entry: Any, incoming: Incoming) -> None:
        self.core = core
        self.contract = contract
        self.entry = entry
        self.incoming = incoming
        self.handshake_ms = incoming.elapsed_ms()
        self.judge = ResponseJudge(contract, core.registry) if contract is not None and contract.kind == "websocket" else None
        self.frames: list[dict[str, Any]] = []
        self.counts = {"client": 0, "server": 0}
        self.close: dict[str, Any] = {}

    def take(self, side: str, data: str | bytes) -> None:
        index, self.counts[side] = self.counts[side], self.counts[side] + 1
        raw = data.encode() if isinstance(data, str) else data
        self.frames.append({"at_ms": round(self.incoming.elapsed_ms() - self.handshake_ms, 1), "from": side, **encode_body(raw, "application/json" if isinstance(data, str) else "")})
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

    def recorded(self, subprotocol: str | None) -> dict[str, Any]:
        """The session, timing and verdict, as a cassette keeps them."""
        return {
            "response": {"status": 101, "headers": {"sec-websocket-protocol": subprotocol} if subprotocol else {}},
            "websocket": {"subprotocol": subprotocol, "frames": self.frames, "close": self.close},
            "timing": {"started_at": round(self.incoming.started, 3), "time_to_headers_ms": round(self.handshake_ms, 1), "duration_ms": round(self.incoming.elapsed_ms(), 1)},
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
