"""Checks: plain named functions, each testing one property of a response against its contract.

Every check takes an ``Exchange`` (one response, whatever client fetched it) and raises
``CheckFailure`` naming the field and the rule when the property does not hold. ``assert_conforms``
runs every check that applies and reports all failures at once:

    response = httpx.post(url, json=body, headers=auth)
    assert_conforms(response, "openai.chat.completions")
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mockserver.contracts import Contract, ContractRegistry, default_registry
from mockserver.lifecycles import Lifecycle
from mockserver.responses import ResponseJudge


class CheckFailure(AssertionError):
    """One check that did not hold: ``check`` is its name, the message says which field broke which rule."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"{check}: {message}")
        self.check = check
        self.message = message


@dataclass
class Exchange:
    """A response as the checks see it: status, headers (lower-case names), body bytes."""

    contract: Contract
    status: int
    headers: Mapping[str, str]
    content: bytes
    request: dict[str, Any] = field(default_factory=dict)

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


def exchange_from(response: Any, contract: Contract) -> Exchange:
    """Wrap an httpx, httpx2 or requests response (anything with status_code, headers, content)."""
    headers = {str(k).lower(): str(v) for k, v in response.headers.items()}
    request = getattr(response, "request", None)
    described = {"method": getattr(request, "method", ""), "url": str(getattr(request, "url", ""))} if request is not None else {}
    return Exchange(contract, int(response.status_code), headers, bytes(response.content), described)


def _judge(exchange: Exchange, registry: ContractRegistry) -> ResponseJudge:
    return ResponseJudge(exchange.contract, registry)


def not_a_server_error(exchange: Exchange, registry: ContractRegistry) -> None:
    if exchange.status >= 500 and not _documented_refusal(exchange):
        raise CheckFailure("not_a_server_error", f"HTTP {exchange.status}: {exchange.text()[:200]}")


def _documented_refusal(exchange: Exchange) -> bool:
    """A route the relay registers without implementing it documents no success, only the exact 5xx it
    answers instead (new-api's 501 api_not_implemented); that answer is the route working as it should."""
    responses = exchange.contract.responses
    return str(exchange.status) in responses and not any(key.startswith("2") or key == "default" for key in responses)


def status_code_conformance(exchange: Exchange, registry: ContractRegistry) -> None:
    if exchange.contract.response_key(exchange.status) is None:
        allowed = ", ".join(sorted(exchange.contract.responses))
        raise CheckFailure("status_code_conformance", f"HTTP {exchange.status} is not among the documented statuses ({allowed})")


def content_type_conformance(exchange: Exchange, registry: ContractRegistry) -> None:
    found = _judge(exchange, registry).media(exchange.status, exchange.media_type)
    if isinstance(found, str) and exchange.contract.response_key(exchange.status) is not None:
        raise CheckFailure("content_type_conformance", found)


def response_schema_conformance(exchange: Exchange, registry: ContractRegistry) -> None:
    judge = _judge(exchange, registry)
    found = judge.media(exchange.status, exchange.media_type)
    if isinstance(found, str) or "schema" not in found[1]:
        return  # status, type and streams are other checks' business
    body: Any = exchange.text()
    if exchange.media_type.endswith("json"):
        try:
            body = exchange.json()
        except ValueError as exc:
            raise CheckFailure("response_schema_conformance", f"body is not JSON ({exc}): {exchange.text()[:120]!r}") from None
    violations = judge.body_violations(exchange.status, exchange.media_type, body)
    if violations:
        raise CheckFailure("response_schema_conformance", "; ".join(violations))


def sse_conformance(exchange: Exchange, registry: ContractRegistry) -> None:
    """Framing (data: lines, blank-line separators), every event's schema, and the terminator."""
    if exchange.media_type != "text/event-stream":
        return
    problems = _judge(exchange, registry).stream_violations(exchange.status, exchange.text())
    if problems:
        raise CheckFailure("sse_conformance", "; ".join(problems[:5]))


def error_shape_conformance(exchange: Exchange, registry: ContractRegistry) -> None:
    """An error answer (4xx/5xx) carries the family's error body."""
    if exchange.status < 400:
        return
    try:
        body = exchange.json()
    except ValueError:
        raise CheckFailure("error_shape_conformance", f"HTTP {exchange.status} error body is not JSON: {exchange.text()[:120]!r}") from None
    violations = _judge(exchange, registry).body_violations(exchange.status, "application/json", body)
    if violations:
        raise CheckFailure("error_shape_conformance", f"HTTP {exchange.status} error body is not in {exchange.contract.errors}'s shape: " + "; ".join(violations))


def websocket_conformance(frames: Sequence[Any], contract: Contract, registry: ContractRegistry | None = None) -> None:
    """Every server frame of a WebSocket session (parsed JSON) satisfies the contract's event schema."""
    judge = ResponseJudge(contract, registry or default_registry())
    problems = [v for index, frame in enumerate(frames) for v in judge.frame_violations(101, frame, index)]
    if problems:
        raise CheckFailure("websocket_conformance", "; ".join(problems[:5]))


def task_lifecycle_conformance(statuses: Sequence[str | int], lifecycle: Lifecycle) -> None:
    """Statuses a client saw while polling: each known, none going backwards, ending in a terminal one."""
    unknown = [s for s in statuses if lifecycle.rank(s) is None]
    if unknown:
        raise CheckFailure("task_lifecycle_conformance", f"unknown status word(s) {unknown}; {lifecycle.name} uses {lifecycle.words()}")
    for before, after in zip(statuses, statuses[1:]):
        if lifecycle.rank(after) < lifecycle.rank(before):  # type: ignore[operator]
            raise CheckFailure("task_lifecycle_conformance", f"status went backwards: {before} -> {after} (seen: {list(statuses)})")
    if statuses and statuses[-1] not in lifecycle.terminal:
        raise CheckFailure("task_lifecycle_conformance", f"the task never reached a terminal status (seen: {list(statuses)})")


# What "conforms to the contract" means; a documented 503 conforms, so not_a_server_error is apart.
RESPONSE_CHECKS: tuple[Callable[[Exchange, ContractRegistry], None], ...] = (
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    sse_conformance,
    error_shape_conformance,
)


def failures(exchange: Exchange, registry: ContractRegistry | None = None, checks: Iterable[Callable[[Exchange, ContractRegistry], None]] = RESPONSE_CHECKS) -> list[CheckFailure]:
    registry = registry or default_registry()
    found = []
    for check in checks:
        try:
            check(exchange, registry)
        except CheckFailure as failure:
            found.append(failure)
    return found


def assert_conforms(response: Any, contract_id: str, *, registry: ContractRegistry | None = None) -> None:
    """Raise AssertionError listing every way ``response`` breaks contract ``contract_id``."""
    registry = registry or default_registry()
    exchange = exchange_from(response, registry[contract_id])
    found = failures(exchange, registry)
    if found:
        lines = "\n  ".join(str(f) for f in found)
        raise AssertionError(f"{contract_id}: HTTP {exchange.status} response does not conform:\n  {lines}")
