"""Closed-loop HTTP load against 127.0.0.1: wrk when installed, else a multi-process Python generator.

Both keep a fixed number of keep-alive connections busy for a fixed time and count completed
responses. wrk is preferred: it is C and leaves more of the 2 cores to the server under test. The
Python fallback competes harder for CPU, which lowers absolute req/s; the ratio is still fair because
the baseline and the mock get the very same generator.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from common import AUTH, HOST


@dataclass
class LoadResult:
    tool: str
    requests: int  # completed responses with a 2xx status
    seconds: float
    errors: int  # socket errors, timeouts and non-2xx responses
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "rps": round(self.rps, 1)}


def has_wrk() -> bool:
    return shutil.which("wrk") is not None


def describe(tool: str, threads: int, connections: int) -> str:
    if tool == "wrk":
        return f"wrk -t{threads} -c{connections}"
    return f"python asyncio raw sockets, {threads} processes x {connections // threads} connections"


def run(tool: str, url: str, body: bytes, seconds: float, threads: int, connections: int) -> LoadResult:
    if tool == "wrk":
        return _wrk(url, body, seconds, threads, connections)
    return _python(url, body, seconds, threads, connections)


# --- wrk ----------------------------------------------------------------------------------------

# done() prints one machine-readable line; wrk's own text summary is harder to parse reliably.
_LUA = """
wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "{auth}"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT %d %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def _wrk(url: str, body: bytes, seconds: float, threads: int, connections: int) -> LoadResult:
    assert urlsplit(url).hostname == HOST, "load only ever targets loopback"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_LUA.format(body=body.decode(), auth=AUTH))
    try:
        cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s", "-s", script.name, url]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    finally:
        Path(script.name).unlink()
    match = re.search(r"WRK_RESULT ((?:\d+ ?){9})", out)
    if not match:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    total, duration_us, connect, read, write, status, timeout, p50, p99 = map(int, match.group(1).split())
    # summary.requests counts non-2xx responses too; they are not throughput.
    return LoadResult("wrk", total - status, duration_us / 1e6, connect + read + write + status + timeout, p50 / 1000, p99 / 1000)


# --- Python fallback ------------------------------------------------------------------------------


def _python(url: str, body: bytes, seconds: float, processes: int, connections: int) -> LoadResult:
    parts = urlsplit(url)
    assert parts.hostname == HOST, "load only ever targets loopback"
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Authorization: {AUTH}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    per_process = max(1, connections // processes)
    # fork: the children need nothing but these arguments, and fork starts them fastest.
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.starmap(_worker, [(parts.port, request, per_process, seconds)] * processes)
    ok = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    elapsed = max(r[2] for r in results)
    return LoadResult("python", ok, elapsed, errors)


def _worker(port: int, request: bytes, connections: int, seconds: float) -> tuple[int, int, float]:
    try:
        import uvloop  # the generator should be as cheap as it can be: it shares the 2 cores with the server

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(_drive(port, request, connections, seconds))


async def _drive(port: int, request: bytes, connections: int, seconds: float) -> tuple[int, int, float]:
    counts = [0, 0]  # ok, errors
    start = time.perf_counter()
    end = start + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while time.perf_counter() < end:  # bounded by time; each iteration is one request
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                if length is None:
                    raise RuntimeError("response without content-length")
                await reader.readexactly(int(length.group(1)))
                counts[0 if 200 <= status < 300 else 1] += 1
        except (OSError, asyncio.IncompleteReadError, RuntimeError):
            counts[1] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return counts[0], counts[1], time.perf_counter() - start


if __name__ == "__main__":  # a quick manual check: python benchmarks/loadgen.py URL [wrk|python]
    import sys

    from common import CHAT_BYTES

    print(json.dumps(run(sys.argv[2] if len(sys.argv) > 2 else "python", sys.argv[1], CHAT_BYTES, 3, 2, 64).as_dict()))
