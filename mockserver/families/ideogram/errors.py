"""Ideogram's error body, ``{"error": "..."}``: documented for 422 safety failures; the 400 "Invalid
input provided." has no documented body, so it takes the same shape with the broken rule appended."""

from __future__ import annotations

import re

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error

# Raised by handlers for what Ideogram itself refuses (bad upload, conflicting fields, safety).
REFUSAL = "ideogram_refusal"
INVALID_INPUT = "Invalid input provided."
PROMPT_UNSAFE = "Prompt provided failed safety check due to the inclusion of prohibited content."
_KEYWORD = re.compile(r" \[[A-Za-z]+\]$")


def invalid_input(problem: str) -> ApiError:
    return ApiError(400, REFUSAL, f"{INVALID_INPUT} {problem}")


def unsafe_prompt() -> ApiError:
    return ApiError(422, REFUSAL, PROMPT_UNSAFE)


def _problem(error: ApiError) -> str:
    violations = error.extra.get("violations") or []
    if not violations:
        return error.message.removeprefix("Invalid request: ")
    _, _, detail = violations[0].partition(": ")
    return _KEYWORD.sub("", detail).replace("/", ".")


@error_builder("ideogram")
def ideogram_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == "mock_bug" or (error.kind == errors.FAULT and error.status == 401):
        return relay_error(error, context)
    if error.kind == REFUSAL:
        return JsonReply({"error": error.message}, status=error.status)
    if error.kind in (errors.INVALID_REQUEST, errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE):
        return JsonReply({"error": f"{INVALID_INPUT} {_problem(error)}"}, status=400)
    return JsonReply({"error": error.message}, status=error.status)
