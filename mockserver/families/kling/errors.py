"""Kling's error body: ``{"code": <int>, "message", "request_id"}`` with the HTTP status of its code table.

Relay-level failures (bad key, no channel) never reach here: the generic path answers them with the
relay's own envelope, as GPTNB does.
"""

from __future__ import annotations

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error
from ..openai.task_errors import quota_refusal
from .models import derived_uuid

# Raised by handlers with the Kling code in ``code`` (the status follows the code table).
KLING = "kling_error"
INVALID_PARAMETER = 1201
TASK_NOT_FOUND = 1203

# Kling's codes for statuses a steering rule injects (the first code of each status in Kling's API reference (app.klingai.com/global/dev/document-api), error codes).
_FAULT_CODES = {400: 1200, 401: 1000, 403: 1103, 404: 1202, 429: 1302, 500: 5000, 503: 5001, 504: 5002}


def invalid_parameter(message: str) -> ApiError:
    return ApiError(400, KLING, message, code=INVALID_PARAMETER)


def task_not_found() -> ApiError:
    return ApiError(404, KLING, "task not found", code=TASK_NOT_FOUND)


def _body(code: int, message: str, status: int, context: ErrorContext) -> JsonReply:
    return JsonReply({"code": code, "message": message, "request_id": derived_uuid("kling-request", context.request_id)}, status=status)


@error_builder("kling")
def kling_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == KLING and isinstance(error.code, int):
        return _body(error.code, error.message, error.status, context)
    if error.kind in (errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE, errors.TOO_LARGE):
        return _body(1200, f"invalid request body: {error.message}", 400, context)
    if error.kind == errors.INVALID_REQUEST:
        if error.extra.get("where") == "path":  # an action pair Kling has no route for
            return _body(1202, "invalid method", 404, context)
        field = error.param or "body"
        detail = error.message.split(": ", 2)[-1]
        return _body(INVALID_PARAMETER, f"{field}: {detail}", 400, context)
    if error.kind == errors.INSUFFICIENT_QUOTA:  # new-api's Kling route is one of its task routes (relay/relay_task.go)
        return quota_refusal()
    if error.kind == errors.FAULT and error.status in _FAULT_CODES:
        return _body(_FAULT_CODES[error.status], error.message, error.status, context)
    return relay_error(error, context)
