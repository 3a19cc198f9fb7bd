"""Measurement 2: time from sending a 500-delta streaming request to reading ``data: [DONE]``, over a socket.

One request at a time on a keep-alive httpx connection, so this is latency of a whole stream (server
generation + SSE framing + one socket write per event), not throughput under concurrency.
"""

from __future__ import annotations

import json
import time

import httpx

from common import HEADERS, STREAM_BODY, STREAM_CHOICES, STREAM_PATH, STREAM_TOKENS, Deadline, median

PATHS = {"mock": STREAM_PATH, "baseline": "/stream"}
DONE = b"data: [DONE]"


def _inspect(client: httpx.Client, url: str) -> dict[str, int]:
    """An untimed run that parses every event: proves the stream really has the deltas we claim."""
    events = deltas = 0
    with client.stream("POST", url, json=STREAM_BODY, headers=HEADERS) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: {"):
                events += 1
                deltas += sum(1 for c in json.loads(line[6:])["choices"] if c["delta"].get("content"))
    return {"events": events, "content_deltas": deltas}


def _timed(client: httpx.Client, url: str) -> float:
    # Raw bytes, not iter_lines(): line splitting in Python costs about as much as the server's work,
    # and the client should stay the cheaper side of the measurement.
    start = time.perf_counter()
    elapsed = None
    tail = b""
    with client.stream("POST", url, json=STREAM_BODY, headers=HEADERS) as response:
        for chunk in response.iter_raw():
            if elapsed is None and DONE in tail + chunk:  # the marker may straddle two reads
                elapsed = time.perf_counter() - start
            tail = chunk[-len(DONE) :]
        # The loop reads on to the end of the body so the connection is reused by the next run.
    if elapsed is None:
        raise RuntimeError(f"{url}: the stream ended without data: [DONE]")
    return elapsed


def measure(urls: dict[str, str], runs: int, warmup: int = 3, budget_s: float = 40.0) -> dict:
    expected = STREAM_CHOICES * STREAM_TOKENS
    with httpx.Client(timeout=30) as client:
        shape = {name: _inspect(client, urls[name] + PATHS[name]) for name in urls}
        if shape["mock"]["content_deltas"] < expected:
            raise RuntimeError(f"the mock streamed {shape['mock']['content_deltas']} content deltas, expected {expected}")
        times: dict[str, list[float]] = {name: [] for name in urls}
        deadline = Deadline(budget_s)
        for i in range(warmup + runs):  # alternate the two servers run by run, so drift hits both
            if deadline.passed:
                break
            for name in ("baseline", "mock"):
                elapsed = _timed(client, urls[name] + PATHS[name])
                if i >= warmup:
                    times[name].append(elapsed)
    result: dict = {"runs": len(times["mock"]), "shape": shape}
    for name in urls:
        t = median(times[name])
        result[name] = {"median_ms": round(t * 1000, 2), "min_ms": round(min(times[name]) * 1000, 2),
                        "events_per_s": round(shape[name]["events"] / t, 1)}
    # chunks/s ratio == inverse time ratio; both streams carry the same number of events.
    result["ratio"] = round(result["mock"]["events_per_s"] / result["baseline"]["events_per_s"], 3)
    return result
