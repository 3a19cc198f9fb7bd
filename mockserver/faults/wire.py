"""The connection under an answer, for the faults that break it: reset it, close it early, write raw bytes.

Under uvicorn (``gptnb-mock serve``, the ``gptnb_server`` fixture) the wire is the request's own
asyncio transport, reached through the server's ``send`` callable, so clients see a real RST, a real
early close or real garbage. In-process (the ``gptnb`` fixture) the bridge offers the ``gptnb.wire``
ASGI extension: the app sends what happened on the wire, and the bridge raises in the client what an
httpx or httpx2 client raises on a real socket when that happens.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

from starlette.types import Receive, Scope, Send

EXTENSION = "gptnb.wire"
RESET = "gptnb.wire.reset"
CLOSE = "gptnb.wire.close"
WRITE = "gptnb.wire.write"
GONE_TIMEOUT = 2.0  # how long to wait for the server to notice a connection the wire ended


class Wire:
    """Break the connection; every method ends with the server knowing the client is gone."""

    async def reset(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """End the connection after what was already sent (a clean FIN, no more bytes)."""
        raise NotImplementedError

    async def write(self, data: bytes) -> None:
        """Raw bytes on the connection, outside HTTP (before a ``close``)."""
        raise NotImplementedError


class ExtensionWire(Wire):
    def __init__(self, send: Send) -> None:
        self.send = send

    async def reset(self) -> None:
        await self.send({"type": RESET})

    async def close(self) -> None:
        await self.send({"type": CLOSE})

    async def write(self, data: bytes) -> None:
        await self.send({"type": WRITE, "bytes": data})


class TransportWire(Wire):
    def __init__(self, transport: Any, receive: Receive) -> None:
        self.transport = transport
        self.receive = receive

    async def reset(self) -> None:
        sock = self.transport.get_extra_info("socket")
        if sock is not None:  # SO_LINGER 0: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()
        await self._gone()

    async def close(self) -> None:
        # What was sent must reach the client before the FIN; abort (not close) so that nothing the
        # server writes afterwards (a chunked body's last chunk) goes out.
        for _ in range(200):
            if not self.transport.get_write_buffer_size():
                break
            await asyncio.sleep(0.005)
        self.transport.abort()
        await self._gone()

    async def write(self, data: bytes) -> None:
        self.transport.write(data)

    async def _gone(self) -> None:
        """Wait for the server to see the connection end, so it does not answer the request itself."""
        try:
            async with asyncio.timeout(GONE_TIMEOUT):
                while not (await self.receive())["type"].endswith("disconnect"):
                    pass
        except TimeoutError:
            pass


def wire_for(scope: Scope, receive: Receive, send: Send) -> Wire | None:
    """The wire under this request, or None when the server offers no way to break it."""
    if EXTENSION in scope.get("extensions", {}):
        return ExtensionWire(send)
    # uvicorn's send is a method of its request cycle (HTTP) or protocol (WebSocket), which holds the
    # transport; uvloop's transports are not asyncio.Transport subclasses, so look for what is used.
    transport: Any = getattr(getattr(send, "__self__", None), "transport", None)
    if all(hasattr(transport, name) for name in ("abort", "get_extra_info", "get_write_buffer_size")):
        return TransportWire(transport, receive)
    return None
