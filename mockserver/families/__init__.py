"""Family knowledge: handlers keyed by contract id, and each family's error builder.

Each module in this package (or sub-package) registers its handlers with ``@handles(...)`` and its
error builder with ``@error_builder(...)`` when imported; ``load_all`` imports them once.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..pipeline import Call
    from ..replies import Reply

Handler = Callable[["Call"], "Awaitable[Reply] | Reply"]
_handlers: dict[str, Handler] = {}
_stateless: set[str] = set()


def handles(*contract_ids: str, stateless: bool = False) -> Callable[[Handler], Handler]:
    """Register a handler. ``stateless``: it answers from the request, the settings and the clock alone,
    touching no task, counter or other stored state, so the pipeline may answer it from the namespace
    as last read and confirm that view when it journals the call (one store round trip, not two)."""

    def register(handler: Handler) -> Handler:
        for contract_id in contract_ids:
            if contract_id in _handlers:
                raise ValueError(f"two handlers for {contract_id}")
            _handlers[contract_id] = handler
            if stateless:
                _stateless.add(contract_id)
        return handler

    return register


def is_stateless(contract_id: str) -> bool:
    return contract_id in _stateless


@functools.cache
def load_all() -> dict[str, Handler]:
    """Import every family module so its registrations run; the handler table afterwards."""
    for module in pkgutil.walk_packages(__path__, prefix=__name__ + "."):
        importlib.import_module(module.name)
    return _handlers
