"""PicWish's error body: ``{"status": <the HTTP status>, "message": "..."}``.

Relay-level failures (no key, banned user) keep the relay's own envelope, as GPTNB answers them
before the request reaches the provider.
"""

from __future__ import annotations

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error

TASK_NOT_FOUND = "picwish_task_not_found"

# The body schema states the image source as a root anyOf and the inpaint mask group as a root
# oneOf, so the keyword alone says which rule a request broke.
_GROUP_MESSAGES = {
    "anyOf": "image_file or image_url is required",
    "oneOf": "exactly one of mask_file, mask_url or rectangles is required",
}


# What PicWish answers itself; anything else (a mock bug) gets the relay's envelope.
_OWN_KINDS = (errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE, errors.INVALID_REQUEST, errors.TOO_LARGE, errors.FAULT, TASK_NOT_FOUND)


def bad_parameter(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, errors.INVALID_REQUEST, message, param=param)


def task_not_found() -> ApiError:
    return ApiError(404, TASK_NOT_FOUND, "task not found")


def _message(error: ApiError) -> str:
    if error.kind == errors.INVALID_REQUEST and not error.param and error.extra.get("where") == "body":
        return _GROUP_MESSAGES.get(error.extra.get("keyword", ""), error.message)
    return error.message.removeprefix("Invalid request: ")


@error_builder("picwish")
def picwish_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == errors.FAULT and error.status in (401, 403):
        return relay_error(error, context)
    if error.kind in _OWN_KINDS:
        return JsonReply({"status": error.status, "message": _message(error)}, status=error.status)
    return relay_error(error, context)
