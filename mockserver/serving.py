"""How a mock runs under uvicorn: header size limit, bounded shutdown, keys kept out of the logs, a
start-up heap the garbage collector leaves alone.

``gptnb-mock serve`` and the live-server fixture both build their uvicorn config here, so a served
mock behaves the same whichever started it.
"""

from __future__ import annotations

import functools
import gc
import importlib.util
import logging
import re
from typing import Any

DEFAULT_MAX_HEADER_BYTES = 64 * 1024
"""Request line plus headers of one request; more gets 431 and the connection closed."""
DEFAULT_SHUTDOWN_SECONDS = 3.0
"""On SIGTERM, how long open requests, streams and WebSocket sessions get before they are cancelled."""


def uvicorn_options(max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES, shutdown_seconds: float = DEFAULT_SHUTDOWN_SECONDS) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` (one header limit per process: a
    ``--workers`` process calls this again with the same limit)."""
    options: dict[str, Any] = {"timeout_graceful_shutdown": shutdown_seconds}
    if _has("httptools"):
        protocol = _header_limited()
        protocol.limit = max_header_bytes
        options["http"] = protocol
    else:
        options["http"] = "h11"
        options["h11_max_incomplete_event_size"] = max_header_bytes
    if _has("uvloop"):
        options["loop"] = "uvloop"
    return options


def freeze_startup_heap() -> None:
    """Keep what start-up built (contracts, compiled schemas, routes: about 100k objects that live as
    long as the process) out of every later garbage collection.

    A full collection walks every tracked object; with the start-up heap in it, one took 30-120 ms
    under the soak's mix, and every request waiting meanwhile (``/__mock/health`` too) waited that
    long. Frozen, a collection walks only what requests made since (a frozen object is still freed
    when nothing refers to it; only a cycle among them would stay). Called once the app is built,
    after a collection, so no start-up garbage is frozen with it."""
    gc.collect()
    gc.freeze()


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@functools.cache
def _header_limited() -> type:
    """uvicorn's httptools protocol, refusing a request whose head grows past ``limit`` bytes.

    llhttp buffers a header until it ends, so a 50 MB header would sit in memory before any callback
    could look at it; counting the bytes that arrive before the head is complete stops it early. The
    class is this module's (``HeaderLimitedProtocol``), so uvicorn can hand it to worker processes.
    """
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HeaderLimitedProtocol(HttpToolsProtocol):
        limit = DEFAULT_MAX_HEADER_BYTES
        _head_bytes = 0
        _in_head = True

        def data_received(self, data: bytes) -> None:
            while data and self._in_head and self._head_bytes + len(data) > self.limit:
                # One read may hold the end of a head and the start of a large body (or of the next
                # pipelined request): the parser gets the bytes the limit allows, and the rest only
                # if that head ended within them (a new message's head starts its own count).
                allowed = self.limit - self._head_bytes
                self._head_bytes = self.limit
                super().data_received(data[:allowed])
                if self._in_head and self._head_bytes >= self.limit:
                    self._refuse()
                    return
                if self.transport.is_closing():
                    return
                data = data[allowed:]
            if not data:
                return
            if self._in_head:
                self._head_bytes += len(data)
            super().data_received(data)

        def on_message_begin(self) -> None:
            self._in_head, self._head_bytes = True, 0
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def _refuse(self) -> None:
            body = f"Request headers too large: the limit is {self.limit} bytes (gptnb-mock serve --max-header-bytes)".encode()
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
                + b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
            )
            self.transport.close()
            self._in_head = False  # whatever else arrives is dropped with the connection

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_head, self._head_bytes = True, 0

    HeaderLimitedProtocol.__qualname__ = "HeaderLimitedProtocol"  # found again by name, see __getattr__
    return HeaderLimitedProtocol


def __getattr__(name: str) -> Any:
    # uvicorn pickles the protocol class into --workers processes by name; there it is made on first use.
    if name == "HeaderLimitedProtocol":
        return _header_limited()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# What may carry a key in a log line: Authorization / api-key headers, the Realtime subprotocol
# that carries a browser's key, and query parameters named like keys.
_SECRETS = (
    (re.compile(r"(?i)((?:authorization|proxy-authorization|x-api-key|api-key|x-goog-api-key|x-mock-admin-token)['\"]?\s*[:=,]\s*['\"]?)[^'\"\r\n]+"), r"\1[redacted]"),
    (re.compile(r"(openai-insecure-api-key\.)[^,\s'\"]+"), r"\1[redacted]"),
    (re.compile(r"(?i)([?&](?:key|api_key|api-key|token|access_token)=)[^&\s'\"]+"), r"\1[redacted]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites a record's message with keys replaced by ``[redacted]``, at every level."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# websockets logs the handshake's request headers at debug; uvicorn logs paths with their query.
_LOGGERS = ("websockets", "websockets.server", "websockets.protocol", "uvicorn", "uvicorn.error", "uvicorn.access", "gptnb_mock")


def install_log_redaction() -> None:
    """Attach the filter to every logger and handler that may print a request's headers or query."""
    secret_filter = RedactSecrets()
    loggers = [logging.getLogger(name) for name in _LOGGERS] + [logging.getLogger()]
    for target in [*loggers, *(h for logger in loggers for h in logger.handlers)]:
        if not any(isinstance(f, RedactSecrets) for f in target.filters):
            target.addFilter(secret_filter)
