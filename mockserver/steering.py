"""Steering: make the next answers an error, a delay or a canned reply, without writing a handler.

Rules come from three places and share one model: the admin API (``POST /__mock/rules``), the pytest
fixture (``gptnb.route(...).respond(...)``) and a per-request header (``Prefer: code=429`` as Prism
spells it, or ``X-Mock-Scenario: code=429; delay=200; example=stream``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .config import MAX_DELAY_MS
from .parsing import MAX_JSON_DEPTH, too_deep

if TYPE_CHECKING:
    from .pipeline import Call
    from .store import Store

SCENARIO_HEADERS = ("prefer", "x-mock-scenario")
SideEffect = Callable[["Call"], Any]


class ScenarioError(ValueError):
    """A scenario header or rule that cannot be understood."""


@dataclass
class Rule:
    contract: str = "*"
    """Glob on the contract id (``openai.*``)."""
    path: str | None = None
    """Glob on the request path, when the rule is about paths rather than contracts."""
    status: int | None = None
    """An error status to answer with (the family's error body), or the status of a canned body."""
    body: Any = None
    """A canned JSON body, answered as is."""
    example: str | None = None
    """Answer with this documented example's response."""
    message: str | None = None
    fail_task: str | None = None
    """The task this request creates fails, with this reason (async families)."""
    delay_ms: int = 0
    times: int | None = None
    """Retire the rule after this many matches; None keeps it."""
    side_effect: SideEffect | None = field(default=None, repr=False)
    """Python callable (fixture only): gets the Call, returns a reply, a JSON body, or None to fall through."""
    id: int = 0
    hits: int = 0
    STORED: ClassVar[tuple[str, ...]] = ("contract", "path", "status", "body", "example", "message", "fail_task", "delay_ms", "times", "id")
    """What a store keeps of a rule (hits are counted apart; a side effect cannot leave the process)."""

    def matches(self, contract_id: str | None, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.path is not None and not fnmatch.fnmatchcase(path, self.path):
            return False
        return fnmatch.fnmatchcase(contract_id or "", self.contract)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "contract": self.contract,
            "path": self.path,
            "status": self.status,
            "body": self.body,
            "example": self.example,
            "message": self.message,
            "fail_task": self.fail_task,
            "delay_ms": self.delay_ms,
            "times": self.times,
            "hits": self.hits,
            "python": self.side_effect is not None,
        }


STATUS_RULE = (
    "status must be an error status (400-599) to inject the family's error, or 200-599 with a canned body or example; "
    "statuses below 400 without a body are not injected (a client could not tell them from a real answer)"
)
_RULE_FIELDS = set(Rule.STORED) - {"id"}


def rule_from_json(data: Any) -> Rule:
    """A rule from the admin API's JSON, with a clear complaint about anything unexpected."""
    if not isinstance(data, dict):
        raise ScenarioError("a rule is a JSON object")
    unknown = set(data) - _RULE_FIELDS
    if unknown:
        raise ScenarioError(f"unknown rule fields: {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_RULE_FIELDS))}")
    for name in ("status", "delay_ms", "times"):
        if name in data and data[name] is not None and (not isinstance(data[name], int) or isinstance(data[name], bool) or data[name] < 0):
            raise ScenarioError(f"{name} must be a non-negative integer")
    if data.get("delay_ms") is not None and data["delay_ms"] > MAX_DELAY_MS:
        raise ScenarioError(f"delay_ms must be at most {MAX_DELAY_MS}")
    if data.get("status") is not None:
        canned = data.get("body") is not None or data.get("example") is not None
        if not (200 if canned else 400) <= data["status"] <= 599:
            raise ScenarioError(STATUS_RULE)
    if too_deep(data.get("body")):
        raise ScenarioError(f"body nests deeper than {MAX_JSON_DEPTH} levels")
    for name in ("contract", "path", "example", "message", "fail_task"):
        if name in data and data[name] is not None and not isinstance(data[name], str):
            raise ScenarioError(f"{name} must be a string")
    return Rule(**{k: v for k, v in data.items() if v is not None or k == "body"})


def parse_scenario(value: str) -> Rule:
    """``code=429, delay=200; example=stream`` -> a one-off rule (Prism's ``Prefer`` syntax)."""
    settings: dict[str, str] = {}
    for part in value.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, raw = part.partition("=")
        if not sep:
            raise ScenarioError(f"scenario item {part!r} is not key=value")
        settings[key.strip().lower()] = raw.strip().strip('"')
    rule = Rule(times=1)
    try:
        if "code" in settings:
            rule.status = int(settings.pop("code"))
        if "delay" in settings:
            rule.delay_ms = max(0, int(settings.pop("delay")))
    except ValueError as exc:
        raise ScenarioError(f"scenario numbers must be integers: {value!r}") from exc
    if rule.status is not None and not 400 <= rule.status <= 599:
        raise ScenarioError(f"code={rule.status}: only error statuses (400-599) can be injected; use a rule with a body for other answers")
    if rule.delay_ms > MAX_DELAY_MS:
        raise ScenarioError(f"delay={rule.delay_ms}: at most {MAX_DELAY_MS} ms")
    rule.example = settings.pop("example", None)
    rule.message = settings.pop("message", None)
    rule.fail_task = settings.pop("fail", None)
    if settings:
        raise ScenarioError(f"unknown scenario keys: {', '.join(sorted(settings))}; use code, delay, example, message, fail")
    return rule


class RuleBook:
    """One namespace's rules as a request sees them: read with the namespace, newest first (the most
    recent instruction wins); using one is counted by the store, so ``times`` holds across workers."""

    def __init__(self, store: Store, namespace: str, rules: list[Rule]) -> None:
        self.store = store
        self.namespace = namespace
        self.rules = rules

    async def take(self, contract_id: str | None, path: str) -> Rule | None:
        """The first matching rule that still has uses left, counted as used."""
        for rule in self.rules:  # usually none: the common request costs nothing here
            if rule.matches(contract_id, path) and await self.store.take_rule(self.namespace, rule):
                return rule
        return None
