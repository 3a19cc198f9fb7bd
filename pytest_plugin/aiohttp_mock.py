"""Answer aiohttp requests for chosen hosts with an ASGIBridge, over an in-memory HTTP/1.1 connection.

google-genai's async client switches to aiohttp whenever aiohttp is importable, and anthropic's opt-in
``DefaultAioHttpClient`` rides on it, so intercepting httpx alone would let their requests reach the
network. This mocker patches the one place aiohttp opens a connection (``TCPConnector._create_connection``,
the same seam aiohttp's own proxy support uses): for an intercepted host it hands aiohttp a protocol
wired to a memory transport instead of a socket. aiohttp writes its request there as bytes, h11 reads
them, the bridge answers, and the answer goes back as HTTP/1.1 bytes that aiohttp's own parser reads,
chunk by chunk as the app streams: a real ``ClientResponse`` without faking aiohttp's internals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import h11
import httpx
from aiohttp import TCPConnector
from aiohttp.client_proto import ResponseHandler

from .bridge import ASGIBridge


class AiohttpMocker:
    """While started, aiohttp connections to ``hosts`` ((name, port or None) pairs) talk to ``bridge``."""

    _started: list[AiohttpMocker] = []  # newest last; the patch is installed while any is started
    _original: Any = None

    def __init__(self, bridge: ASGIBridge, hosts: Iterable[tuple[str, int | None]]) -> None:
        self.bridge = bridge
        self.hosts = tuple(hosts)

    def start(self) -> None:
        if self in AiohttpMocker._started:
            return
        if not AiohttpMocker._started:
            AiohttpMocker._original = TCPConnector._create_connection
            TCPConnector._create_connection = _create_connection  # type: ignore[method-assign]
        AiohttpMocker._started.append(self)

    def stop(self) -> None:
        if self not in AiohttpMocker._started:
            return
        AiohttpMocker._started.remove(self)
        if not AiohttpMocker._started:
            TCPConnector._create_connection = AiohttpMocker._original  # type: ignore[method-assign]

    def serves(self, host: str, port: int | None) -> bool:
        return any(host == name and (wanted is None or wanted == port) for name, wanted in self.hosts)


async def _create_connection(connector: TCPConnector, req: Any, traces: Any, timeout: Any) -> ResponseHandler:
    for mocker in reversed(AiohttpMocker._started):
        if mocker.serves(req.host, req.port):
            loop = asyncio.get_running_loop()
            protocol = ResponseHandler(loop)
            protocol.connection_made(_MemoryTransport(protocol, mocker.bridge, req.url.scheme, loop))
            return protocol
    return await AiohttpMocker._original(connector, req, traces, timeout)


class _MemoryTransport(asyncio.Transport):
    """The server end of one connection: reads one request, answers it, then closes (Connection: close)."""

    def __init__(self, protocol: ResponseHandler, bridge: ASGIBridge, scheme: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._protocol = protocol
        self._bridge = bridge
        self._scheme = scheme
        self._loop = loop
        self._server = h11.Connection(h11.SERVER)
        self._request: h11.Request | None = None
        self._body = bytearray()
        self._answering: asyncio.Task[None] | None = None
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:
            return
        self._server.receive_data(bytes(data))
        while (event := self._server.next_event()) not in (h11.NEED_DATA, h11.PAUSED):
            if isinstance(event, h11.Request):
                self._request = event
            elif isinstance(event, h11.Data):
                self._body += event.data
            elif isinstance(event, h11.EndOfMessage):
                self._answering = self._loop.create_task(self._answer())
            else:
                break

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    async def _answer(self) -> None:
        assert self._request is not None
        request = self._request
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers]
        host = next((value for name, value in headers if name.lower() == "host"), "localhost")
        url = f"{self._scheme}://{host}{request.target.decode('latin-1')}"
        outgoing = httpx.Request(request.method.decode(), url, headers=headers, content=bytes(self._body))
        try:
            response = await self._bridge.handle_async(outgoing)
        except httpx.TransportError as broken:  # the app broke the connection on purpose (a fault)
            return self._lose(broken)
        try:
            # The bridge's body is already decoded; hop-by-hop and framing headers are h11's to write.
            kept = [(k, v) for k, v in response.headers.raw if k.lower() not in (b"content-length", b"transfer-encoding", b"connection")]
            framing = [(b"content-length", response.headers["content-length"].encode())] if "content-length" in response.headers else [(b"transfer-encoding", b"chunked")]
            self._deliver(h11.Response(status_code=response.status_code, headers=[*kept, *framing, (b"connection", b"close")]))
            async for chunk in response.aiter_raw():
                if chunk:
                    self._deliver(h11.Data(data=chunk))
            self._deliver(h11.EndOfMessage())
        except httpx.TransportError as broken:
            self._lose(broken)
        finally:
            await response.aclose()

    def _lose(self, broken: httpx.TransportError) -> None:
        """The connection ends as the fault ended it: reset (ECONNRESET) or closed early, as aiohttp sees a socket do."""
        if not self._closing:
            self._closing = True
            raw = getattr(broken, "raw", b"")  # bytes that were not HTTP: aiohttp's own parser judges them
            if raw:
                self._protocol.data_received(raw)
            self._protocol.connection_lost(ConnectionResetError(104, "Connection reset by peer") if isinstance(broken, httpx.ReadError) else None)

    def _deliver(self, event: Any) -> None:
        if not self._closing:
            self._protocol.data_received(self._server.send(event))

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._answering is not None and not self._answering.done():
            self._answering.cancel()
        self._loop.call_soon(self._protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def is_closing(self) -> bool:
        return self._closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def pause_reading(self) -> None:  # the whole answer is in memory already; there is nothing to pause
        pass

    def resume_reading(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def can_write_eof(self) -> bool:
        return False
