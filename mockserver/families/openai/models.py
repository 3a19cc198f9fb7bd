"""Models: ``/v1/models`` lists every model the contracts route, ``/v1/models/{model}`` one of them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ...catalogue import CREATED, catalogue
from ...errors import ApiError
from ...replies import JsonReply, Reply
from .. import handles

if TYPE_CHECKING:
    from ...pipeline import Call


@handles("openai.models.list")
def list_models(call: Call) -> Reply:
    return JsonReply({"object": "list", "success": True, "data": list(catalogue(call.state.registry).values())})


@handles("openai.models.retrieve")
def retrieve_model(call: Call) -> Reply:
    wanted = call.params["model"]
    models = catalogue(call.state.registry)
    if wanted in models:
        return JsonReply(models[wanted])
    for contract in call.state.registry:
        routing = contract.models
        if routing and any(re.search(p, wanted) for p in routing.patterns):
            return JsonReply({"id": wanted, "object": "model", "created": CREATED, "owned_by": routing.owned_by})
    raise ApiError(404, "model_not_found", f"The model '{wanted}' does not exist", param="model", code="model_not_found")
