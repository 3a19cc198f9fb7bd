"""A real local HTTP server that records the callbacks the mock POSTs (for the families' tests)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class CallbackListener:
    """``url`` to give the mock; ``received`` bodies in arrival order; ``arrived`` set once ``done(body)``."""

    def __init__(self, done: Callable[[Any], bool]) -> None:
        self.received: list[Any] = []
        self.arrived = threading.Event()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                listener.received.append(body)
                self.send_response(200)
                self.end_headers()
                if done(body):
                    listener.arrived.set()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def __enter__(self) -> CallbackListener:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
