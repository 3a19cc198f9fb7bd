"""Runway's two error shapes: the v1 (DuoMi) format shares Pika's builder; the official API answers
``{"error": "<human-readable problem>"}`` (400 bad input, 404 unknown task) and leaves key, quota and
channel problems to the relay's envelope (Runway's API reference (docs.dev.runwayml.com)).
"""

from __future__ import annotations

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error
from ..pika.errors import duomi_error

# Raised by the official handlers with the HTTP status Runway uses.
OFFICIAL = "runwayml_error"

error_builder("runway")(duomi_error)


def bad_input(message: str) -> ApiError:
    return ApiError(400, OFFICIAL, message)


def task_not_found() -> ApiError:
    return ApiError(404, OFFICIAL, "Task not found")


@error_builder("runwayml")
def runwayml_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == OFFICIAL:
        return JsonReply({"error": error.message}, status=error.status)
    if error.kind in (errors.INVALID_REQUEST, errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE, errors.TOO_LARGE):
        field = f"{error.param}: " if error.param else ""
        return JsonReply({"error": f"Invalid input: {field}{error.message.split(': ', 2)[-1]}"}, status=400)
    if error.kind == errors.FAULT and 400 <= error.status < 500 and error.status not in (401, 403, 429):
        return JsonReply({"error": error.message}, status=error.status)
    return relay_error(error, context)
