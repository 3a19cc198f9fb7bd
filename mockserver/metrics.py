"""Prometheus metrics of the whole mock, served at ``GET /__mock/metrics``.

The request path only notes what it answered, appending to a list under one lock; the notes are
counted into this process's pending counts in bulk (every ``FOLD_EVERY`` requests, and before a
flush), which costs a fraction of counting each one as it comes. The pending counts are added to the store's counters when scraped and, under a served mock, every second
(``FLUSH_INTERVAL``), so a scrape of any worker or replica shows what all of them did. Tasks and rule
hits are read from the store at that moment, so the request path pays nothing for them.
prometheus-client turns the values into metric families (a custom collector, as its docs describe for
values kept elsewhere) and writes the exposition, Prometheus text or OpenMetrics as asked.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import orjson
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from .store import StoreUnavailable

if TYPE_CHECKING:
    from .state import MockState

# Seconds: from a cached JSON answer (sub-millisecond) to a slow, paced stream.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
NO_CONTRACT = "none"
"""The contract label of requests no contract serves (404s)."""
NO_NAMESPACE = "none"
"""The namespace label of requests refused before their namespace was known (a malformed one)."""
FLUSH_INTERVAL = 1.0
"""Seconds between additions of a served mock's pending counts to the store."""
FOLD_EVERY = 512
"""Requests noted before they are counted (bounds the notes a mock that is never scraped keeps)."""

Key = tuple[str, ...]
"""A counter: its kind, then its labels (``("requests", contract, status, namespace)``)."""


class Metrics:
    def __init__(self, state: MockState) -> None:
        self.state = state
        self._lock = threading.Lock()  # callbacks are counted from their own thread
        self._pending: defaultdict[Key, float] = defaultdict(float)
        # Appended to without the lock (a deque's append and popleft are atomic); only folding takes it.
        self._answered: deque[tuple[str | None, int, str, float]] = deque()

    def request(self, contract: str | None, status: int, namespace: str, seconds: float) -> None:
        answered = self._answered
        answered.append((contract, status, namespace, seconds))
        if len(answered) >= FOLD_EVERY:
            with self._lock:
                self._fold()

    def _fold(self) -> None:
        """Count the noted requests into the pending counts (the lock held)."""
        noted = self._answered
        answered = [noted.popleft() for _ in range(len(noted))]  # what was noted by now; more may come meanwhile
        pending = self._pending
        for (contract, status, namespace), count in Counter((c, s, n) for c, s, n, _ in answered).items():
            pending[("requests", contract or NO_CONTRACT, str(status), namespace)] += count
        latencies = Counter((c, bisect.bisect_left(LATENCY_BUCKETS, seconds)) for c, _, _, seconds in answered)
        for (contract, bucket), count in latencies.items():
            pending[("latency", contract or NO_CONTRACT, str(bucket))] += count
        for contract, _, _, seconds in answered:
            pending[("latency_sum", contract or NO_CONTRACT)] += seconds

    def stream(self, contract: str, events: int) -> None:
        with self._lock:
            self._pending[("streams", contract)] += 1
            self._pending[("stream_events", contract)] += events

    def callback(self, outcome: str) -> None:
        with self._lock:
            self._pending[("callbacks", outcome)] += 1

    async def flush(self) -> None:
        """Add the pending counts to the store's (kept for the next try when it is unavailable)."""
        with self._lock:
            self._fold()
            pending, self._pending = self._pending, defaultdict(float)
        if not pending:
            return
        try:
            await self.state.store.add_metrics({orjson.dumps(key).decode(): value for key, value in pending.items()})
        except StoreUnavailable:
            with self._lock:
                for key, value in pending.items():
                    self._pending[key] += value
            raise

    async def flush_every(self, interval: float = FLUSH_INTERVAL) -> None:
        """Flush until cancelled (a served mock, whose scrapes may reach another worker)."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.flush()
            except StoreUnavailable:
                pass  # kept, and tried again next time

    async def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The metrics in the format the scraper asks for (``Accept``): OpenMetrics, or Prometheus text."""
        await self.flush()
        totals = {tuple(orjson.loads(key)): value for key, value in (await self.state.store.metrics()).items()}
        families = [*_counted(totals), *await self._kept()]
        registry = CollectorRegistry(auto_describe=True)
        registry.register(_Families(families))
        encoder, content_type = choose_encoder(accept or "")
        return encoder(registry), content_type

    async def _kept(self) -> list[Metric]:
        """Tasks by family and state, and rule hits, as every namespace holds them now."""
        tasks: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        hits: defaultdict[tuple[str, str], int] = defaultdict(int)
        for info in await self.state.store.namespaces():
            space = await self.state.enter(info.name)
            for task in await space.tasks.tasks():
                view = space.tasks.view(task)
                state = "failed" if view.failed else "succeeded" if view.succeeded else "running"
                tasks[(task.family, state, str(view.status))] += 1
            for rule in await self.state.store.rules(info.name):
                if rule.hits:
                    hits[(rule.name or str(rule.id), rule.source)] += rule.hits
        gauge = GaugeMetricFamily("gptnb_mock_tasks", "Tasks kept, by family, state (running, succeeded, failed) and the family's own status word.", labels=("family", "state", "status"))
        for labels, count in sorted(tasks.items()):
            gauge.add_metric(labels, count)
        rules = _counter("gptnb_mock_rule_hits", "Requests answered by a steering rule, by rule (name or id) and where it came from.", ("rule", "source"), hits.items())
        return [gauge, rules]


def _counted(totals: dict[Key, float]) -> Iterator[Metric]:
    """The counters the request path and the callbacks add to, as metric families."""

    def of(kind: str) -> list[tuple[Key, float]]:
        return [(key[1:], value) for key, value in totals.items() if key[0] == kind]

    yield _counter("gptnb_mock_requests", "Requests answered, by contract, status and namespace.", ("contract", "status", "namespace"), of("requests"))
    histogram = HistogramMetricFamily("gptnb_mock_request_seconds", "Time to answer, by contract (a stream: until its last event).", labels=("contract",))
    buckets: defaultdict[str, list[float]] = defaultdict(lambda: [0.0] * (len(LATENCY_BUCKETS) + 1))
    for (contract, bucket), count in of("latency"):
        buckets[contract][int(bucket)] += count
    sums = {contract: total for (contract,), total in of("latency_sum")}
    for contract, counts in sorted(buckets.items()):
        cumulative, shown = 0.0, []
        for bound, count in zip((*map(str, LATENCY_BUCKETS), "+Inf"), counts):
            cumulative += count
            shown.append((bound, cumulative))
        histogram.add_metric([contract], shown, sum_value=sums.get(contract, 0.0))
    yield histogram
    yield _counter("gptnb_mock_streams", "Event streams sent, by contract.", ("contract",), of("streams"))
    yield _counter("gptnb_mock_stream_events", "Events sent in event streams, by contract.", ("contract",), of("stream_events"))
    yield _counter("gptnb_mock_callback_deliveries", "Callback delivery attempts, by outcome: delivered, failed (retried) or refused.", ("outcome",), of("callbacks"))


class _Families(Collector):
    """Metric families made before the scrape's exposition is written."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def _counter(name: str, documentation: str, labels: tuple[str, ...], values: Iterable[tuple[tuple[str, ...], float]]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=labels)
    for key, value in sorted(values):
        family.add_metric(key, value)
    return family
