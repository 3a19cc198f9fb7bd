"""Vidu's errors: the web API's own error body is undocumented, so the relay's envelope answers them.

``{"error": {"message": "invalid request: type is required", "type": "invalid_request_error",
"param": ..., "code": "invalid_request"}}`` with 400 for bad bodies and 404 (code ``task_not_found``)
for unknown ids (an inference: no public page shows the Vidu web API's own error body, inferred).
"""

from __future__ import annotations

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error

INVALID = "vidu_invalid"
NOT_FOUND = "vidu_not_found"


def invalid(message: str, field: str = "") -> ApiError:
    return ApiError(400, INVALID, f"invalid request: {message}", param=field, code="invalid_request")


def not_found(what: str, field: str) -> ApiError:
    return ApiError(404, NOT_FOUND, f"{what} not found", param=field, code="task_not_found")


def _envelope(error: ApiError) -> JsonReply:
    body = {"error": {"message": error.message, "type": "invalid_request_error", "param": error.param or "", "code": error.code}}
    return JsonReply(body, status=error.status)


def _from_validation(error: ApiError) -> ApiError:
    """The pipeline's schema violation ("Invalid request: body settings/duration: <detail>"), said
    the way the relay says it, with the dotted path of the offending field as ``param``."""
    parts = error.message.split(": ", 2)
    location, detail = (parts[1], parts[2]) if len(parts) == 3 else ("", error.message)
    # The violation's path already names a missing required property.
    field = ".".join(p for p in location.partition(" ")[2].split("/") if p and p != "(root)")
    if error.extra.get("keyword") == "required" and field:
        return invalid(f"{field} is required", field)
    return invalid(f"{field or 'body'}: {detail}", field)


@error_builder("vidu")
def vidu_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind in (INVALID, NOT_FOUND):
        return _envelope(error)
    if error.kind == errors.INVALID_REQUEST:
        return _envelope(_from_validation(error))
    if error.kind in (errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE):
        return _envelope(invalid(error.message.removeprefix("Invalid request: ")))
    return relay_error(error, context)
