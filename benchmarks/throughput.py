"""Measurement 1: non-stream chat completions per second, mock vs bare Starlette, same server and load."""

from __future__ import annotations

import httpx

import loadgen
from common import CHAT_BYTES, CHAT_PATH, HEADERS, cpu_seconds


def check(base_url: str) -> int:
    """One request first: a server answering 4xx would otherwise 'win' the benchmark."""
    response = httpx.post(base_url + CHAT_PATH, content=CHAT_BYTES, headers=HEADERS, timeout=10)
    response.raise_for_status()
    return len(response.content)


def measure(urls: dict[str, str], tool: str, seconds: float, warmup: float, rounds: int, threads: int, connections: int) -> dict:
    sizes = {name: check(url) for name, url in urls.items()}
    runs: dict[str, list[dict]] = {name: [] for name in urls}
    # ABBA order (baseline, mock, mock, baseline, ...) so slow drift of the machine hits both alike.
    order = []
    for r in range(rounds):
        order += ["baseline", "mock"] if r % 2 == 0 else ["mock", "baseline"]
    for name in order:
        url = urls[name] + CHAT_PATH
        # Warm-up, discarded: opens the connections and lets the server's first-request costs pass.
        loadgen.run(tool, url, CHAT_BYTES, warmup, threads, connections)
        pid = getattr(urls[name], "pid", None)
        before = cpu_seconds(pid) if pid else None
        run = loadgen.run(tool, url, CHAT_BYTES, seconds, threads, connections).as_dict()
        after = cpu_seconds(pid) if pid else None
        run["server_cpu_s"] = round(after - before, 3) if before is not None and after is not None else None
        runs[name].append(run)
    rps = {name: sum(r["rps"] for r in rs) / len(rs) for name, rs in runs.items()}
    # CPU time per answer: what a request costs the server, whatever share of the CPUs it got.
    cpu_us = {name: _cpu_us_per_request(rs) for name, rs in runs.items()}
    return {
        "load": loadgen.describe(tool, threads, connections),
        "seconds": seconds,
        "warmup_seconds": warmup,
        "response_bytes": sizes,
        "baseline_rps": round(rps["baseline"], 1),
        "mock_rps": round(rps["mock"], 1),
        "ratio": round(rps["mock"] / rps["baseline"], 3),
        "server_cpu_us_per_request": cpu_us,
        "cpu_ratio": round(cpu_us["baseline"] / cpu_us["mock"], 3) if cpu_us["baseline"] and cpu_us["mock"] else None,
        "errors": {name: sum(r["errors"] for r in rs) for name, rs in runs.items()},
        "runs": runs,
    }


def _cpu_us_per_request(runs: list[dict]) -> float | None:
    if any(r["server_cpu_s"] is None for r in runs):
        return None
    answered = sum(r["requests"] for r in runs)
    return round(sum(r["server_cpu_s"] for r in runs) / answered * 1e6, 1) if answered else None
