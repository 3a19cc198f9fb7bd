"""Viggle's error body: the reverse envelope with a non-zero code, ``{"code", "message", "ts", "reason",
"data": null}`` (the Viggle template pages (gpt-best.apifox.cn/project-3868318 api-208350214, api-208350175, api-208350176, api-208350215), inferred). Key, quota and channel problems are the relay's envelope.
"""

from __future__ import annotations

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error

# Raised by handlers with Viggle's code in ``code``. The codes are the mock's guesses (none documented).
VIGGLE = "viggle_error"
INVALID_PARAMETER = 40001
NOT_FOUND = 40004


def invalid_parameter(message: str) -> ApiError:
    return ApiError(400, VIGGLE, message, code=INVALID_PARAMETER)


def not_found(what: str) -> ApiError:
    return ApiError(400, VIGGLE, f"{what} not found", code=NOT_FOUND)


def _body(code: int, message: str, status: int) -> JsonReply:
    return JsonReply({"code": code, "message": message, "ts": "", "reason": "", "data": None}, status=status)


@error_builder("viggle")
def viggle_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == VIGGLE and isinstance(error.code, int):
        return _body(error.code, error.message, error.status)
    if error.kind == errors.INVALID_REQUEST and error.param and error.extra.get("keyword") == "required":
        return _body(INVALID_PARAMETER, f"{error.param} is required", 400)
    if error.kind in (errors.INVALID_REQUEST, errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE, errors.TOO_LARGE):
        return _body(INVALID_PARAMETER, error.message, 400)
    if error.kind == errors.FAULT and 400 <= error.status < 500 and error.status not in (401, 403, 429):
        return _body(INVALID_PARAMETER, error.message, error.status)
    return relay_error(error, context)
