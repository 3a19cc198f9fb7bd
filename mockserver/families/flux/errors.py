"""BFL's errors as its FastAPI service writes them: ``{"detail": [{"loc", "msg", "type"}]}`` (422) or
``{"detail": "..."}``. Token problems stay the relay's OpenAI envelope."""

from __future__ import annotations

import re

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error

# Raised by handlers for what BFL itself refuses: the body's ``detail`` travels in ``extra``.
REFUSAL = "flux_refusal"

# JSON Schema keywords -> the pydantic error types FastAPI reports.
_PYDANTIC_TYPES = {
    "required": "missing",
    "maximum": "less_than_equal",
    "minimum": "greater_than_equal",
    "maxLength": "string_too_long",
    "minLength": "string_too_short",
    "multipleOf": "multiple_of",
    "enum": "enum",
    "pattern": "string_pattern_mismatch",
    "type": "type_error",
}
_VIOLATION = re.compile(r"^(?P<where>\w+): (?P<path>.*?): (?P<msg>.*) \[(?P<keyword>\w+)\]$", re.S)


def refusal(status: int, detail: object) -> ApiError:
    return ApiError(status, REFUSAL, str(detail), extra={"detail": detail})


def _detail_item(violation: str) -> dict[str, object]:
    found = _VIOLATION.match(violation)
    if not found:
        return {"loc": ["body"], "msg": violation, "type": "value_error"}
    path = found["path"]
    loc: list[object] = [found["where"]]
    loc += [int(p) if p.isdigit() else p for p in path.split("/")] if path != "(root)" else []
    return {"loc": loc, "msg": found["msg"], "type": _PYDANTIC_TYPES.get(found["keyword"], "value_error")}


@error_builder("flux")
def flux_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == "mock_bug" or (error.kind == errors.FAULT and error.status == 401):
        return relay_error(error, context)
    if error.kind == REFUSAL:
        return JsonReply({"detail": error.extra["detail"]}, status=error.status)
    if error.kind == errors.INVALID_REQUEST:
        if error.extra.get("where") == "path":  # a model BFL has no route for
            return JsonReply({"detail": "Not Found"}, status=404)
        return JsonReply({"detail": [_detail_item(v) for v in error.extra.get("violations", [])]}, status=422)
    if error.kind == errors.INVALID_JSON:
        return JsonReply({"detail": [{"loc": ["body", 0], "msg": "JSON decode error", "type": "json_invalid"}]}, status=422)
    if error.kind == errors.UNSUPPORTED_MEDIA_TYPE:
        item = {"loc": ["body"], "msg": "Input should be a valid dictionary or object to extract fields from", "type": "model_attributes_type"}
        return JsonReply({"detail": [item]}, status=422)
    if error.kind == errors.TOO_LARGE:
        return JsonReply({"detail": "Request Entity Too Large"}, status=413)
    return JsonReply({"detail": error.message}, status=error.status)
