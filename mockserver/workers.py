"""Where CPU-heavy work runs, off the event loop: decoding huge JSON bodies, making media files.

A served mock hands it to worker processes: orjson, the regex scans and most of the picture code
hold the GIL, so a thread would still hold up every other client. In-process use (the fixtures)
has threads instead: no process to start, and its one client is the test itself.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

WORKERS = 2
"""Jobs run at once; more wait their turn (a 4096x4096 picture holds ~120 MB while it is made)."""


@functools.cache
def pool(processes: bool) -> Executor:
    """The process-wide pool of each kind (its jobs depend only on their arguments)."""
    if processes:
        # spawn, not fork: the server has threads (callbacks, media) that a fork would copy mid-work.
        return ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn"), initializer=_yield_cpu)
    return ThreadPoolExecutor(WORKERS, thread_name_prefix="gptnb-worker")


def _yield_cpu() -> None:
    """Workers run niced: on a busy machine the server's own loop (health, small calls) goes first."""
    os.nice(10)
