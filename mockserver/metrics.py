"""Prometheus metrics of one mock instance, served at ``GET /__mock/metrics``.

Counters and histograms are kept by ``prometheus-client`` in a registry of the instance's own (tests
run many instances in one process); tasks are counted when scraped, from the task engine, so the
request path pays nothing for them. Labelled children are cached: the request path does a dict
lookup and two increments.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
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
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self._requests = Counter("gptnb_mock_requests", "Requests answered, by contract, status and namespace.", ("contract", "status", "namespace"), registry=registry)
        self._latency = Histogram("gptnb_mock_request_seconds", "Time to answer, to the last byte of a stream, by contract.", ("contract",), buckets=LATENCY_BUCKETS, registry=registry)
        self._streams = Counter("gptnb_mock_streams", "Event streams sent, by contract.", ("contract",), registry=registry)
        self._events = Counter("gptnb_mock_stream_events", "Events sent in event streams, by contract.", ("contract",), registry=registry)
        self._callbacks = Counter("gptnb_mock_callback_deliveries", "Callback delivery attempts, by outcome: delivered, failed (retried) or refused.", ("outcome",), registry=registry)
        self._rules = Counter("gptnb_mock_rule_hits", "Requests answered by a steering rule, by rule (name or id) and where it came from.", ("rule", "source"), registry=registry)
        registry.register(_TaskCollector(tasks))
        self._children: dict[tuple[str, int, str], tuple[Any, Any]] = {}

    def request(self, contract: str | None, status: int, namespace: str, seconds: float) -> None:
        key = (contract or NO_CONTRACT, status, namespace)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (self._requests.labels(key[0], str(status), namespace), self._latency.labels(key[0]))
        children[0].inc()
        children[1].observe(seconds)

    def stream(self, contract: str, events: int) -> None:
        self._streams.labels(contract).inc()
        self._events.labels(contract).inc(events)

    def callback(self, outcome: str) -> None:
        self._callbacks.labels(outcome).inc()

    def rule_hit(self, rule: Rule) -> None:
        self._rules.labels(rule.name or str(rule.id), rule.source).inc()

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The metrics in the format the scraper asks for (``Accept``): OpenMetrics, or Prometheus text."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


class _TaskCollector(Collector):
    """``gptnb_mock_tasks{family, state, status}``: the tasks kept now, counted when scraped."""

    def __init__(self, tasks: TaskEngine) -> None:
        self.tasks = tasks

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts: dict[tuple[str, str, str], int] = {}
        for task in self.tasks.tasks():
            view = self.tasks.view(task)
            state = "failed" if view.failed else "succeeded" if view.succeeded else "running"
            key = (task.family, state, str(view.status))
            counts[key] = counts.get(key, 0) + 1
        gauge = GaugeMetricFamily("gptnb_mock_tasks", "Tasks kept, by family, state (running, succeeded, failed) and the family's own status word.", labels=("family", "state", "status"))
        for labels, count in sorted(counts.items()):
            gauge.add_metric(labels, count)
        yield gauge

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("gptnb_mock_tasks", "Tasks kept.", labels=("family", "state", "status"))
