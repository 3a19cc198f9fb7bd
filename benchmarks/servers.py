"""The servers under load: the mock, a bare Starlette baseline, and helpers to run either as a subprocess.

Both run through the same ``serve()`` so they get identical uvicorn settings (uvloop + httptools,
one worker, access log off); only the ASGI app differs. ``python benchmarks/servers.py KIND PORT``
is the subprocess entry point.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from common import CHAT_PATH, HOST, STREAM_CHOICES, STREAM_TOKENS

# Shaped like the mock's non-stream chat completion and about as large (~730 bytes), so the
# baseline pays the same serialisation and socket cost per response.
BASELINE_BODY: dict[str, Any] = {
    "id": "chatcmpl-vN9jUWbx4zfRiJJaWtEaXudBwCh8Z",
    "object": "chat.completion",
    "created": 1764000000,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": 'You said: "Hello". This is a mock reply from gpt-4o-mini. Given request and seed which makes '
                "assertions in tests simple and stable the mock answers every.",
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 8,
        "completion_tokens": 33,
        "total_tokens": 41,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
        },
    },
    "service_tier": "default",
    "system_fingerprint": "fp_ks2it9ttrs",
}


def _stream_lines() -> list[bytes]:
    """The baseline stream, encoded once: role, STREAM_TOKENS content deltas and a finish event for each
    of STREAM_CHOICES choices, then [DONE] -- the mock's event count and sizes. Pre-encoding makes the
    baseline the floor (Starlette + uvicorn + one socket write per event), so the ratio shows all the
    mock does per event: planning, building the chunk dicts, serialising them."""
    head = {"id": "chatcmpl-bxzhIJP2sTUyNSmuMKhEaetM8dVgq", "object": "chat.completion.chunk", "created": 1764000000,
            "model": "gpt-4o-mini", "system_fingerprint": "fp_ks2it9ttrs"}
    lines = []
    for index in range(STREAM_CHOICES):
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": "", "refusal": None}]
        deltas += [{"content": f" word{i}"} for i in range(STREAM_TOKENS)]
        deltas.append({})
        for position, delta in enumerate(deltas):
            finish = "length" if position == len(deltas) - 1 else None
            chunk = {**head, "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]}
            lines.append(f"data: {json.dumps(chunk, separators=(',', ':'))}\n\n".encode())
    return [*lines, b"data: [DONE]\n\n"]


STREAM_LINES = _stream_lines()


def baseline_app() -> Any:
    """A bare Starlette app: one fixed JSON route (serialised per request by JSONResponse), plus a stream route."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    async def chat(request: Request) -> JSONResponse:
        return JSONResponse(BASELINE_BODY)

    async def events() -> AsyncIterator[bytes]:
        for line in STREAM_LINES:
            yield line

    async def stream(request: Request) -> StreamingResponse:
        return StreamingResponse(events(), media_type="text/event-stream")

    # The JSON route comes first, so measurement 1 matches on the first route as a one-route app would.
    return Starlette(routes=[Route(CHAT_PATH, chat, methods=["POST"]), Route("/stream", stream, methods=["POST"])])


def mock_app() -> Any:
    """The mock as ``gptnb-mock serve`` builds it by default: validation on, strict off, its start-up
    heap frozen (else the first full collections, while the journal fills, are timed as requests)."""
    from mockserver.app import MockApp
    from mockserver.config import Settings
    from mockserver.serving import freeze_startup_heap

    app = MockApp(settings=Settings())
    freeze_startup_heap()
    return app


APPS = {"mock": mock_app, "baseline": baseline_app}


def serve(kind: str, port: int) -> None:
    import uvicorn

    uvicorn.run(APPS[kind](), host=HOST, port=port, loop="uvloop", http="httptools", workers=1, access_log=False, log_level="warning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Served(str):
    """A running server's base URL that also names its process (whose CPU time the throughput counts)."""

    pid: int


@contextlib.contextmanager
def running(kind: str) -> Iterator[Served]:
    """Start ``kind`` under uvicorn in a subprocess on a free loopback port; yield its base URL."""
    port = free_port()
    with started([sys.executable, __file__, kind, str(port)], port) as proc:
        url = Served(f"http://{HOST}:{port}")
        url.pid = proc.pid
        yield url


@contextlib.contextmanager
def started(command: list[str], port: int, timeout: float = 60.0, cwd: Any = None) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` until the block ends, once it accepts connections on ``port``."""
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        wait_ready(proc, port, timeout, log)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def wait_ready(proc: subprocess.Popen[bytes], port: int, timeout: float, log: Any) -> None:
    # uvicorn binds only after the app's startup, so an accepted connection means "ready".
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read().decode(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} not ready after {timeout}s")


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
