"""MewXAI's error body: HTTP 200 with ``{"code": <non-zero>, "message": "...", "data": null}``.

Clients check ``code``, not the HTTP status, so the provider's own refusals (bad parameters, unknown
ids) come in a 200. Relay-level failures (key, quota, rate limit) keep the relay's envelope.
"""

from __future__ import annotations

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error

BUSINESS = "mewx_business"
# The docs show only 1001 余额不足; these codes are the mock's guesses.
BAD_PARAMETER = 400
NOT_FOUND = 404

_REQUEST_KINDS = (errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE, errors.INVALID_REQUEST, errors.TOO_LARGE)


def business_error(code: int, message: str, status: int = 200) -> ApiError:
    return ApiError(status, BUSINESS, message, code=code)


def bad_parameter(message: str) -> ApiError:
    return business_error(BAD_PARAMETER, message)


def not_found(message: str, status: int = 200) -> ApiError:
    return business_error(NOT_FOUND, message, status)


@error_builder("mewx")
def mewx_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == BUSINESS:
        return JsonReply({"code": error.code, "message": error.message, "data": None}, status=error.status)
    if error.kind in _REQUEST_KINDS:
        return JsonReply({"code": BAD_PARAMETER, "message": error.message.removeprefix("Invalid request: "), "data": None})
    if error.kind == errors.FAULT and error.status < 500 and error.status not in (401, 403, 429):
        return JsonReply({"code": error.status, "message": error.message, "data": None}, status=error.status)
    return relay_error(error, context)
