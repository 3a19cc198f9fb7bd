"""The relay's error envelope, ``{"error": {"message", "type", "param", "code"}}``.

GPTNB is a new-api deployment, so this one shape answers relay-level failures for every family
(bad key, unknown model, unknown path) and every error of the OpenAI family. Relay-generated messages
end with `` (request id: …)`` as new-api writes them.
"""

from __future__ import annotations

from ...errors import RELAY, ApiError, ErrorContext, error_builder
from ...replies import JsonReply

# OpenAI's own type/code words, for statuses a steering rule injects.
_FAULT_WORDS = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "insufficient_user_quota"),
    404: ("invalid_request_error", "not_found"),
    429: ("rate_limit_exceeded", "rate_limit_exceeded"),
    500: ("server_error", "do_request_failed"),
    502: ("upstream_error", "bad_response_status_code"),
    503: ("upstream_error", "get_channel_failed"),
}


@error_builder(RELAY)
@error_builder("openai")
def relay_error(error: ApiError, context: ErrorContext) -> JsonReply:
    error_type = error.extra.get("type", context.settings.error_type)  # an upstream's own type (rate limits)
    code = error.code
    if error.kind == "fault":
        error_type, default_code = _FAULT_WORDS.get(error.status, ("upstream_error", "bad_response_status_code"))
        error_type = error.extra.get("type") or error_type  # a canned error says its own type
        code = code or default_code
    body = {
        "error": {
            "message": f"{error.message} (request id: {context.request_id})",
            "type": error_type,
            "param": error.param or "",
            "code": code if code is not None else "",
        }
    }
    headers = {"retry-after": "1"} if error.status == 429 else {}
    headers.update(error.extra.get("headers", {}))  # rate limits say when to come back
    return JsonReply(body, status=error.status, headers=headers)
