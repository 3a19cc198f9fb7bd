"""Everything one mock instance remembers, in one object the app, admin API and fixtures share."""

from __future__ import annotations

from .clock import Clock
from .config import Settings
from .contracts import ContractRegistry, default_registry
from .families import Handler, load_all
from .journal import Journal
from .steering import RuleBook


class MockState:
    def __init__(self, settings: Settings | None = None, registry: ContractRegistry | None = None, clock: Clock | None = None) -> None:
        self.settings = settings or Settings()
        self.registry = registry or default_registry()
        self.handlers: dict[str, Handler] = load_all()
        self.journal = Journal(self.settings.journal_size)
        self.rules = RuleBook()
        self.clock = clock or Clock()

    def reset(self) -> None:
        """Forget calls and rules (the moto ``/moto-api/reset`` of this mock)."""
        self.journal.clear()
        self.rules.clear()
