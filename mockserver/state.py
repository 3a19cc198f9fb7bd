"""Everything one mock instance remembers, in one object the app, admin API and fixtures share."""

from __future__ import annotations

from .callbacks import CallbackDispatcher
from .clock import Clock
from .config import Settings
from .contracts import ContractRegistry, default_registry
from .families import Handler, load_all
from .journal import Journal
from .metrics import Metrics
from .rulecheck import prepare
from .rulefiles import RuleFiles
from .steering import RuleBook
from .tasks import MemoryTaskStore, TaskEngine


class MockState:
    def __init__(self, settings: Settings | None = None, registry: ContractRegistry | None = None, clock: Clock | None = None) -> None:
        self.settings = settings or Settings()
        self.registry = registry or default_registry()
        self.handlers: dict[str, Handler] = load_all()
        self.journal = Journal(self.settings.journal_size)
        self.rules = RuleBook(lambda rule: prepare(rule, self.registry, self.settings.strict))
        self.tasks = TaskEngine(clock or Clock(), MemoryTaskStore(self.settings.max_tasks))
        self.callbacks = CallbackDispatcher(self.tasks, self.journal, self.settings)
        self.metrics = Metrics(self.tasks)
        self.callbacks.metrics = self.metrics
        self.rule_files: RuleFiles | None = None
        """Files of canned replies this instance reloads when they change (``serve --fixtures``)."""

    @property
    def clock(self) -> Clock:
        return self.tasks.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self.tasks.clock = clock

    def configure(self, settings: Settings, clock: Clock) -> None:
        """New settings and clock for a running instance (the live-server fixture, between tests)."""
        self.settings = settings
        self.callbacks.settings = settings
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        """Forget calls, rules and tasks, and restart the clock (the moto ``/moto-api/reset`` of this
        mock); rules from files stay, counting afresh."""
        self.clock = self.clock.restarted()
        self.journal.clear()
        self.rules.reset()
        self.tasks.clear()
        self.callbacks.reset()
