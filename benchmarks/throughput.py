"""Measurement 1: non-stream chat completions per second, mock vs bare Starlette, same server and load."""

from __future__ import annotations

import httpx

import loadgen
from common import CHAT_BYTES, CHAT_PATH, HEADERS


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
        runs[name].append(loadgen.run(tool, url, CHAT_BYTES, seconds, threads, connections).as_dict())
    rps = {name: sum(r["rps"] for r in rs) / len(rs) for name, rs in runs.items()}
    return {
        "load": loadgen.describe(tool, threads, connections),
        "seconds": seconds,
        "warmup_seconds": warmup,
        "response_bytes": sizes,
        "baseline_rps": round(rps["baseline"], 1),
        "mock_rps": round(rps["mock"], 1),
        "ratio": round(rps["mock"] / rps["baseline"], 3),
        "errors": {name: sum(r["errors"] for r in rs) for name, rs in runs.items()},
        "runs": runs,
    }
