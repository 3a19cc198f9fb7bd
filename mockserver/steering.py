"""Steering: make the next answers an error, a delay, a canned reply or a fault, without writing a handler.

Rules come from three places and share one model: the admin API (``POST /__mock/rules``), the pytest
fixture (``gptnb.route(...).respond(...)``) and a per-request header (``Prefer: code=429`` as Prism
spells it, or ``X-Mock-Scenario: code=429; delay=200; example=stream``). The fault, physics and
callback words (``drop_after=3``, ``ttft=800``, ``callback_fail=503``) are read by ``faults.grammar``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .config import MAX_DELAY_MS
from .faults import grammar
from .faults.callback_faults import CallbackFault
from .faults.chaos import Chaos
from .faults.physics import Physics
from .faults.plan import FaultPlan
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
    faults: FaultPlan | None = None
    """Stream and connection faults (see faults/plan.py)."""
    physics: Physics | None = None
    """How fast the answer streams (time to first token, tokens per second, jitter)."""
    chaos: Chaos | None = None
    """A fault from a mix, at random but repeatable by seed, instead of a fixed one."""
    callback: CallbackFault | None = None
    """Faults of the callbacks of the task this request creates."""
    side_effect: SideEffect | None = field(default=None, repr=False)
    """Python callable (fixture only): gets the Call, returns a reply, a JSON body, or None to fall through."""
    id: int = 0
    hits: int = 0
    STORED: ClassVar[tuple[str, ...]] = ("contract", "path", "status", "body", "example", "message", "fail_task", "delay_ms", "times", "id")
    """The plain fields a store keeps of a rule, with its faults, physics and chaos in their words (see
    ``fields``); hits are counted apart, and a side effect cannot leave the process."""

    def matches(self, contract_id: str | None, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.path is not None and not fnmatch.fnmatchcase(path, self.path):
            return False
        return fnmatch.fnmatchcase(contract_id or "", self.contract)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, **self.fields(), "hits": self.hits, "python": self.side_effect is not None}

    def fields(self) -> dict[str, Any]:
        """The rule as rule JSON (what the admin API takes and a store keeps), without its id and hits;
        faults, physics and chaos in the scenario words (``rule_from_fields`` reads it back)."""
        found = {name: getattr(self, name) for name in self.STORED if name != "id"}
        for part in (self.faults, self.physics, self.callback):
            if part:
                found.update(part.as_fields())
        if self.chaos is not None:
            found.update(chaos=self.chaos.probability, chaos_mix=list(self.chaos.mix))
        return found

    def fault_summary(self) -> str | None:
        """What this rule does to an answer, in scenario words, for the journal (None: nothing)."""
        parts = [f"code={self.status}"] if self.status is not None and self.status >= 400 and self.body is None else []
        parts += [part.describe() for part in (self.faults, self.callback) if part]
        return "; ".join(parts) or None


STATUS_RULE = (
    "status must be an error status (400-599) to inject the family's error, or 200-599 with a canned body or example; "
    "statuses below 400 without a body are not injected (a client could not tell them from a real answer)"
)
_RULE_FIELDS = (set(Rule.STORED) - {"id"}) | {"chaos", "chaos_mix"} | set(grammar.KEYS)


def rule_from_json(data: Any) -> Rule:
    """A rule from the admin API's JSON, with a clear complaint about anything unexpected."""
    if not isinstance(data, dict):
        raise ScenarioError("a rule is a JSON object")
    unknown = set(data) - _RULE_FIELDS
    if unknown:
        raise ScenarioError(f"unknown rule fields: {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_RULE_FIELDS))}")
    data = dict(data)
    try:
        faults, physics, callback = grammar.parse_items(data)
    except grammar.FaultSpecError as exc:
        raise ScenarioError(str(exc)) from None
    chaos = _chaos(data.pop("chaos", None), data.pop("chaos_mix", None))
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
    return Rule(**{k: v for k, v in data.items() if v is not None or k == "body"}, faults=faults, physics=physics, chaos=chaos, callback=callback)


def rule_from_fields(data: dict[str, Any], hits: int = 0) -> Rule:
    """A rule as ``Rule.fields`` wrote it down (judged when it was made), with its id when it has one."""
    data = dict(data)
    faults, physics, callback = grammar.parse_items(data)
    probability, mix = data.pop("chaos", None), data.pop("chaos_mix", None)
    chaos = None if probability is None else Chaos(probability, tuple(mix)) if mix is not None else Chaos(probability)
    return Rule(**data, faults=faults, physics=physics, chaos=chaos, callback=callback, hits=hits)


def _chaos(probability: Any, mix: Any) -> Chaos | None:
    """``chaos=P`` with an optional ``chaos_mix`` (a list, or ``a|b|c`` in a header); each entry is checked now."""
    if probability is None:
        if mix is not None:
            raise ScenarioError("chaos_mix needs chaos=P (the share of requests that get a fault)")
        return None
    try:
        share = grammar.number("chaos", probability, 0.0, 1.0, "a probability between 0 and 1")
    except grammar.FaultSpecError as exc:
        raise ScenarioError(str(exc)) from None
    if mix is None:
        return Chaos(share)
    entries = mix.split("|") if isinstance(mix, str) else mix
    if not isinstance(entries, list) or not entries or not all(isinstance(e, str) and e.strip() for e in entries):
        raise ScenarioError(f"chaos_mix={mix}: expected scenarios such as reset|drop_after=2|code=503")
    for entry in entries:
        try:
            picked = parse_scenario(entry)
        except ScenarioError as exc:
            raise ScenarioError(f"chaos_mix entry {entry!r}: {exc}") from None
        if picked.chaos is not None or picked.physics is not None:
            raise ScenarioError(f"chaos_mix entry {entry!r}: a mix entry is a fault or a status, not chaos or physics")
    return Chaos(share, tuple(e.strip() for e in entries))


def parse_scenario(value: str) -> Rule:
    """``code=429, delay=200; drop_after=3; no_done`` -> a one-off rule (Prism's ``Prefer`` syntax,
    plus bare flags)."""
    settings: dict[str, str | None] = {}
    for part in value.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, raw = part.partition("=")
        key = key.strip().lower()
        if key in settings:
            raise ScenarioError(f"{key} is given twice")
        settings[key] = raw.strip().strip('"') if sep else None
    try:
        faults, physics, callback = grammar.parse_items(settings)
    except grammar.FaultSpecError as exc:
        raise ScenarioError(str(exc)) from None
    chaos = _chaos(settings.pop("chaos", None), settings.pop("chaos_mix", None))
    bare = [key for key, raw in settings.items() if raw is None and key in _HEADER_KEYS]
    if bare:
        raise ScenarioError(f"{bare[0]} needs a value ({bare[0]}=...)")
    rule = Rule(times=1, faults=faults, physics=physics, chaos=chaos, callback=callback)
    try:
        if "code" in settings:
            rule.status = grammar.integer("code", settings.pop("code"), 100, 599, "", "an HTTP status")
            if rule.status < 400:
                raise ScenarioError(f"code={rule.status}: only error statuses (400-599) can be injected; use a rule with a body for other answers")
        if "delay" in settings:
            rule.delay_ms = grammar.check_ms("delay", settings.pop("delay"))
    except grammar.FaultSpecError as exc:
        raise ScenarioError(str(exc)) from None
    rule.example = settings.pop("example", None)
    rule.message = settings.pop("message", None)
    rule.fail_task = settings.pop("fail", None)
    if settings:
        raise ScenarioError(f"unknown scenario keys: {', '.join(sorted(settings))}; use {', '.join(SCENARIO_KEYS)}")
    return rule


_HEADER_KEYS = ("code", "delay", "example", "message", "fail")
SCENARIO_KEYS = (*_HEADER_KEYS, *grammar.KEYS, "chaos", "chaos_mix")
"""Every word the scenario header understands."""


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
