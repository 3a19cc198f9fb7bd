"""Run an ASGI HTTP app in-process and answer with httpx responses whose body streams.

httpx's own ASGITransport collects the whole body before it returns, which turns every SSE endpoint
into "all events at the end". Here the response is handed back as soon as the app sends
``http.response.start`` and each body chunk reaches the reader as the app sends it.

The bridge offers the ``gptnb.wire`` ASGI extension: an app may reset the connection, close it early
or write raw bytes on it, and the client then raises what an httpx client raises when that happens
on a real socket (``ReadError``, ``RemoteProtocolError`` with httpcore's words and h11's verdict on
the bytes). Read timeouts the client set are honoured the same way.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, MutableMapping
from types import ModuleType, TracebackType
from typing import Any, TypeVar

import h11
import httpx

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

# What travels from the app to the reader: a body chunk, an error that ends the body, or None for
# the clean end of the body.
Item = bytes | BaseException | None

T = TypeVar("T")

_DEFAULT_PORTS = {"http": 80, "https": 443}
WIRE = "gptnb.wire"
RESET_BY_PEER = "[Errno 104] Connection reset by peer"


class _Exchange:
    """One request/response cycle; the app runs as a task on the loop that awaits ``start()``."""

    def __init__(self, app: ASGIApp, scope: Scope, body: bytes, deliver: Callable[[Item], None], errors: ModuleType) -> None:
        self._app = app
        self._scope = scope
        self._body = body
        # Must not block: it is called on the app's loop (asyncio.Queue or queue.Queue put_nowait).
        self._deliver = deliver
        self._errors = errors  # where ReadError / RemoteProtocolError come from for this client
        self._request_sent = False
        self._complete = False  # the app sent its last body chunk (or failed after the start)
        self._late_error: BaseException | None = None
        self._expected: int | None = None  # the response's Content-Length
        self._received = 0
        self._raw = b""  # bytes written on the wire before any response
        self._broken = False

    async def start(self, timeout: float | None = None) -> tuple[int, Headers]:
        """The response's status and headers, once the app sends them (the client's read timeout applies)."""
        # asyncio primitives are created here because they belong to the loop the app runs on.
        loop = asyncio.get_running_loop()
        self._started: asyncio.Future[tuple[int, Headers]] = loop.create_future()
        self._gone = asyncio.Event()  # response finished or client closed: receive() may answer
        self._task = loop.create_task(self._run())
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(self._started)
        except (asyncio.CancelledError, TimeoutError) as stopped:
            # The caller gave up before the response started: stop the app and let its cleanup run.
            self._task.cancel()
            await asyncio.wait({self._task})
            if isinstance(stopped, TimeoutError):
                raise self.read_timeout() from None
            raise

    def read_timeout(self) -> BaseException:
        return self._errors.ReadTimeout("timed out")

    def finished_cleanly(self) -> bool:
        """The app has returned and left no error to report (safe to ask from another thread)."""
        task = getattr(self, "_task", None)
        return task is not None and task.done() and self._late_error is None and not task.cancelled() and task.exception() is None

    async def aclose(self) -> None:
        """Called when the reader is done: a finished app is awaited, an unfinished one cancelled."""
        self._gone.set()
        if not self._complete:
            self._task.cancel()
        # Awaiting the finished app too makes background tasks complete before the client moves on,
        # like httpx's ASGITransport does; asyncio.wait never re-raises the task's own cancellation.
        await asyncio.wait({self._task})
        if self._late_error is not None:
            error, self._late_error = self._late_error, None
            raise error

    async def _run(self) -> None:
        try:
            await self._app(self._scope, self._receive, self._send)
        except BaseException as exc:
            self._fail(exc)
            if not isinstance(exc, Exception):
                raise  # cancellation must stay cancellation
        else:
            if not self._started.done():
                self._started.set_exception(RuntimeError("ASGI app returned without sending http.response.start"))
            elif not self._complete:
                self._finish(None)  # returned without more_body=False: the body ends here
        finally:
            self._gone.set()

    def _fail(self, exc: BaseException) -> None:
        if not self._started.done():
            if isinstance(exc, Exception):
                self._started.set_exception(exc)  # surfaces in the caller: the bug stays visible
            else:
                self._started.cancel()
        elif not self._complete:
            if not isinstance(exc, Exception):
                exc = RuntimeError("ASGI app was cancelled before it finished the response")
            self._finish(exc)
        else:
            self._late_error = exc  # e.g. a background task; raised when the response is closed

    def _finish(self, last: Item) -> None:
        self._complete = True
        self._deliver(last)
        self._gone.set()

    async def _receive(self) -> Message:
        if not self._request_sent:
            self._request_sent = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if self._broken:
            return  # the connection is gone: what the app still sends goes nowhere, as on a socket
        if kind.startswith(WIRE + "."):
            self._wire(kind, message)
        elif kind == "http.response.start" and not self._started.done():
            headers = [(bytes(name).lower(), bytes(value)) for name, value in message.get("headers", [])]
            length = next((value for name, value in headers if name == b"content-length"), None)
            self._expected = int(length) if length is not None and length.isdigit() else None
            self._started.set_result((int(message["status"]), headers))
        elif kind == "http.response.body" and self._started.done() and not self._complete:
            body = bytes(message.get("body", b""))
            if body:
                self._received += len(body)
                self._deliver(body)
            if not message.get("more_body", False):
                self._finish(None)
        else:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} at this point of the response")

    def _wire(self, kind: str, message: Message) -> None:
        """What happened on the wire, turned into what the client raises when it happens on a socket."""
        if kind == WIRE + ".write" and not self._started.done():
            self._raw += bytes(message["bytes"])
            return
        if kind == WIRE + ".reset":
            error: BaseException | None = self._errors.ReadError(RESET_BY_PEER)
        elif kind == WIRE + ".close":
            error = self._closed_early()
        else:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} at this point of the response")
        self._broken = True
        if not self._started.done():
            self._started.set_exception(error or self._errors.RemoteProtocolError("Server disconnected without sending a response."))
        elif not self._complete:
            self._finish(error)
        self._gone.set()

    def _closed_early(self) -> BaseException | None:
        """httpcore's verdict on a connection closed now (None: the body was complete after all)."""
        protocol_error = self._errors.RemoteProtocolError
        if not self._started.done():
            if not self._raw:
                return None
            verdict = _h11_verdict(self._raw, protocol_error)
            verdict.raw = self._raw  # type: ignore[attr-defined]  # for clients that parse bytes themselves (aiohttp)
            return verdict
        if self._expected is None:
            return protocol_error("peer closed connection without sending complete message body (incomplete chunked read)")
        if self._received < self._expected:
            return protocol_error(f"peer closed connection without sending complete message body (received {self._received} bytes, expected {self._expected})")
        return None


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, exchange: _Exchange, chunks: asyncio.Queue[Item], read_timeout: float | None) -> None:
        self._exchange = exchange
        self._chunks = chunks
        self._read_timeout = read_timeout
        self._iterated = False
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._iterated:
            raise httpx.StreamConsumed()  # a second pass would wait for ever on an empty queue
        self._iterated = True
        while (item := await self._next()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    async def _next(self) -> Item:
        try:
            return await asyncio.wait_for(self._chunks.get(), self._read_timeout)
        except TimeoutError:
            raise self._exchange.read_timeout() from None

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._exchange.aclose()


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, exchange: _Exchange, chunks: queue.Queue[Item], loop: asyncio.AbstractEventLoop, read_timeout: float | None) -> None:
        self._exchange = exchange
        self._chunks = chunks
        self._loop = loop
        self._read_timeout = read_timeout
        self._iterated = False
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        if self._iterated:
            raise httpx.StreamConsumed()  # a second pass would wait for ever on an empty queue
        self._iterated = True
        while (item := self._next()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    def _next(self) -> Item:
        try:
            return self._chunks.get(timeout=self._read_timeout)
        except queue.Empty:
            raise self._exchange.read_timeout() from None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._exchange.finished_cleanly():
                return  # nothing left to await or cancel: skip a round trip to the loop thread
            if not self._loop.is_closed():  # after ASGIBridge.close() the app was already cancelled
                _run_on(self._loop, self._exchange.aclose())


class ASGIBridge:
    """Serve httpx requests from an ASGI app without sockets, streaming the response body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    async def handle_async(self, request: httpx.Request, errors: ModuleType = httpx) -> httpx.Response:
        """Run the app as a task in the caller's running asyncio loop. ``errors`` is the module whose
        ReadError / RemoteProtocolError / ReadTimeout the client expects (httpx, httpcore, httpcore2)."""
        body = await request.aread()
        chunks: asyncio.Queue[Item] = asyncio.Queue()
        exchange = _Exchange(self.app, _scope(request), body, chunks.put_nowait, errors)
        timeout = _read_timeout(request)
        status, headers = await exchange.start(timeout)
        return _response(request, status, headers, _AsyncBody(exchange, chunks, timeout))

    def handle_sync(self, request: httpx.Request, errors: ModuleType = httpx) -> httpx.Response:
        """Run the app on the bridge's own loop thread; chunks cross over through a thread-safe queue."""
        body = request.read()
        loop = self._background_loop()
        chunks: queue.Queue[Item] = queue.Queue()
        exchange = _Exchange(self.app, _scope(request), body, chunks.put_nowait, errors)
        timeout = _read_timeout(request)
        status, headers = _run_on(loop, exchange.start(timeout))
        return _response(request, status, headers, _SyncBody(exchange, chunks, loop, timeout))

    def close(self) -> None:
        """Stop the background loop; apps still streaming to sync clients are cancelled."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()

    def __enter__(self) -> ASGIBridge:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _background_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=_serve_forever, args=(self._loop,), name="asgi-bridge", daemon=True
                )
                self._thread.start()
            return self._loop


def _serve_forever(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        # Cancel what is left so the apps' cleanup runs and blocked readers get an error, not a hang.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


def _run_on(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coro.close()
        # Waiting here would block the very loop that has to answer.
        raise RuntimeError("A sync client was used against the ASGIBridge from inside the app it runs")
    future = asyncio.run_coroutine_threadsafe(coro, loop)
    try:
        return future.result()
    except BaseException:
        future.cancel()  # e.g. KeyboardInterrupt while waiting: do not leave the app running
        raise


def _scope(request: httpx.Request) -> Scope:
    url = request.url
    headers = [(name.lower(), value) for name, value in request.headers.raw]
    if not any(name == b"host" for name, _ in headers):
        headers.insert(0, (b"host", url.netloc))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": url.path,  # httpx already percent-decodes .path
        "raw_path": url.raw_path.split(b"?", 1)[0],  # httpx's raw_path carries the query too
        "query_string": url.query,
        "root_path": "",
        "headers": headers,
        "server": (url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 80)),
        "client": ("127.0.0.1", 50000),
        "extensions": {WIRE: {}},
    }


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout", {}).get("read")
    return float(timeout) if isinstance(timeout, (int, float)) else None


def _h11_verdict(raw: bytes, protocol_error: type[Exception]) -> BaseException:
    """What httpcore says of ``raw`` arriving where a response should start, then the connection
    closing: h11's complaint about the bytes, or (bytes it is still waiting to make sense of) that
    the server disconnected without a response."""
    connection = h11.Connection(h11.CLIENT)
    connection.send(h11.Request(method="GET", target="/", headers=[("Host", "localhost")]))
    connection.send(h11.EndOfMessage())
    connection.receive_data(raw)
    try:
        connection.next_event()
    except h11.RemoteProtocolError as exc:
        return protocol_error(str(exc))
    return protocol_error("Server disconnected without sending a response.")


def _response(
    request: httpx.Request, status: int, headers: Headers, stream: httpx.SyncByteStream | httpx.AsyncByteStream
) -> httpx.Response:
    extensions = {"http_version": b"HTTP/1.1"}
    return httpx.Response(status, headers=headers, stream=stream, request=request, extensions=extensions)
