"""The DuoMi template's error bodies (QuantumNous/new-api relay/relay_task.go (task_not_exist, HTTP 400)), shared by Pika, Runway v1 and Pixverse.

Body problems answer ``{"code": 400, "msg": "<reason>", "data": null, "exec_time": …}``; an unknown task
on feed answers new-api's ``{"code": "task_not_exist", "message": "task_not_exist", "data": null}``
(HTTP 400); key, quota and channel problems are the relay's own envelope.
"""

from __future__ import annotations

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error
from .duomi import exec_time

# Raised by handlers: a request the upstream refuses ({code: 400, msg}) / a task feed cannot find.
REFUSED = "duomi_refused"
TASK_NOT_EXIST = "duomi_task_not_exist"


def refused(reason: str) -> ApiError:
    return ApiError(400, REFUSED, reason)


def task_not_exist() -> ApiError:
    return ApiError(400, TASK_NOT_EXIST, "task_not_exist")


def _refusal(reason: str, status: int, context: ErrorContext) -> JsonReply:
    return JsonReply({"code": 400, "msg": reason, "data": None, "exec_time": exec_time(context.request_id)}, status=status)


def _reason(error: ApiError) -> str:
    if error.kind == errors.INVALID_REQUEST and error.param:
        if error.extra.get("keyword") == "required":
            return f"{error.param} is required"
        return f"{error.param}: {error.message.split(': ', 2)[-1]}"
    return error.message


def duomi_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == TASK_NOT_EXIST:
        return JsonReply({"code": "task_not_exist", "message": "task_not_exist", "data": None}, status=400)
    if error.kind in (REFUSED, errors.INVALID_REQUEST, errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE, errors.TOO_LARGE):
        return _refusal(_reason(error), 400, context)
    if error.kind == errors.FAULT and 400 <= error.status < 500 and error.status not in (401, 403, 429):
        return _refusal(error.message, error.status, context)
    return relay_error(error, context)


error_builder("pika")(duomi_error)
