"""Measurement 5: 10,000 Midjourney tasks submitted and polled; latency per block and memory.

Submit and fetch latency must stay flat as the task store fills (lookups are by id; counting running
tasks only looks at unfinished ones), and memory must level off once the store reaches its bound
(Settings.max_tasks; the oldest finished tasks go first). The ASGI app is called in-process under
the manual clock, advanced so tasks finish, on one event loop. Prints one JSON line.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from typing import Any

from common import Deadline, asgi_call, median, rss_bytes, run_loop

from mockserver.app import MockApp
from mockserver.config import Settings
from mockserver.state import MockState
from mockserver.store import DEFAULT_NAMESPACE

BLOCK = 1_000


async def _drive(total: int, budget_s: float) -> dict[str, Any]:
    # Concurrency high enough that no task is queued: the store, not the queue, is what is measured.
    settings = Settings(max_tasks=5_000, task_concurrency=1_000_000, task_queue_size=1_000_000, clock="manual")
    app = MockApp(state=MockState(settings))
    blocks = []
    deadline = Deadline(budget_s)
    done = 0
    start_rss = rss_bytes()
    while done < total and not deadline.passed:
        submit_us, fetch_us = [], []
        for _ in range(BLOCK):
            body = json.dumps({"prompt": f"a lighthouse number {done}"}).encode()
            t = time.perf_counter()
            status, answer = await asgi_call(app, "POST", "/mj/submit/imagine", body, keep_body=True)
            submit_us.append((time.perf_counter() - t) * 1e6)
            task_id = json.loads(answer)["result"]
            t = time.perf_counter()
            status, _ = await asgi_call(app, "GET", f"/mj/task/{task_id}/fetch")
            fetch_us.append((time.perf_counter() - t) * 1e6)
            if status != 200:
                raise RuntimeError(f"fetch answered {status}")
            done += 1
        await app.state.store.advance_clock(DEFAULT_NAMESPACE, 60)  # this block's tasks finish, so the store may evict them later
        gc.collect()
        blocks.append({"tasks": done, "stored": len(await app.state.store.tasks(DEFAULT_NAMESPACE)), "submit_median_us": round(median(submit_us), 1),
                       "fetch_median_us": round(median(fetch_us), 1), "rss_mib": round(rss_bytes() / 2**20, 2)})
    first, last = blocks[0], blocks[-1]
    return {
        "tasks": done,
        "max_tasks": settings.max_tasks,
        "start_rss_mib": round(start_rss / 2**20, 2),
        "blocks": blocks,
        "submit_ratio_last_to_first": round(last["submit_median_us"] / first["submit_median_us"], 2),
        "fetch_ratio_last_to_first": round(last["fetch_median_us"] / first["fetch_median_us"], 2),
    }


def main() -> int:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print(json.dumps(run_loop(_drive(total, budget_s=120.0))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
