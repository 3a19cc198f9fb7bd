"""Jimeng's two error shapes.

middleware/jimeng_adapter.go refuses a request before the task relay runs with the relay's bare
envelope (abortWithOpenAiMessage: ``{"error": {"message": "... (request id: …)", "type":
"new_api_error"}}``, 400): no Action query, a body that is not JSON, a get-result without task_id.
What the task relay refuses after that (a prompt-less body, an unknown task id) is new-api's TaskError
``{"code", "message", "data": null}`` (QuantumNous/new-api dto/task.go).
"""

from __future__ import annotations

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.task_errors import newapi_task_error, task_error

NO_ACTION = "Action query parameter is required"
NO_TASK_ID = "task_id is required for CVSync2AsyncGetResult"
BAD_BODY = "Invalid request body"


def _middleware(message: str, context: ErrorContext) -> JsonReply:
    return JsonReply({"error": {"message": f"{message} (request id: {context.request_id})", "type": "new_api_error"}}, status=400)


def _refused_by_middleware(error: ApiError, context: ErrorContext) -> str | None:
    """The middleware's message for a schema violation it catches itself, None for the task relay's."""
    location = error.message.split(": ", 2)[1] if error.message.count(": ") >= 2 else ""
    if location.startswith("query"):
        return NO_ACTION
    if location == "body (root)":  # not a JSON object: the middleware cannot read it into a map
        return BAD_BODY
    if context.contract is not None and context.contract.id == "jimeng.get_result":
        return NO_TASK_ID
    return None


@error_builder("jimeng")
def jimeng_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind in (errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE):
        return _middleware(BAD_BODY, context)
    if error.kind == errors.INVALID_REQUEST:
        message = _refused_by_middleware(error, context)
        if message is not None:
            return _middleware(message, context)
        field = error.param or "body"
        return newapi_task_error(task_error("invalid_request", f"{field} is required" if error.extra.get("keyword") == "required" else error.message), context)
    return newapi_task_error(error, context)
