"""Prometheus metrics of one mock instance, served at ``GET /__mock/metrics``.

The request path only adds to plain counters under one lock (about a microsecond); prometheus-client
turns them into metric families when a scraper asks (a custom collector, as its docs describe for
values kept elsewhere) and writes the exposition, Prometheus text or OpenMetrics as asked. Tasks are
counted from the task engine at that moment, so the request path pays nothing for them. Each
instance has a registry of its own: tests run many instances in one process.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from .steering import Rule
    from .tasks import TaskEngine

# Seconds: from a cached JSON answer (sub-millisecond) to a slow, paced stream.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
NO_CONTRACT = "none"
"""The contract label of requests no contract serves (404s)."""


class Metrics:
    def __init__(self, tasks: TaskEngine) -> None:
        self._lock = threading.Lock()
        self.requests: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        self.latency: dict[str, list[float]] = {}
        """Per contract: a count per bucket (the last one past every bound), then the sum."""
        self.streams: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
        """Per contract: streams sent, events sent."""
        self.callbacks: defaultdict[str, int] = defaultdict(int)
        self.rule_hits: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_Exposition(self, tasks))

    def request(self, contract: str | None, status: int, namespace: str, seconds: float) -> None:
        contract = contract or NO_CONTRACT
        bucket = bisect.bisect_left(LATENCY_BUCKETS, seconds)
        with self._lock:
            self.requests[(contract, str(status), namespace)] += 1
            counts = self.latency.get(contract)
            if counts is None:
                counts = self.latency[contract] = [0.0] * (len(LATENCY_BUCKETS) + 2)
            counts[bucket] += 1
            counts[-1] += seconds

    def stream(self, contract: str, events: int) -> None:
        with self._lock:
            sent = self.streams[contract]
            sent[0] += 1
            sent[1] += events

    def callback(self, outcome: str) -> None:
        with self._lock:
            self.callbacks[outcome] += 1

    def rule_hit(self, rule: Rule) -> None:
        with self._lock:
            self.rule_hits[(rule.name or str(rule.id), rule.source)] += 1

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The metrics in the format the scraper asks for (``Accept``): OpenMetrics, or Prometheus text."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


class _Exposition(Collector):
    """The counters as metric families, read under the lock when scraped."""

    def __init__(self, metrics: Metrics, tasks: TaskEngine) -> None:
        self.metrics = metrics
        self.tasks = tasks

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        with m._lock:
            requests, latency = dict(m.requests), {k: list(v) for k, v in m.latency.items()}
            streams, callbacks, rules = {k: list(v) for k, v in m.streams.items()}, dict(m.callbacks), dict(m.rule_hits)
        yield _counter("gptnb_mock_requests", "Requests answered, by contract, status and namespace.", ("contract", "status", "namespace"), requests)
        histogram = HistogramMetricFamily("gptnb_mock_request_seconds", "Time to answer, to the last byte of a stream, by contract.", labels=("contract",))
        for contract, counts in sorted(latency.items()):
            cumulative, buckets = 0.0, []
            for bound, count in zip((*map(str, LATENCY_BUCKETS), "+Inf"), counts[:-1]):
                cumulative += count
                buckets.append((bound, cumulative))
            histogram.add_metric([contract], buckets, sum_value=counts[-1])
        yield histogram
        yield _counter("gptnb_mock_streams", "Event streams sent, by contract.", ("contract",), {(k,): v[0] for k, v in streams.items()})
        yield _counter("gptnb_mock_stream_events", "Events sent in event streams, by contract.", ("contract",), {(k,): v[1] for k, v in streams.items()})
        yield _counter("gptnb_mock_callback_deliveries", "Callback delivery attempts, by outcome: delivered, failed (retried) or refused.", ("outcome",), {(k,): v for k, v in callbacks.items()})
        yield _counter("gptnb_mock_rule_hits", "Requests answered by a steering rule, by rule (name or id) and where it came from.", ("rule", "source"), rules)
        yield self._tasks()

    def _tasks(self) -> GaugeMetricFamily:
        counts: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        for task in self.tasks.tasks():
            view = self.tasks.view(task)
            state = "failed" if view.failed else "succeeded" if view.succeeded else "running"
            counts[(task.family, state, str(view.status))] += 1
        gauge = GaugeMetricFamily("gptnb_mock_tasks", "Tasks kept, by family, state (running, succeeded, failed) and the family's own status word.", labels=("family", "state", "status"))
        for labels, count in sorted(counts.items()):
            gauge.add_metric(labels, count)
        return gauge


def _counter(name: str, documentation: str, labels: tuple[str, ...], values: dict[tuple[str, ...], float]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric(key, value)
    return family
