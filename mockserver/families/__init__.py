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


def handles(*contract_ids: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for contract_id in contract_ids:
            if contract_id in _handlers:
                raise ValueError(f"two handlers for {contract_id}")
            _handlers[contract_id] = handler
        return handler

    return register


@functools.cache
def load_all() -> dict[str, Handler]:
    """Import every family module so its registrations run; the handler table afterwards."""
    for module in pkgutil.walk_packages(__path__, prefix=__name__ + "."):
        importlib.import_module(module.name)
    return _handlers
