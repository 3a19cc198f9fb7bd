"""Where a non-stream chat request spends its time inside the mock (diagnostics, not a measurement).

Calls the ASGI apps in-process, so server and socket costs (the same for both) drop out:
first µs/request of the mock vs the bare Starlette baseline without a profiler, then a cProfile of
the mock alone. run.py runs this when the throughput ratio misses its target, or with --profile.
Prints one JSON line.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import time
from pathlib import Path

from common import CHAT_BYTES, CHAT_PATH, ROOT, Deadline, asgi_request, run_loop
from servers import baseline_app, mock_app


async def _loop(app: object, n: int, budget_s: float) -> float:
    for _ in range(200):  # warm-up: first calls compile regexes, fill caches
        await asgi_request(app, CHAT_PATH, CHAT_BYTES)
    deadline = Deadline(budget_s)
    start = time.perf_counter()
    done = 0
    while done < n and not deadline.passed:
        status = await asgi_request(app, CHAT_PATH, CHAT_BYTES)
        if status != 200:
            raise RuntimeError(f"in-process request answered {status}")
        done += 1
    return (time.perf_counter() - start) / done * 1e6


def _where(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    path = Path(filename)
    if path.is_absolute():
        try:
            filename = str(path.relative_to(ROOT))
        except ValueError:
            filename = "/".join(path.parts[-2:])  # site-packages/...: the package and file say enough
    return f"{filename}:{line}({name})" if line else name


def measure(n: int = 3000, top: int = 15, budget_s: float = 20.0) -> dict:
    mock, baseline = mock_app(), baseline_app()
    mock_us = run_loop(_loop(mock, n, budget_s))
    baseline_us = run_loop(_loop(baseline, n, budget_s))

    profiler = cProfile.Profile()
    profiler.enable()
    run_loop(_loop(mock_app(), n, budget_s))
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # {func: (primitive calls, calls, tottime, cumtime, callers)}
    total = sum(row[2] for row in stats.values())
    rows = [
        {"function": _where(func), "calls": calls, "tottime_pct": round(tt / total * 100, 1), "cumtime_pct": round(ct / total * 100, 1)}
        for func, (_, calls, tt, ct, _) in stats.items()
    ]
    by_self = sorted(rows, key=lambda r: -r["tottime_pct"])[:top]
    # The mock's own functions by inclusive time show which pipeline step is expensive.
    own = [r for r in rows if r["function"].startswith(("mockserver/", "pytest_plugin/"))]
    by_step = sorted(own, key=lambda r: -r["cumtime_pct"])[:top]
    return {
        "in_process_us_per_request": {"mock": round(mock_us, 1), "baseline": round(baseline_us, 1)},
        "in_process_ratio": round(baseline_us / mock_us, 3),
        "top_self_time": by_self,
        "top_mock_inclusive": by_step,
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)))
