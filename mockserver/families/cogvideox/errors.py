"""CogVideoX's error body, Zhipu's ``{"error": {"code": "<string>", "message"}}`` (the code is a string).

Relay-level failures (bad key, no channel for the model) never reach here: the generic path answers
them with the relay's own envelope.
"""

from __future__ import annotations

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error

ZHIPU = "zhipu_error"
INVALID_PARAMETERS = "1210"
FIELD_MISSING = "1213"
FIELD_INVALID = "1214"
# Zhipu's codes for statuses a steering rule injects.
_FAULT_CODES = {400: INVALID_PARAMETERS, 429: "1302", 500: "500"}


def field_invalid(field: str, status: int = 400) -> ApiError:
    return ApiError(status, ZHIPU, f"{field} 参数非法。请检查文档", code=FIELD_INVALID)


def _body(code: str, message: str, status: int) -> JsonReply:
    return JsonReply({"error": {"code": code, "message": message}}, status=status)


@error_builder("cogvideox")
def cogvideox_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == ZHIPU and isinstance(error.code, str):
        return _body(error.code, error.message, error.status)
    if error.kind in (errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE):
        return _body(INVALID_PARAMETERS, "API 调用参数有误，请检查文档。", 400)
    if error.kind == errors.INVALID_REQUEST:
        field = error.param or "prompt 或 image_url"  # a violation of the whole body: neither was sent
        if error.extra.get("keyword") in ("required", "anyOf") and error.extra.get("where") == "body":
            return _body(FIELD_MISSING, f"未正常接收到 {field} 参数", 400)
        return _body(FIELD_INVALID, f"{field} 参数非法。请检查文档", 400)
    if error.kind == errors.FAULT and error.status in _FAULT_CODES:
        return _body(_FAULT_CODES[error.status], error.message, error.status)
    return relay_error(error, context)
