"""What every measurement sends, in one place, so the mock and its baselines get the same requests."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOST = "127.0.0.1"  # every load loop targets loopback only

CHAT_PATH = "/v1/chat/completions"
CHAT_BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}
CHAT_BYTES = json.dumps(CHAT_BODY, separators=(",", ":")).encode()
AUTH = "Bearer sk-bench"
HEADERS = {"content-type": "application/json", "authorization": AUTH}

# The stream request: the reply quotes the (long) question, so each choice has well over 50 tokens;
# n=10 choices cut at max_tokens=50 give exactly 500 content deltas (plus a role and a finish event
# per choice and the [DONE] line). The baseline stream in servers.py has the same shape.
STREAM_CHOICES = 10
STREAM_TOKENS = 50
STREAM_BODY = {
    "model": "gpt-4o-mini",
    "stream": True,
    "n": STREAM_CHOICES,
    "max_tokens": STREAM_TOKENS,
    "messages": [
        {
            "role": "user",
            "content": "Please summarise the notes of the quarterly planning meeting, where the team discussed "
            "the roadmap, hiring, the budget for the next two quarters and the billing migration.",
        }
    ],
}
STREAM_PATH = CHAT_PATH  # the baseline serves its stream on /stream


def rss_bytes() -> int:
    """Resident set size of this process, from /proc (no psutil needed)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (Linux /proc; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class Deadline:
    """A wall-clock bound for a loop: every loop here stops at its count or its deadline, whichever comes first."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.end


def run_loop(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run on uvloop when it is installed: the loop `gptnb-mock serve` runs on."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def _scope(method: str, path: str, body: bytes) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
                    (b"authorization", AUTH.encode()), (b"content-length", str(len(body)).encode())],
        "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000),
    }


async def asgi_call(app: Any, method: str, path: str, body: bytes = b"", *, keep_body: bool = False) -> tuple[int, bytes]:
    """One request straight into an ASGI app (no socket, no server): its status and (if kept) body."""
    status = 0
    chunks: list[bytes] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif keep_body:
            chunks.append(message.get("body", b""))

    await app(_scope(method, path, body), receive, send)
    return status, b"".join(chunks)


async def asgi_request(app: Any, path: str, body: bytes) -> int:
    """One POST into an ASGI app; the status it answered."""
    return (await asgi_call(app, "POST", path, body))[0]
