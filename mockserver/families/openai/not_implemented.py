"""The OpenAI routes new-api registers but does not serve: files, legacy fine-tunes, model deletion.

Each is ``controller.RelayNotImplemented`` behind the relay's channel distributor, and the distributor
answers first: a request naming no model is refused 400, a model no channel serves gets the usual 503,
and only a served model reaches the handler's 501. The distributor reads the model from a JSON body's
``model``, or from the path on ``/v1/models/...``; it reads nothing from other bodies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...catalogue import has_channel
from ...errors import INVALID_REQUEST, ApiError, no_channel
from ...replies import JsonReply, Reply
from .. import handles

if TYPE_CHECKING:
    from ...pipeline import Call

# controller/relay.go RelayNotImplemented writes this body itself: no request id in the message.
NOT_IMPLEMENTED = {"error": {"message": "API not implemented", "type": "new_api_error", "param": "", "code": "api_not_implemented"}}
# middleware/distributor.go, i18n key distributor.model_name_required, in the relay's default language.
MODEL_NAME_REQUIRED = "未指定模型名称，模型名称不能为空"


@handles(
    "openai.files.list",
    "openai.files.create",
    "openai.files.retrieve",
    "openai.files.delete",
    "openai.files.content",
    "openai.fine_tunes.create",
    "openai.fine_tunes.list",
    "openai.fine_tunes.retrieve",
    "openai.fine_tunes.cancel",
    "openai.fine_tunes.events",
    "openai.models.delete",
    stateless=True,
)
def not_implemented(call: Call) -> Reply:
    model = call.params.get("model") or _json_model(call)
    if not model:
        raise ApiError(400, INVALID_REQUEST, MODEL_NAME_REQUIRED, code="")
    if not has_channel(call.state.registry, model):
        raise no_channel(call.state.settings.group, model)
    return JsonReply(NOT_IMPLEMENTED, status=501)


def _json_model(call: Call) -> str | None:
    if not call.headers.get("content-type", "").startswith("application/json") or not isinstance(call.body, dict):
        return None
    model = call.body.get("model")
    return model if isinstance(model, str) else None
