"""A connection to Redis that speaks its protocol (RESP) directly, one per event loop.

Commands are written as they come and replies, read by hiredis, answer them in the order they were
sent, so any number of round trips may be in flight on the one socket. The store needs nothing more:
a client library's per-command machinery (pools, retries, response callbacks, instrumentation) costs
more than the Redis work of a journalled request.

Any trouble reaching Redis (cannot connect, the connection drops, no answer in time) is
``Unavailable``; whatever was in flight on a lost connection fails with it, and the next call connects
afresh, so a restarted Redis is picked up again by the next request. Error replies are answered as
``ReplyError`` values, not raised: a batch decides what each one means.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis

ReplyError = hiredis.ReplyError


class Unavailable(ConnectionError):
    """Redis cannot be reached, or stopped answering."""


@dataclass(frozen=True)
class Address:
    host: str = "127.0.0.1"
    port: int = 6379
    path: str | None = None
    """A Unix socket's path (``unix://``), used instead of host and port."""
    tls: bool = False
    username: str | None = None
    password: str | None = None
    db: int = 0

    @classmethod
    def parse(cls, url: str) -> Address:
        """``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` (TLS) or ``unix://path[?db=N]``."""
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"not a Redis URL (redis://, rediss:// or unix://): {parts.scheme}://…")
        query = parse_qs(parts.query)
        path_db = parts.path.strip("/") if parts.scheme != "unix" else ""
        try:
            db, port = int(query["db"][0]) if "db" in query else int(path_db or 0), parts.port
        except ValueError:  # the message leaves the URL out: it may hold a password
            raise ValueError(f"a Redis URL needs a numeric port and database (redis://HOST:PORT/DB), host {parts.hostname}") from None
        credentials = {
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
        }
        if parts.scheme == "unix":
            return cls(path=parts.path, db=db, **credentials)
        return cls(parts.hostname or "127.0.0.1", port or 6379, tls=parts.scheme == "rediss", db=db, **credentials)


def pack(*args: bytes | str | int | float) -> bytes:
    """One command in RESP: an array of bulk strings."""
    return b"*%d\r\n" % len(args) + bulks(*args)


def bulks(*args: bytes | str | int | float) -> bytes:
    """Arguments as RESP bulk strings, to follow an array's head."""
    out = []
    for arg in args:
        raw = arg if arg.__class__ is bytes else str(arg).encode()
        out += (b"$%d\r\n" % len(raw), raw, b"\r\n")  # type: ignore[arg-type]
    return b"".join(out)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[tuple[asyncio.Future[list[Any]], int, list[Any]]] = deque()
        self.lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while self.waiting:
            try:
                reply = self.reader.gets()
            except hiredis.ProtocolError as exc:
                self.close(Unavailable(f"unreadable reply from Redis: {exc}"))
                return
            if reply is False:  # nothing complete yet (a nil reply is None)
                return
            future, count, replies = self.waiting[0]
            replies.append(reply)
            if len(replies) == count:
                self.waiting.popleft()
                if not future.done():
                    future.set_result(replies)

    def connection_lost(self, exc: Exception | None) -> None:
        self.close(Unavailable(f"connection to Redis lost: {exc}" if exc else "connection closed by Redis"))

    def close(self, error: Unavailable) -> None:
        if self.lost is None:
            self.lost = error
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()
        waiting, self.waiting = self.waiting, deque()
        for future, _, _ in waiting:
            if not future.done():
                future.set_exception(self.lost)

    def usable(self) -> bool:
        return self.lost is None and self.transport is not None and not self.transport.is_closing()

    def send(self, data: bytes, count: int) -> asyncio.Future[list[Any]]:
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self.waiting.append((future, count, []))
        try:
            self.transport.write(data)  # type: ignore[union-attr]
        except (OSError, RuntimeError) as exc:  # closed under us (uvloop raises, asyncio drops the write)
            self.close(Unavailable(f"cannot write to Redis: {exc}"))
        return future


class Connection:
    """Redis at ``address``, connected on first use and again after a loss; ``call`` sends commands
    already packed and answers their replies."""

    def __init__(self, address: Address, connect_timeout: float, reply_timeout: float) -> None:
        self.address = address
        self.connect_timeout = connect_timeout
        self.reply_timeout = reply_timeout
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    async def call(self, data: bytes, count: int) -> list[Any]:
        """Send ``count`` packed commands and wait for their ``count`` replies."""
        protocol = self._protocol
        if protocol is None or not protocol.usable():
            protocol = await self._connect()
        future = protocol.send(data, count)
        timer = asyncio.get_running_loop().call_later(self.reply_timeout, self._timed_out, protocol, future)
        try:
            return await future
        finally:
            timer.cancel()

    def _timed_out(self, protocol: _Protocol, future: asyncio.Future[list[Any]]) -> None:
        # Replies come in order: one that is late holds up all behind it, so the connection goes.
        if not future.done():
            protocol.close(Unavailable(f"no answer from Redis within {self.reply_timeout:g}s"))

    async def _connect(self) -> _Protocol:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._protocol is not None and self._protocol.usable():
                return self._protocol  # another call connected meanwhile
            self._protocol = await self._open()
            return self._protocol

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        a = self.address
        where = a.path or f"{a.host}:{a.port}"
        try:
            async with asyncio.timeout(self.connect_timeout):
                if a.path is not None:
                    _, protocol = await loop.create_unix_connection(_Protocol, a.path)
                else:
                    tls = ssl.create_default_context() if a.tls else None
                    _, protocol = await loop.create_connection(_Protocol, a.host, a.port, ssl=tls)
                hello = []
                if a.password is not None:
                    hello.append(pack("AUTH", *([a.username] if a.username else []), a.password))
                if a.db:
                    hello.append(pack("SELECT", a.db))
                replies = await protocol.send(b"".join(hello), len(hello)) if hello else []
        except TimeoutError:
            raise Unavailable(f"cannot connect to {where}: no answer within {self.connect_timeout:g}s") from None
        except OSError as exc:
            raise Unavailable(f"cannot connect to {where}: {exc.strerror or exc}") from None
        refused = next((reply for reply in replies if isinstance(reply, ReplyError)), None)
        if refused is not None:
            protocol.close(Unavailable(f"Redis at {where} refused the connection: {refused}"))
            raise protocol.lost  # type: ignore[misc]
        return protocol

    def close(self) -> None:
        if self._protocol is not None:
            self._protocol.close(Unavailable("the store was closed"))
            self._protocol = None
