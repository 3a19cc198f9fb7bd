"""Docmee's error body: ``{"code": <non-zero int>, "message"}`` with HTTP 200, whatever went wrong.

Docmee answers bad parameters, unknown ids and refused features alike in its 200 envelope (its error
codes, https://docmee.cn/open-platform/api); only what the relay itself refuses (bad GPTNB key, injected
429/5xx) keeps new-api's envelope.
"""

from __future__ import annotations

from ... import errors
from ...errors import ApiError, ErrorContext, error_builder
from ...replies import JsonReply
from ..openai.errors import relay_error

# Raised by handlers with the Docmee code in ``code``.
DOCMEE = "docmee_error"

GENERIC = -1
RESTRICTED = 88
TOKEN_INVALID = 98
NOT_FOUND = 1001
NO_PERMISSION = 1003
SENSITIVE = 1006
AI_ERROR = 1009
BAD_PARAMETER = 1010


def business_error(code: int, message: str) -> ApiError:
    return ApiError(200, DOCMEE, message, code=code)


def missing(field: str) -> ApiError:
    return business_error(BAD_PARAMETER, f"参数错误：{field}不能为空")


def not_found() -> ApiError:
    return business_error(NOT_FOUND, "数据不存在")


@error_builder("docmee")
def docmee_error(error: ApiError, context: ErrorContext) -> JsonReply:
    if error.kind == DOCMEE and isinstance(error.code, int):
        return JsonReply({"code": error.code, "message": error.message})
    if error.kind in (errors.INVALID_JSON, errors.UNSUPPORTED_MEDIA_TYPE):
        # Spring cannot bind the body: Docmee's generic failure ("wrong field name" in its error codes).
        return JsonReply({"code": GENERIC, "message": "参数错误"})
    if error.kind == errors.INVALID_REQUEST:
        field = error.param or "body"
        if error.extra.get("keyword") == "required":
            return JsonReply({"code": BAD_PARAMETER, "message": f"参数错误：{field}不能为空"})
        detail = error.message.split(": ", 2)[-1]
        return JsonReply({"code": BAD_PARAMETER, "message": f"参数错误：{field} {detail}"})
    return relay_error(error, context)
