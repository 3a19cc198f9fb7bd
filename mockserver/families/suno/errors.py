"""Suno's two error shapes.

The official format passes the upstream's FastAPI-style ``{"detail": "<text>"}`` through
(SunoAI-API/Suno-API main.py); new-api's task routes (and the upload-by-URL route, which shares their
envelope) answer dto.TaskError, ``{"code", "message", "data": null}`` (QuantumNous/new-api dto/task.go).
Key, quota and rate problems are the relay's own envelope.
"""

from __future__ import annotations

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error
from ..openai.task_errors import quota_refusal

DETAIL = "suno_detail"  # raised by official-format handlers
TASK_ERROR = "suno_task_error"  # raised by new-api-format handlers, with the TaskError code in ``code``
_RELAY_STATUSES = (401, 403, 429)


def detail(status: int, message: str) -> ApiError:
    return ApiError(status, DETAIL, message)


def task_error(code: str, message: str | None = None, status: int = 400) -> ApiError:
    return ApiError(status, TASK_ERROR, message or code, code=code)


def _invalid_request_text(error: ApiError) -> str:
    keyword, field = error.extra.get("keyword"), error.param
    if keyword == "anyOf" and not field:
        return "one of prompt, gpt_description_prompt, tags, task or make_instrumental is required"
    if keyword == "required" and field:
        return f"{field} is required"
    return error.message


@error_builder("suno")
def suno_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == DETAIL:
        return JsonReply({"detail": error.message}, status=error.status)
    if error.kind in (errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE):
        return JsonReply({"detail": f"There was an error parsing the body: {error.message}"}, status=400)
    if error.kind == errors.INVALID_REQUEST:
        return JsonReply({"detail": _invalid_request_text(error)}, status=400)
    if error.kind == errors.FAULT and error.status not in _RELAY_STATUSES and error.status >= 400:
        return JsonReply({"detail": error.message}, status=error.status)
    return relay_error(error, context)


@error_builder("suno_task")
def suno_task_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == TASK_ERROR:
        return JsonReply({"code": error.code, "message": error.message, "data": None}, status=error.status)
    if error.kind == errors.INSUFFICIENT_QUOTA:  # new-api's task routes (relay/relay_task.go)
        return quota_refusal()
    if error.kind in (errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE, errors.INVALID_REQUEST):
        return JsonReply({"code": "invalid_request", "message": _invalid_request_text(error), "data": None}, status=400)
    if error.kind == errors.FAULT and error.status not in _RELAY_STATUSES and error.status >= 400:
        code = "do_request_failed" if error.status >= 500 else "invalid_request"
        return JsonReply({"code": code, "message": error.message, "data": None}, status=error.status)
    return relay_error(error, context)
