"""Every model the relay has a channel for, read from the contracts' ``models``.

new-api lists one catalogue whatever the format asks (controller/model.go ListModels renders the same
models as OpenAI, Anthropic or Gemini lists), so the model lists of every family read it here.
"""

from __future__ import annotations

import re
from typing import Any

from .contracts import ContractRegistry

# new-api reports this fixed creation time for every model.
CREATED = 1626777600


def catalogue(registry: ContractRegistry) -> dict[str, dict[str, Any]]:
    """Model id -> its OpenAI-style entry, in contract order."""
    models: dict[str, dict[str, Any]] = {}
    for contract in registry:
        routing = contract.models
        if routing is None:
            continue
        for model in routing.listed or routing.known:
            models.setdefault(model, {"id": model, "object": "model", "created": CREATED, "owned_by": routing.owned_by})
    return models


def has_channel(registry: ContractRegistry, model: str) -> bool:
    """Whether any contract routes ``model``: a known name or one of its wildcard patterns."""
    if model in catalogue(registry):
        return True
    return any(re.search(p, model) for contract in registry if contract.models for p in contract.models.patterns)
