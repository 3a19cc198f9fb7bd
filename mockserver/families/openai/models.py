"""Models: ``/v1/models`` lists every model the contracts route, ``/v1/models/{model}`` one of them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ...errors import ApiError
from ...replies import JsonReply, Reply
from .. import handles

if TYPE_CHECKING:
    from ...pipeline import Call

# new-api reports this fixed creation time for every model.
CREATED = 1626777600


def _catalogue(call: Call) -> dict[str, dict[str, Any]]:
    models: dict[str, dict[str, Any]] = {}
    for contract in call.state.registry:
        routing = contract.models
        if routing is None:
            continue
        for model in routing.listed or routing.known:
            models.setdefault(model, {"id": model, "object": "model", "created": CREATED, "owned_by": routing.owned_by})
    return models


@handles("openai.models.list", stateless=True)
def list_models(call: Call) -> Reply:
    return JsonReply({"object": "list", "success": True, "data": list(_catalogue(call).values())})


@handles("openai.models.retrieve", stateless=True)
def retrieve_model(call: Call) -> Reply:
    wanted = call.params["model"]
    catalogue = _catalogue(call)
    if wanted in catalogue:
        return JsonReply(catalogue[wanted])
    for contract in call.state.registry:
        routing = contract.models
        if routing and any(re.search(p, wanted) for p in routing.patterns):
            return JsonReply({"id": wanted, "object": "model", "created": CREATED, "owned_by": routing.owned_by})
    raise ApiError(404, "model_not_found", f"The model '{wanted}' does not exist", param="model", code="model_not_found")
