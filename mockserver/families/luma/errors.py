"""Luma's error shape: Luma-API passes Luma's ``{"detail": "<text>"}`` through and wraps its own failures
(a body it cannot bind, an internal error) as ``{"detail": {"reason", "code": 1}}`` (LumaAI-API/Luma-API luma.go (its error bodies)).
Key, quota and rate problems are the relay's own envelope.
"""

from __future__ import annotations

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error

DETAIL = "luma_detail"


def detail(status: int, message: str) -> ApiError:
    return ApiError(status, DETAIL, message)


def not_found() -> ApiError:
    return detail(404, "generation not found")


@error_builder("luma")
def luma_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == DETAIL:
        return JsonReply({"detail": error.message}, status=error.status)
    if error.kind in (errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE):
        return JsonReply({"detail": {"reason": error.message, "code": 1}}, status=400)
    if error.kind == errors.INVALID_REQUEST:
        required = error.extra.get("keyword") == "required" and error.param
        return JsonReply({"detail": f"{error.param} is required" if required else error.message}, status=400)
    if error.kind == errors.FAULT and error.status not in (401, 403, 429) and error.status >= 400:
        body = {"reason": error.message, "code": 1} if error.status >= 500 else error.message
        return JsonReply({"detail": body}, status=error.status)
    return relay_error(error, context)
