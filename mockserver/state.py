"""What one mock instance knows (settings, contracts, handlers, its store, its fault desk) and what one
namespace of it holds (tasks, rules, journal, clock, quota rules), as the app, the admin API and the
fixtures share them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .callbacks import CallbackDispatcher
from .config import Settings
from .contracts import ContractRegistry, default_registry
from .families import Handler, load_all
from .faults.desk import FaultDesk
from .journal import Journal
from .metrics import Metrics
from .quota.limits import QuotaStart
from .rulecheck import prepare
from .rulefiles import RuleFiles
from .steering import Rule, RuleBook
from .store import DEFAULT_NAMESPACE, Entered, Limits, MemoryStore, Store
from .tasks import TaskEngine

if TYPE_CHECKING:
    from .proxy.replay import Replay

NAMESPACES_REMEMBERED = 1024  # views kept for reuse; past this they are all built afresh


class MockState:
    def __init__(self, settings: Settings | None = None, registry: ContractRegistry | None = None, store: Store | None = None) -> None:
        self.settings = settings or Settings()
        self.registry = registry or default_registry()
        self.handlers: dict[str, Handler] = load_all()
        self.store = store if store is not None else memory_store(self.settings)
        self.store.quota_start = quota_start(self.settings)
        self.callbacks = CallbackDispatcher(self)
        self.faults = FaultDesk(self.settings)
        self.metrics = Metrics(self)
        self.rule_files: RuleFiles | None = None
        """Files of canned replies this instance keeps as the shared rules (``serve --fixtures``)."""
        self._entered: dict[str, NamespaceState] = {}
        self.replay: Replay | None = None
        """Recorded exchanges that answer before the fake (``serve --replay``, cassettes in the fixtures);
        how far they have played is each namespace's, in the store."""

    async def add_rule(self, namespace: str, rule: Rule, *, judged: bool = True) -> Rule:
        """Work out which contracts the rule can answer and judge its replies (ScenarioError if it cannot
        stand), then keep it in the namespace. Strict mode refuses replies that break their contracts,
        unless ``judged`` is False: then they are kept with notes and judged as they are served."""
        return await self.store.add_rule(namespace, prepare(rule, self.registry, judged and self.settings.strict))

    async def enter(self, namespace: str = DEFAULT_NAMESPACE) -> NamespaceState:
        """The namespace as a request sees it (one read of the store)."""
        return self.view(namespace, await self.store.enter(namespace))

    def view(self, namespace: str, entered: Entered) -> NamespaceState:
        """The namespace as the store answered it; the same object while its version holds."""
        known = self._entered.get(namespace)
        if known is not None and known.version == entered.version:
            return known
        if len(self._entered) >= NAMESPACES_REMEMBERED:
            self._entered.clear()
        known = self._entered[namespace] = NamespaceState(self, namespace, entered)
        return known

    def last_seen(self, namespace: str) -> NamespaceState | None:
        """The namespace as this process last read it; it may have changed since (see Pipeline)."""
        return self._entered.get(namespace)

    async def reset(self, namespace: str = DEFAULT_NAMESPACE) -> None:
        """Forget the namespace's calls, rules, tasks and clock, and give it back its starting quota and
        limits; chaos and jitter start their sequence again (the moto ``/moto-api/reset`` of this mock)."""
        await self.store.drop(namespace)

    def configure(self, settings: Settings) -> None:
        """New settings for a running instance (the live-server fixture, between tests)."""
        self.settings = settings
        self._entered.clear()
        self.store.clock_mode, self.store.clock_speed = settings.clock, settings.clock_speed
        self.store.quota_start = quota_start(settings)
        self.faults = FaultDesk(settings)

    def close(self) -> None:
        self.callbacks.stop()


class NamespaceState:
    """One namespace's tasks, rules, journal, clock and quota rules, with the instance's settings and
    contracts: what a handler sees as ``call.state``."""

    def __init__(self, mock: MockState, namespace: str, entered: Entered) -> None:
        clock, rules, self.version, self.quota = entered
        self.mock = mock
        self.namespace = namespace
        self.clock = clock
        self.registry = mock.registry
        self.callbacks = mock.callbacks
        self.store = mock.store
        self.rules = RuleBook(mock.store, namespace, rules)
        self.tasks = TaskEngine(mock.store, namespace, clock)
        self.journal = Journal(mock.store, namespace)

    @property
    def settings(self) -> Settings:
        return self.mock.settings  # the instance's, as they are now (the live-server fixture swaps them)


def memory_store(settings: Settings) -> MemoryStore:
    return MemoryStore(limits_of(settings), settings.clock, settings.clock_speed)


def quota_start(settings: Settings) -> QuotaStart:
    return QuotaStart(settings.quotas, settings.limits)


def limits_of(settings: Settings) -> Limits:
    return Limits(journal_size=settings.journal_size, max_tasks=settings.max_tasks)
