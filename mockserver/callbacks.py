"""Callbacks: POST a task's state to the URL its request named, on every change, in order.

One background thread with its own event loop watches the tasks that asked for callbacks. A watcher
wakes when the task's next step is due (real clock) or when something moved it (manual / step clock,
operator), delivers each step it has not delivered yet, and stops when the task ends. Deliveries are
retried with back-off, go only to hosts the operator allows, and each attempt is journalled.

All deliveries share one HTTP client and at most ``callback_concurrency`` are in flight, so a
thousand tasks with callbacks cost a thousand small coroutines, not a thousand connection pools.
The mock never calls itself back (a ``notifyHook`` of ``http://127.0.0.1:PORT/__mock/reset`` would
wipe its state), and a failed delivery is journalled as "no HTTP answer" whatever the cause, so the
journal does not tell a closed loopback port from a silent one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx

from .clock import REAL
from .compaction import compact
from .config import Settings
from .journal import Journal
from .metrics import Metrics
from .tasks import Task, TaskEngine, TaskView
from .validation import SchemaCheck

Render = Callable[[TaskView], Any]
IDLE_WAKE = 0.05  # manual and step clocks move on request; look that often for a move
DELIVERY_TIMEOUT = 5.0


class CallbackDispatcher:
    def __init__(self, engine: TaskEngine, journal: Journal, settings: Settings) -> None:
        self.engine = engine
        self.journal = journal
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self._lock = threading.Lock()
        self._generation = 0  # bumped by reset: watchers of an older generation stop
        self.own_ports: set[int] = set()
        """Ports this mock serves on (the app notes them as requests arrive)."""
        self.metrics: Metrics | None = None

    def refusal(self, url: str) -> str | None:
        """Why ``url`` gets no callbacks, or None."""
        host = _host(url)
        if not host:
            return "not a valid http(s) URL"
        if host not in self.settings.callback_allow:
            return f"host {host} is not allowed (gptnb-mock serve --callback-allow {host})"
        parts = urlsplit(url)
        if parts.path.startswith("/__mock") or (_local(host) and _port(parts) in self.own_ports):
            return "the mock itself is not a callback receiver"
        return None

    def watch(self, task: Task, render: Render, check: SchemaCheck | None = None, *, only_final: bool = False) -> None:
        """Deliver ``render(view)`` for every step ``task`` reaches (or only its last), to ``task.callback_url``."""
        url = task.callback_url
        if not url:
            return
        reason = self.refusal(url)
        if reason is not None:
            self._record(url, None, 0, f"refused: {reason}", [])
            return
        asyncio.run_coroutine_threadsafe(self._follow(task, render, check, self._generation, only_final), self._background_loop())

    def reset(self) -> None:
        self._generation += 1

    async def _follow(self, task: Task, render: Render, check: SchemaCheck | None, generation: int, only_final: bool) -> None:
        delivered = -1
        while generation == self._generation:
            view = self.engine.view(task)
            if only_final:  # families whose webhook fires once, when the task ends
                pending: range | list[int] = [view.index] if view.terminal else []
            else:
                pending = range(delivered + 1, view.index + 1)
            for index in pending:
                entered = view.entered(index) or view.now
                await self._deliver(task.callback_url or "", render(TaskView(task, index, entered, entered)), check, generation)
            delivered = view.index
            if view.terminal:
                return
            await asyncio.sleep(self._pause(view))

    def _pause(self, view: TaskView) -> float:
        clock = self.engine.clock
        if clock.mode != REAL or view.terminal:
            return IDLE_WAKE
        due = view.task.created_at + view.task.steps[view.index + 1].at - view.now
        return min(max(due / clock.speed, 0.005), 0.25)

    async def _deliver(self, url: str, body: Any, check: SchemaCheck | None, generation: int) -> None:
        violations = [f"callback body {v}" for v in check.violations(body)] if check is not None else []
        client, slots = self._shared()
        delay = 0.1
        for attempt in range(self.settings.callback_retries + 1):
            if generation != self._generation:  # reset since: its deliveries are forgotten too
                return
            try:
                async with slots:
                    response = await client.post(url, json=body)
                    await response.aclose()
                self._record(url, body, response.status_code, f"attempt {attempt + 1}: HTTP {response.status_code}", violations)
                if response.status_code < 500 and response.status_code != 429:
                    return
            except httpx.HTTPError:
                self._record(url, body, 0, f"attempt {attempt + 1}: no HTTP answer", violations)
            violations = []  # reported once per body
            await asyncio.sleep(delay)
            delay *= 2

    def _record(self, url: str, body: Any, status: int, outcome: str, violations: list[str]) -> None:
        if self.metrics is not None:
            delivered = 0 < status < 500 and status != 429
            self.metrics.callback("refused" if outcome.startswith("refused") else "delivered" if delivered else "failed")
        kept = compact(body, self.settings.journal_entry_bytes)
        entry = self.journal.record(
            {"method": "POST", "path": url, "contract_id": None, "query": {}, "body": kept, "time": time.time(), "kind": "callback"}
        )
        entry.status = status
        entry.response = outcome
        entry.violations = violations

    def _shared(self) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        """The one client and the delivery slots, made on first use inside the background loop."""
        if self._client is None or self._slots is None:
            size = self.settings.callback_concurrency
            limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
            self._client = httpx.AsyncClient(timeout=DELIVERY_TIMEOUT, limits=limits)
            self._slots = asyncio.Semaphore(size)
        return self._client, self._slots

    def _background_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="gptnb-callbacks", daemon=True).start()
                self._loop = loop
            return self._loop


def _local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None


def _host(url: str) -> str:
    """The URL's host in lower case; empty for what is not a usable http(s) URL."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[x": an unbalanced IPv6 bracket
        return ""
    return (parts.hostname or "").lower() if parts.scheme in ("http", "https") else ""

