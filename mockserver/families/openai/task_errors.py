"""new-api's task error envelope, ``{"code", "message", "data": null}``, for its task routes.

The relay answers every failure of a task submit or fetch this way (dto/task.go TaskError, written
by controller respondTaskError): ``invalid_request`` for a body it cannot take, ``task_not_exist`` for
an id the caller has no task under, and 403 ``quota_not_enough`` / ``user quota is not enough`` when
the quota left is below the task's price (relay/relay_task.go). Key and rate problems stay the
relay's own envelope.
"""

from __future__ import annotations

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from .errors import relay_error

TASK_ERROR = "task_error"  # raised by handlers, with the TaskError code in ``code``
_RELAY_STATUSES = (401, 403, 429)


def task_error(code: str, message: str | None = None, status: int = 400) -> ApiError:
    return ApiError(status, TASK_ERROR, message or code, code=code)


def quota_refusal() -> JsonReply:
    """What relay_task.go answers when the quota left is below the task's price."""
    return JsonReply({"code": "quota_not_enough", "message": "user quota is not enough", "data": None}, status=403)


@error_builder("newapi_task")
def newapi_task_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == TASK_ERROR:
        return JsonReply({"code": error.code, "message": error.message, "data": None}, status=error.status)
    if error.kind == errors.INSUFFICIENT_QUOTA:
        return quota_refusal()
    if error.kind in (errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE, errors.INVALID_REQUEST):
        return JsonReply({"code": "invalid_request", "message": error.message, "data": None}, status=400)
    if error.kind == errors.FAULT and error.status not in _RELAY_STATUSES and error.status >= 400:
        code = "do_request_failed" if error.status >= 500 else "invalid_request"
        return JsonReply({"code": code, "message": error.message, "data": None}, status=error.status)
    return relay_error(error, context)
