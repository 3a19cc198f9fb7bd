"""Measurement 8: the shared-state mock. Non-stream chat completions per second from

- ``memory``: ``gptnb-mock serve`` as it starts by default (one process, in-memory store);
- ``redis``: the same with ``--store redis://`` (one process);
- ``redis x2``: ``--store redis:// --workers 2``;
- ``aimock``: the strongest Node peer, ``@copilotkit/aimock`` (one process), answering its own chat fixture,

all started here (a fresh ``redis-server`` in a temp dir; aimock installed from npm into
``build/aimock``), every uvicorn with uvloop + httptools and no access log, under the same load in a
rotating order. Whatever cannot be started is reported with the reason, not left out silently.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import loadgen
from common import CHAT_BODY, CHAT_BYTES, CHAT_PATH, HOST, ROOT
from servers import free_port, started
from throughput import check

AIMOCK = "@copilotkit/aimock@1.43.0"
AIMOCK_DIR = ROOT / "build" / "aimock"
GPTNB_MOCK = [sys.executable, "-m", "mockserver.cli", "serve", "--host", HOST, "--no-access-log", "--log-level", "warning"]
# aimock answers a fixture whose match is in the request; this one matches the benchmark's question with
# a reply about as long as the mock's, so both serialise and send similar bodies.
AIMOCK_FIXTURE = {
    "fixtures": [
        {
            "match": {"userMessage": CHAT_BODY["messages"][0]["content"]},
            "response": {
                "content": 'You said: "Hello". This is a mock reply from gpt-4o-mini. Given request and seed which makes '
                "assertions in tests simple and stable the mock answers every."
            },
        }
    ]
}


@contextlib.contextmanager
def _redis() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        command = [binary, "--port", str(port), "--bind", HOST, "--dir", directory, "--save", "", "--appendonly", "no"]
        with started(command, port):
            yield f"redis://{HOST}:{port}/0"


def _install_aimock() -> Path:
    """aimock's CLI, installed from npm once (kept in build/, which git ignores)."""
    cli = AIMOCK_DIR / "node_modules" / "@copilotkit" / "aimock" / "dist" / "cli.js"
    if cli.exists():
        return cli
    if shutil.which("npm") is None or shutil.which("node") is None:
        raise RuntimeError("node and npm are not installed")
    AIMOCK_DIR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(AIMOCK_DIR), AIMOCK], capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0 or not cli.exists():
        raise RuntimeError(f"npm install {AIMOCK} failed: {done.stderr.strip()[-500:]}")
    return cli


@contextlib.contextmanager
def _aimock() -> Iterator[str]:
    cli = _install_aimock()
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        fixture = Path(directory) / "chat.json"
        fixture.write_text(json.dumps(AIMOCK_FIXTURE))
        with started(["node", str(cli), "-p", str(port), "-h", HOST, "-f", str(fixture), "--log-level", "silent"], port):
            yield f"http://{HOST}:{port}"


@contextlib.contextmanager
def _gptnb_mock(*flags: str) -> Iterator[str]:
    port = free_port()
    with started([*GPTNB_MOCK, "--port", str(port), *flags], port, cwd=ROOT):
        yield f"http://{HOST}:{port}"


def measure(tool: str, seconds: float, warmup: float, rounds: int, threads: int, connections: int) -> dict:
    missing: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        urls = {"memory": stack.enter_context(_gptnb_mock())}
        try:
            redis_url = stack.enter_context(_redis())
            urls["redis"] = stack.enter_context(_gptnb_mock("--store", redis_url))
            urls["redis x2"] = stack.enter_context(_gptnb_mock("--store", redis_url, "--workers", "2"))
        except RuntimeError as exc:
            missing["redis"] = missing["redis x2"] = str(exc)
        try:
            urls["aimock"] = stack.enter_context(_aimock())
        except RuntimeError as exc:
            missing["aimock"] = str(exc)
        sizes = {name: check(url) for name, url in urls.items()}
        runs: dict[str, list[float]] = {name: [] for name in urls}
        names = list(urls)
        for r in range(rounds):
            for name in names if r % 2 == 0 else reversed(names):  # drift of the machine hits all alike
                loadgen.run(tool, urls[name] + CHAT_PATH, CHAT_BYTES, warmup, threads, connections)
                runs[name].append(loadgen.run(tool, urls[name] + CHAT_PATH, CHAT_BYTES, seconds, threads, connections).rps)
    best = {name: max(values) for name, values in runs.items()}

    def ratio(a: str, b: str) -> float | None:
        return round(best[a] / best[b], 3) if a in best and b in best else None

    return {
        "load": loadgen.describe(tool, threads, connections),
        "rps_best_round": {name: round(v, 1) for name, v in best.items()},
        "rps_rounds": runs,
        "response_bytes": sizes,
        "redis_vs_memory": ratio("redis", "memory"),
        "redis_x2_vs_aimock": ratio("redis x2", "aimock"),
        "memory_vs_aimock": ratio("memory", "aimock"),
        "not_measured": missing,
    }


def rows(result: dict, redis_target: float, peer_target: float) -> list[tuple[str, ...]]:
    """Measurement 8's lines of run.py's table."""
    rps, missing = result["rps_best_round"], result["not_measured"]

    def shown(name: str) -> str:
        return f"{rps[name]:,.0f}" if name in rps else "not run"

    def verdict(value: float | None, target: float) -> str:
        return "not measured" if value is None else f"target >= {target} ({'ok' if value >= target else 'BELOW TARGET'})"

    found = [
        ("8", "chat req/s, Redis store, 1 process", shown("redis"), shown("memory"), _ratio(result["redis_vs_memory"]),
         f"baseline: in-memory store; {verdict(result['redis_vs_memory'], redis_target)}"),
        ("", "  Redis store, --workers 2", shown("redis x2"), shown("aimock"), _ratio(result["redis_x2_vs_aimock"]),
         f"baseline: {AIMOCK} (Node, 1 process, own fixture); {verdict(result['redis_x2_vs_aimock'], peer_target)}"),
        ("", "  in-memory, 1 process", shown("memory"), shown("aimock"), _ratio(result["memory_vs_aimock"]), f"best of {len(next(iter(result['rps_rounds'].values())))} rounds each"),
    ]
    found += [("", f"  not run: {name}", "", "", "", reason[:120]) for name, reason in missing.items()]
    return found


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    # Only this measurement: python benchmarks/scale.py [seconds] [rounds]
    seconds, rounds = (float(sys.argv[1]) if len(sys.argv) > 1 else 10.0), (int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    tool = "wrk" if loadgen.has_wrk() else "python"
    found = measure(tool, seconds, 2.0, rounds, 2, 64)
    for row in rows(found, 0.8, 1.2):
        print("  ".join(row))
    print(json.dumps(found))
