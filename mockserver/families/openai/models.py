"""Models: ``/v1/models`` lists every model the contracts route, ``/v1/models/{model}`` one of them.

Both answer as new-api's ``controller/model.go`` does: the list carries ``success: true`` next to
``object: list``, every model ``created: 1626777600``, and an unknown model is HTTP 200 with an error body.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ...catalogue import CREATED, catalogue
from ...replies import JsonReply, Reply
from .. import handles

if TYPE_CHECKING:
    from ...pipeline import Call


@handles("openai.models.list", stateless=True)
def list_models(call: Call) -> Reply:
    return JsonReply({"object": "list", "success": True, "data": list(catalogue(call.state.registry).values())})


@handles("openai.models.retrieve", stateless=True)
def retrieve_model(call: Call) -> Reply:
    wanted = call.params["model"]
    models = catalogue(call.state.registry)
    if wanted in models:
        return JsonReply(models[wanted])
    for contract in call.state.registry:
        routing = contract.models
        if routing and any(re.search(p, wanted) for p in routing.patterns):
            return JsonReply({"id": wanted, "object": "model", "created": CREATED, "owned_by": routing.owned_by})
    # new-api answers an unknown model with HTTP 200 and OpenAI's error body (controller/model.go RetrieveModel).
    error = {"message": f"The model '{wanted}' does not exist", "type": "invalid_request_error", "param": "model", "code": "model_not_found"}
    return JsonReply({"error": error})
