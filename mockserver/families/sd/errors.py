"""Stability's two error shapes: v2beta ``{"id", "name", "errors"}`` and v1 ``{"id", "name", "message"}``.

Both builders read the same ApiErrors; only the body differs. Relay-level failures (token, quota,
channel) keep the relay's OpenAI envelope, as the gateway answers them before Stability sees the call.
"""

from __future__ import annotations

import hashlib
import re
import uuid

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error

# Raised by handlers for what Stability itself refuses; the error name travels in ``extra``.
STABILITY = "stability_refusal"

# Stability's names for the statuses a steering rule may inject.
_NAMES_BY_STATUS = {
    400: "bad_request",
    403: "content_moderation",
    404: "not_found",
    413: "payload_too_large",
    422: "invalid_language",
    429: "rate_limit_exceeded",
    500: "internal_error",
}
_V1_NAMES_BY_STATUS = {**_NAMES_BY_STATUS, 403: "permission_denied", 500: "server_error"}
_KEYWORD = re.compile(r" \[[A-Za-z]+\]$")


def refusal(status: int, name: str, problem: str) -> ApiError:
    """Stability turning the request down: ``problem`` reads ``"<field>: <what is wrong>"``."""
    return ApiError(status, STABILITY, problem, extra={"name": name})


def _problems(error: ApiError) -> list[str]:
    """Schema violations as Stability words them: ``"<field>: <problem>"``, one per broken rule."""
    found = []
    for violation in error.extra.get("violations", []):
        _, _, detail = violation.partition(": ")  # drop "body" / "header" / "path"
        location, _, message = _KEYWORD.sub("", detail).partition(": ")
        found.append(f"{location.replace('/', '.') if location != '(root)' else 'request'}: {message}")
    return found or [error.message]


def _name_and_problems(error: ApiError, names: dict[int, str]) -> tuple[int, str, list[str]]:
    if error.kind == STABILITY:
        return error.status, error.extra["name"], [error.message]
    if error.kind == errors.INVALID_REQUEST:
        return 400, "bad_request", _problems(error)
    if error.kind in (errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE):
        return 400, "bad_request", [f"request: {error.message.removeprefix('Invalid request: ')}"]
    if error.kind == errors.TOO_LARGE:
        return 413, "payload_too_large", [f"body: {error.message}"]
    return error.status, names.get(error.status, "internal_error" if error.status >= 500 else "bad_request"), [error.message]


def _from_relay(error: ApiError) -> bool:
    # Token problems are the gateway's, whatever the family; so is a crash inside the mock.
    return error.kind == "mock_bug" or (error.kind == errors.FAULT and error.status == 401)


@error_builder("stability")
def stability_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if _from_relay(error):
        return relay_error(error, context)
    status, name, problems = _name_and_problems(error, _NAMES_BY_STATUS)
    body = {"id": hashlib.blake2b(context.request_id.encode(), digest_size=16).hexdigest(), "name": name, "errors": problems}
    return JsonReply(body, status=status)


@error_builder("stability_v1")
def stability_v1_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if _from_relay(error):
        return relay_error(error, context)
    status, name, problems = _name_and_problems(error, _V1_NAMES_BY_STATUS)
    return _v1_body(context, status, name, "; ".join(problems))


def _v1_body(context: ErrorContext, status: int, name: str, message: str) -> JsonReply:
    request_uuid = uuid.UUID(bytes=hashlib.blake2b(context.request_id.encode(), digest_size=16).digest(), version=4)
    return JsonReply({"id": str(request_uuid), "name": name, "message": message}, status=status)
