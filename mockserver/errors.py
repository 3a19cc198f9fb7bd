"""Errors the mock answers with, and the per-family builders that give them each upstream's shape.

Generic code raises ``ApiError`` with a *kind* (what went wrong) and a status; the contract names the
family builder that turns it into that family's body. Relay-level failures (auth, routing, unknown
model) are answered by the relay's own builder whatever the family, as the real gateway does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .replies import JsonReply

if TYPE_CHECKING:
    from .config import Settings
    from .contracts import Contract
    from .pipeline import Call

# The kinds generic code raises. Families may raise their own kinds too (e.g. task_not_found).
UNAUTHORIZED = "unauthorized"
NOT_FOUND = "not_found"
INVALID_JSON = "invalid_json"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
INVALID_REQUEST = "invalid_request"
TOO_LARGE = "too_large"
NO_CHANNEL = "no_channel"
FAULT = "fault"  # injected by a steering rule or scenario header
RATE_LIMITED = "rate_limited"  # the relay's rate or concurrency limits (429)
TOKEN_EXHAUSTED = "token_exhausted"  # the key's quota is used up: refused as it authenticates (401)
INSUFFICIENT_QUOTA = "insufficient_quota"  # not enough quota left for this request: each format's refusal
STEERING = "steering"  # a scenario header or rule the mock cannot follow: its own 400 (relay shape), naming it
STORE_UNAVAILABLE = "store_unavailable"  # the state store (Redis) cannot be reached

RELAY_KINDS = frozenset({UNAUTHORIZED, NOT_FOUND, NO_CHANNEL, RATE_LIMITED, TOKEN_EXHAUSTED, STEERING})


class ApiError(Exception):
    """An answer that is an error: raised anywhere on the request path, shaped by a family builder."""

    def __init__(
        self,
        status: int,
        kind: str,
        message: str,
        *,
        param: str | None = None,
        code: str | int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.param = param
        self.code = code
        self.extra = extra or {}


def no_channel(group: str, model: str) -> ApiError:
    """The relay's 503 for a model no channel of the caller's group serves (middleware/distributor.go)."""
    return ApiError(503, NO_CHANNEL, f"当前分组 {group} 下对于模型 {model} 无可用渠道", code="model_not_found")


@dataclass(frozen=True)
class ErrorContext:
    """What a builder may need beside the error: the instance's settings and, once known, the call."""

    settings: Settings
    request_id: str
    call: Call | None = None
    contract: Contract | None = None
    """The contract the request reached, when routing got that far (also before a Call exists)."""


ErrorBuilder = Callable[[ApiError, ErrorContext], JsonReply]

_builders: dict[str, ErrorBuilder] = {}
RELAY = "relay"


def error_builder(name: str) -> Callable[[ErrorBuilder], ErrorBuilder]:
    """Register a family's error builder under the name contracts use in their ``errors`` field."""

    def register(builder: ErrorBuilder) -> ErrorBuilder:
        _builders[name] = builder
        return builder

    return register


def build_error(error: ApiError, context: ErrorContext, family_builder: str | None) -> JsonReply:
    name = RELAY if error.kind in RELAY_KINDS or family_builder is None else family_builder
    builder = _builders.get(name) or _builders[RELAY]
    return builder(error, context)


def answer_error(exc: Exception, context: ErrorContext, family_builder: str | None, what: str) -> JsonReply:
    """The answer to a request that failed with ``exc``: the family's error body, a 503 when the store
    is unreachable, and a plain 500 for a bug in the mock (logged with ``what`` was being done)."""
    from .store import StoreUnavailable  # here: the store's records import what imports this module

    if isinstance(exc, ApiError):
        return build_error(exc, context, family_builder)
    if isinstance(exc, StoreUnavailable):
        error = ApiError(503, STORE_UNAVAILABLE, f"gptnb-mock state store unavailable, try again: {exc}")
        return build_error(error, context, family_builder)
    logging.getLogger("gptnb_mock").error("gptnb-mock failed on %s", what, exc_info=exc)
    return build_error(ApiError(500, "mock_bug", "gptnb-mock internal error (see its log)"), ErrorContext(context.settings, context.request_id, context.call), None)


def known_builders() -> frozenset[str]:
    return frozenset(_builders)
