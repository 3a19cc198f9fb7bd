"""Measurement 4: RSS of one MockApp after 10k, 50k and 100k requests, driven in-process.

The ASGI app is called directly with a minimal scope/receive/send on one event loop: no sockets, so
the numbers are the mock's own memory. Every request has a different user message, so a cache keyed
on request content would grow here instead of hiding behind identical requests. Runs in its own
process so nothing else the benchmark imported sits in the RSS. Prints one JSON line.
"""

from __future__ import annotations

import gc
import json
import sys
import time

from common import CHAT_PATH, Deadline, asgi_request, rss_bytes, run_loop

from mockserver.app import MockApp
from mockserver.config import Settings
from mockserver.store import DEFAULT_NAMESPACE, run_sync

CHECKPOINTS = (10_000, 50_000, 100_000)
WARMUP = 1_000


def _mib(n: int) -> float:
    return round(n / 2**20, 2)


async def _drive(total: int, budget_s: float) -> dict:
    app = MockApp(settings=Settings())  # journal_size defaults to 1000
    for i in range(WARMUP):
        await asgi_request(app, CHAT_PATH, _body(-i))
    gc.collect()
    start_rss = rss_bytes()
    samples = []
    failures = 0
    started = time.perf_counter()
    deadline = Deadline(budget_s)
    done = 0
    for checkpoint in CHECKPOINTS:
        if checkpoint > total:
            break
        while done < checkpoint and not deadline.passed:
            done += 1
            failures += await asgi_request(app, CHAT_PATH, _body(done)) != 200
        gc.collect()  # measure what is kept, not garbage waiting for the next collection
        samples.append({"requests": done, "rss_mib": _mib(rss_bytes()), "journal_len": len(run_sync(app.state.store.journal(DEFAULT_NAMESPACE)))})
        if deadline.passed:
            break
    elapsed = time.perf_counter() - started
    return {
        "requests": done,
        "seconds": round(elapsed, 1),
        "us_per_request": round(elapsed / max(done, 1) * 1e6, 1),
        "non_200": failures,
        "start_rss_mib": _mib(start_rss),
        "samples": samples,
        "growth_first_to_last_mib": round(samples[-1]["rss_mib"] - samples[0]["rss_mib"], 2),
        "growth_from_start_mib": round(samples[-1]["rss_mib"] - _mib(start_rss), 2),
        "journal_size": app.state.settings.journal_size,
        "completed": done == total,
    }


def _body(i: int) -> bytes:
    return json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Hello #{i}"}]}).encode()


def measure(total: int = CHECKPOINTS[-1], budget_s: float = 90.0) -> dict:
    return run_loop(_drive(total, budget_s))


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else CHECKPOINTS[-1])))
