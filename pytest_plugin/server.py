"""Serve an ASGI app under uvicorn on a free local port, for clients that only speak real sockets."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn

from mockserver.serving import uvicorn_options

from .bridge import ASGIApp

STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 5


class LiveServer:
    """uvicorn in a background thread; ``port=0`` lets the OS pick a free port."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> None:
        self.app = app
        self.host = host
        self.port = port  # the real port once started
        self._requested_port = port  # kept so a restart with port=0 picks a fresh port again
        self.log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("LiveServer is not running; call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Return once the server accepts connections; raise RuntimeError if it cannot start."""
        if self._server is not None:
            return
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self._requested_port,
            log_level=self.log_level,
            # Open streams must not keep stop() waiting for ever.
            **uvicorn_options(shutdown_seconds=SHUTDOWN_TIMEOUT),
        )
        server = uvicorn.Server(config)
        # Server.run() leaves signal handlers alone off the main thread (uvicorn >= 0.29 checks
        # the thread in capture_signals), so it is safe to run here.
        self._failure = None
        thread = threading.Thread(target=self._serve, args=(server,), name="gptnb-live-server", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(
                    f"uvicorn failed to start on {self.host}:{self._requested_port} (see its log above)"
                ) from self._failure
            if time.monotonic() > deadline:
                server.should_exit = True
                thread.join(SHUTDOWN_TIMEOUT)
                raise RuntimeError(f"uvicorn did not start on {self.host}:{self._requested_port} within {timeout}s")
            time.sleep(0.01)
        # With port 0 only the bound socket knows the real port.
        self.port = server.servers[0].sockets[0].getsockname()[1]
        self._server, self._thread = server, thread

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT * 2)
        if thread.is_alive():
            server.force_exit = True
            thread.join(SHUTDOWN_TIMEOUT)
        self._server = self._thread = None

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _serve(self, server: uvicorn.Server) -> None:
        try:
            server.run()
        except BaseException as exc:  # uvicorn reports a failed bind with sys.exit()
            self._failure = exc
