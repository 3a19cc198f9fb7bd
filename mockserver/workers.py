"""Where CPU-heavy work runs, off the event loop: decoding huge JSON bodies, making media files.

A served mock hands it to worker processes: orjson, the regex scans and most of the picture code
hold the GIL, so a thread would still hold up every other client. In-process use (the fixtures)
has threads instead: no process to start, and its one client is the test itself.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

WORKERS = 2
"""Jobs run at once; more wait their turn (a 4096x4096 picture holds ~120 MB while it is made)."""

PARENT_CHECK_SECONDS = 1.0
"""How often a worker process looks whether the server that started it is still there."""

_pools: dict[bool, Executor] = {}
_pools_lock = threading.Lock()


def pool(processes: bool) -> Executor:
    """The process-wide pool of each kind, started on first use (its jobs depend only on their arguments)."""
    with _pools_lock:
        if processes not in _pools:
            _pools[processes] = _start(processes)
        return _pools[processes]


def shut_down() -> None:
    """Stop the worker processes, if this process started them. A served mock's shutdown calls it:
    uvicorn ends by raising SIGTERM again once it has shut down, which skips the interpreter's exit
    hooks that would otherwise stop them, and they would outlive the server. (Threads end with the
    process anyway.)"""
    with _pools_lock:
        started = _pools.pop(True, None)
    if started is not None:
        started.shutdown(wait=True, cancel_futures=True)


def _start(processes: bool) -> Executor:
    if processes:
        # spawn, not fork: the server has threads (callbacks, media) that a fork would copy mid-work.
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(WORKERS, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),))
    return ThreadPoolExecutor(WORKERS, thread_name_prefix="gptnb-worker")


def _start_worker(server: int) -> None:
    # Niced: on a busy machine the server's own loop (health, small calls) goes first.
    os.nice(10)
    threading.Thread(target=_exit_when_orphaned, args=(server,), name="gptnb-server-watch", daemon=True).start()


def _exit_when_orphaned(server: int) -> None:
    """A server killed outright (SIGKILL, the OOM killer) runs no shutdown, and an idle worker waits on
    its job queue for ever (it holds that queue's write end itself): it leaves when it is orphaned."""
    while os.getppid() == server:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)
