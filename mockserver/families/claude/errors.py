"""Anthropic's error body, ``{"type": "error", "error": {"type", "message"}}``.

new-api writes it for every error inside a Claude-format relay (controller/relay.go); the relay's
middleware (bad key, no channel) answers before that, in the relay's own envelope, which the generic
error path already chooses for those kinds. ``error.type`` is Anthropic's word for the status
(https://docs.anthropic.com/en/api/errors), except for the relay's own refusals inside the Claude path:
a quota below the request's price keeps new-api's error type ``new_api_error`` (types/error.go
ToClaudeError takes the NewAPIError's type).
"""

from __future__ import annotations

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


@error_builder("claude")
def claude_error(error: ApiError, context: ErrorContext) -> JsonReply:
    kind = _TYPES.get(error.status) or ("api_error" if error.status >= 500 else "invalid_request_error")
    if error.kind == errors.INSUFFICIENT_QUOTA:
        kind = context.settings.error_type
    headers = {"retry-after": "1"} if error.status in (429, 529) else {}
    return JsonReply({"type": "error", "error": {"type": kind, "message": error.message}}, status=error.status, headers=headers)
