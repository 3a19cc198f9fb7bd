"""Callbacks: POST a task's state to the URL its request named, on every change, in order.

A task that asks for callbacks carries its ``CallbackPlan``, and its ``Rendering`` says how to render a
body, so any worker can deliver them. Each process runs one dispatcher on a background thread with its
own event loop: it claims due tasks from the store (a claim is a lease: one worker at a time per
task), delivers every step not delivered yet, notes each delivery in the store, and hands the task
back with the wall time to look again (the next step under the real clock; a nudge under the manual
and step clocks). So each
state change is delivered once, by one worker, in order, and a restart picks up where it stopped.
Deliveries are retried with back-off, go only to hosts the operator allows, and each attempt is
journalled in the task's namespace with when the next one follows.

All deliveries of a process share one HTTP client and at most ``callback_concurrency`` are in flight,
so a thousand tasks with callbacks cost a thousand small coroutines, not a thousand connection pools.
The mock never calls itself back (a ``notifyHook`` of ``http://127.0.0.1:PORT/__mock/reset`` would
wipe its state), and a failed delivery is journalled as "no HTTP answer" whatever the cause, so the
journal does not tell a closed loopback port from a silent one.

A task's callbacks can be steered to fail or come late (``faults/callback_faults.py``, kept in its
``CallbackPlan``): a ``refused`` attempt never leaves the mock, a ``timeout`` or an error status reaches
the receiver but counts as failed, so the receiver sees the retries.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

import httpx

from .clock import REAL
from .compaction import compact
from .faults.callback_faults import REFUSED, TIMEOUT, CallbackFault
from .journal import JournalEntry
from .store import Claim, StoreUnavailable
from .tasks import Task, TaskView
from .validation import SchemaCheck

if TYPE_CHECKING:
    from .state import MockState, NamespaceState

log = logging.getLogger("gptnb_mock")
IDLE_WAKE = 0.05  # other workers' nudges and real-clock steps are noticed this often
CLAIMS_PER_LOOK = 32
DELIVERY_TIMEOUT = 5.0
STORE_RETRY = 1.0  # seconds between looks while the store is unreachable


class CallbackDispatcher:
    def __init__(self, state: MockState) -> None:
        self.state = state
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._lock = threading.Lock()
        self._stopped = False
        self._slots = asyncio.Semaphore()  # made again in the dispatcher's loop, callback_concurrency wide
        self.own_ports: set[int] = set()
        """Ports this mock serves on (the app notes them as requests arrive)."""
        state.store.on_nudge.append(self.wake)

    def refusal(self, url: str) -> str | None:
        """Why ``url`` gets no callbacks, or None."""
        host = _host(url)
        if not host:
            return "not a valid http(s) URL"
        if host not in self.state.settings.callback_allow:
            return f"host {host} is not allowed (gptnb-mock serve --callback-allow {host})"
        parts = urlsplit(url)
        if parts.path.startswith("/__mock") or (_local(host) and _port(parts) in self.own_ports):
            return "the mock itself is not a callback receiver"
        return None

    async def refuse(self, space: NamespaceState, task_id: str, url: str, reason: str) -> None:
        """Journal why the task's callbacks to ``url`` will not be made."""
        await self._record(space.namespace, task_id, url, None, 0, f"refused: {reason}", [])

    def start(self) -> None:
        """Run the dispatcher (idempotent); it also starts by itself when a callback becomes due here."""
        with self._lock:
            if self._loop is not None or self._stopped:
                return
            loop = self._loop = asyncio.new_event_loop()
            ready = threading.Event()
            threading.Thread(target=self._serve, args=(loop, ready), name="gptnb-callbacks", daemon=True).start()
        ready.wait()

    def wake(self) -> None:
        """Look at due callbacks now (thread-safe)."""
        if self._loop is None and not self._stopped:
            self.start()
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    def stop(self) -> None:
        """For good: a stopped dispatcher does not start again (the app is going away)."""
        with self._lock:
            loop, self._loop, self._stopped = self._loop, None, True
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)

    def _serve(self, loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        self._wake = asyncio.Event()
        runner = loop.create_task(self._run())
        ready.set()
        try:
            loop.run_forever()
        finally:
            # Every task of the loop ends before it closes (deliveries, and the store's own round trips):
            # one left pending would be torn down later by the garbage collector, outside any loop.
            pending = {runner, *asyncio.all_tasks(loop)}
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(self.state.store.close())
            loop.close()

    async def _run(self) -> None:
        store, wake = self.state.store, self._wake
        assert wake is not None
        following: set[asyncio.Task[None]] = set()
        size = self.state.settings.callback_concurrency
        self._slots = asyncio.Semaphore(size)
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT, limits=limits) as client:
            while True:
                wake.clear()
                try:
                    claims = await store.claim_callbacks(time.time(), CLAIMS_PER_LOOK)
                except StoreUnavailable as exc:
                    log.warning("callbacks wait for the store: %s", exc)
                    await asyncio.sleep(STORE_RETRY)
                    continue
                for claim in claims:
                    follower = asyncio.create_task(self._follow(client, claim))
                    following.add(follower)
                    follower.add_done_callback(following.discard)
                if len(claims) < CLAIMS_PER_LOOK:
                    try:
                        await asyncio.wait_for(wake.wait(), IDLE_WAKE)
                    except asyncio.TimeoutError:
                        pass

    async def _follow(self, client: httpx.AsyncClient, claim: Claim) -> None:
        try:
            space = await self.state.enter(claim.namespace)
            task = await space.tasks.get(claim.task_id)
            plan = task.callback if task is not None else None
            if task is None or plan is None or task.render is None or not task.callback_url:
                await self.state.store.release(claim, None)
                return
            view = space.tasks.view(task)
            if plan.only_final:  # families whose webhook fires once, when the task ends
                pending: range | list[int] = [view.index] if view.terminal and claim.delivered < view.index else []
            else:
                pending = range(claim.delivered + 1, view.index + 1)
            check = self.state.registry.check(self.state.registry[plan.contract].pointer("callback", "body")) if self.state.settings.strict and plan.contract else None
            for index in pending:
                entered = view.entered(index) or view.now
                body = task.render(TaskView(task, index, entered, entered))
                if not await self._deliver(client, claim, task.callback_url, body, check, plan.fault):
                    return  # the task is gone (a reset): its callbacks with it
                await self.state.store.delivered(claim, index)
            await self.state.store.release(claim, None if view.terminal else _next_look(space, task, view))
        except StoreUnavailable as exc:  # the lease runs out and the task is claimed again later
            log.warning("callbacks of task %s wait for the store: %s", claim.task_id, exc)
        except Exception:
            log.exception("gptnb-mock failed to deliver the callbacks of task %s", claim.task_id)

    async def _deliver(self, client: httpx.AsyncClient, claim: Claim, url: str, body: Any, check: SchemaCheck | None, fault: CallbackFault | None) -> bool:
        """POST ``body`` with retries; False when the task was dropped meanwhile (nothing more to do)."""
        violations = [f"callback body {v}" for v in check.violations(body)] if check is not None else []
        if fault is not None and fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        delay = 0.1
        attempts = self.state.settings.callback_retries + 1
        for attempt in range(attempts):
            if attempt and await self.state.store.task(claim.namespace, claim.task_id) is None:
                return False  # reset since: its retries are forgotten too
            status, outcome = await self._attempt(client, url, body, fault if fault is not None and fault.fails(attempt) else None)
            retried = (status == 0 or status >= 500 or status == 429) and attempt + 1 < attempts
            schedule = f"; next attempt in {delay:g} s" if retried else ("" if status and status < 300 else "; given up")
            await self._record(claim.namespace, claim.task_id, url, body, status, f"attempt {attempt + 1}: {outcome}{schedule}", violations)
            if not retried:
                return True
            violations = []  # reported once per body
            await asyncio.sleep(delay)
            delay *= 2
        return True

    async def _attempt(self, client: httpx.AsyncClient, url: str, body: Any, fault: CallbackFault | None) -> tuple[int, str]:
        """One POST over the shared client: its status (0 without an answer) and what the journal says of it."""
        if fault is not None and fault.fail == REFUSED:
            return 0, f"connection refused ({fault.describe()})"
        try:
            async with self._slots:
                response = await client.post(url, json=body)
                await response.aclose()
        except httpx.HTTPError:
            return 0, "no HTTP answer"
        if fault is None:
            return response.status_code, f"HTTP {response.status_code}"
        if fault.fail == TIMEOUT:  # it arrived, but its answer counts as too late
            return 0, f"timed out (the receiver answered {response.status_code}, counted as too late: {fault.describe()})"
        status = fault.status() or 0
        return status, f"HTTP {status} (the receiver answered {response.status_code}, replaced: {fault.describe()})"

    async def _record(self, namespace: str, task_id: str, url: str, body: Any, status: int, outcome: str, violations: list[str]) -> None:
        delivered = 0 < status < 500 and status != 429
        self.state.metrics.callback("refused" if outcome.startswith("refused") else "delivered" if delivered else "failed")
        kept = compact(body, self.state.settings.journal_entry_bytes)
        entry = JournalEntry(0, time.time(), "POST", url, None, {}, kept, status, outcome, violations, kind="callback", task_id=task_id)
        await self.state.store.record(namespace, entry)


def _next_look(space: NamespaceState, task: Task, view: TaskView) -> float:
    """Wall time at which the task's next step begins; math.inf when only a nudge can move it."""
    clock = space.clock
    if clock.mode != REAL or len(task.entered) > 1:
        return math.inf
    due = clock.wall_time_of(task.created_at + task.steps[view.index + 1].at)
    return due if due is not None else math.inf


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
