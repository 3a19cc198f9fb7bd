"""Midjourney's two error shapes.

The relay answers what it checks itself with HTTP 400 and ``{"description": "<code> ", "type":
"upstream_error", "code": 4}`` (new-api writes ``"<desc> <result>"``, hence the trailing space); the
proxy answers business errors with HTTP 200 and the submit envelope with a non-1 ``code``.
"""

from __future__ import annotations

from typing import Any

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error

# Raised by handlers for answers in the submit envelope (codes 3, 4, 21-24) rather than as HTTP errors.
ENVELOPE = "mj_envelope"
# Raised by handlers for what the relay itself refuses (unknown task on fetch, parent not finished).
RELAY_CHECK = "mj_relay_check"
# Raised for requests the relay cannot even read (customIds it does not know): its {"error": ...} body.
UNREADABLE = "mj_unreadable"


# Fields new-api reads to route the request at all; without them it answers with its own envelope.
READ_BEFORE_ROUTING = {"customId": "custom_id_is_required"}


def relay_check(description: str, status: int = 400) -> ApiError:
    return ApiError(status, RELAY_CHECK, description)


def unreadable(reason: str) -> ApiError:
    return ApiError(400, UNREADABLE, f"Invalid request, {reason}")


def envelope_error(code: int, description: str, properties: dict[str, Any] | None = None) -> ApiError:
    return ApiError(200, ENVELOPE, description, code=code, extra={"properties": properties or {}})


def _relay_body(description: str) -> dict[str, Any]:
    return {"description": f"{description} ", "type": "upstream_error", "code": 4}


@error_builder("midjourney")
def midjourney_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == ENVELOPE:
        body = {"code": error.code, "description": error.message, "result": None, "properties": error.extra.get("properties", {})}
        return JsonReply(body)
    if error.kind == UNREADABLE:
        return relay_error(error, context)
    if error.kind == RELAY_CHECK:
        return JsonReply(_relay_body(error.message), status=error.status)
    if error.kind in (errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE):
        return JsonReply(_relay_body("bind_request_body_failed"), status=400)
    if error.kind == errors.INVALID_REQUEST:
        keyword = error.extra.get("keyword")
        field = error.param or "request"
        if keyword in ("required", "minLength") and error.extra.get("where") == "body":
            if field in READ_BEFORE_ROUTING:
                return relay_error(unreadable(READ_BEFORE_ROUTING[field]), context)
            return JsonReply(_relay_body(f"{field}_is_required"), status=400)
        if keyword == "type" or error.extra.get("where") != "body":
            return JsonReply(_relay_body("bind_request_body_failed"), status=400)
        # Values the proxy checks (enums, counts, ranges) come back as its code 4 in a 200 body.
        return JsonReply({"code": 4, "description": f"{field}参数错误", "result": None, "properties": {}})
    if error.kind == errors.INSUFFICIENT_QUOTA:  # relay/mjproxy_handler.go: quota below the action's price
        return JsonReply(_relay_body("quota_not_enough"), status=400)
    if error.kind == errors.FAULT and 400 <= error.status < 500 and error.status not in (401, 403, 429):
        return JsonReply(_relay_body(error.message), status=error.status)
    return relay_error(error, context)
