"""Steering: answer matching requests with an error, a delay, a canned reply or a fault, without
writing a handler.

Rules come from four places and share one model: the admin API (``POST /__mock/rules``), the pytest
fixture (``gptnb.route(...).respond(...)``, ``gptnb.add_rule({...})``), files of canned replies
(``serve --fixtures``, aimock's fixture files included) and a per-request header (``Prefer:
code=429`` as Prism spells it, or ``X-Mock-Scenario: code=429; delay=200; example=stream``).

A rule is plain data (``rule_to_json`` / ``rule_from_json`` round-trip it); its ``match`` is a pure
function of the request. Rules live in the store, per namespace; the rules of the server's own files
(``serve --fixtures``) are shared by every namespace, each counting its own uses. Which rule answers
(the first that matches, in this order):
1. a scenario header on the request, always;
2. rules by ``priority``, highest first (default 0);
3. at equal priority, rules added at run time (admin API, fixture), newest first;
4. then rules from files loaded into the namespace (the pytest marker, ini key, ``load_fixtures``),
   in the order loaded;
5. then rules from the server's files, in the order given (files of a directory by name, entries as
   written).

The fault, physics, chaos and callback words (``drop_after=3``, ``ttft=800``, ``chaos=0.2``,
``callback_fail=503``) are read by ``faults.grammar``: the same words in the header and as rule fields.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .canned import REPLY_FIELDS, Canned, ReplyError, canned_from_json
from .config import MAX_DELAY_MS
from .faults import grammar
from .faults.callback_faults import CallbackFault
from .faults.chaos import Chaos
from .faults.physics import Physics
from .faults.plan import FaultPlan
from .matching import Match, MatchError
from .streaming import StreamProfile

if TYPE_CHECKING:
    from .pipeline import Call
    from .store import Store

SCENARIO_HEADERS = ("prefer", "x-mock-scenario")
SideEffect = Callable[["Call"], Any]

# Where a rule came from, as GET /__mock/rules shows it (files say "<file>: rules[n]").
ADMIN = "admin"
FIXTURE = "fixture"
HEADER = "header"

# Layers of rules, in the order they are tried at equal priority.
ADDED = 0
"""Added at run time (admin API, fixture, header): newest first."""
FILES = 1
"""Loaded from files into one namespace (the pytest marker, ini key, ``load_fixtures``): as loaded."""
SHARED = 2
"""Loaded from the server's files (``serve --fixtures``), shared by every namespace: as loaded."""


class ScenarioError(ValueError):
    """A scenario header or rule that cannot be understood."""


@dataclass
class Rule:
    contract: str | tuple[str, ...] = "*"
    """Glob on the contract id (``openai.*``), or several."""
    path: str | None = None
    """Glob on the request path, when the rule is about paths rather than contracts."""
    match: Match | None = None
    """Conditions on what the request says (model, last user message, body paths ...)."""
    replies: tuple[Canned, ...] = (Canned(),)
    """What the rule answers: its first use gets the first reply, and so on; the last one repeats."""
    priority: int = 0
    delay_ms: int = 0
    stream: StreamProfile | None = None
    """How the answer's events are paced, when it streams (aimock's ``streamingProfile``)."""
    times: int | None = None
    """Retire the rule after this many uses; None keeps it."""
    faults: FaultPlan | None = None
    """Stream and connection faults (see faults/plan.py)."""
    physics: Physics | None = None
    """How fast the answer arrives (time to first token, tokens per second, jitter), streamed or whole."""
    chaos: Chaos | None = None
    """A fault from a mix, at random but repeatable by seed, instead of a fixed one."""
    callback: CallbackFault | None = None
    """Faults of the callbacks of the task this request creates."""
    name: str | None = None
    source: str = ADMIN
    side_effect: SideEffect | None = field(default=None, repr=False)
    """Python callable (fixture only): gets the Call, returns a reply, a JSON body, or None to fall through."""
    id: int = 0
    hits: int = 0
    contracts: frozenset[str] | None = field(default=None, repr=False)
    """The contracts the rule can answer, worked out when it is added (None: any the globs name)."""
    notes: tuple[str, ...] = ()
    """What did not fit the contracts (kept, not refused, outside strict mode)."""
    layer: int = ADDED
    """Where it is tried among rules of its priority: ADDED, FILES or SHARED."""
    batch: str = ""
    """Rules loaded together (one load of files) count their sequences together, apart from other loads."""

    @property
    def globs(self) -> tuple[str, ...]:
        return (self.contract,) if isinstance(self.contract, str) else self.contract

    def reaches(self, contract_id: str, path: str) -> bool:
        if self.path is not None and not fnmatch.fnmatchcase(path, self.path):
            return False
        if self.contracts is not None:
            return contract_id in self.contracts
        return any(fnmatch.fnmatchcase(contract_id, glob) for glob in self.globs)

    def reply_for(self, use: int) -> Canned:
        return self.replies[min(use, len(self.replies) - 1)]

    @property
    def sequence_key(self) -> str | None:
        """Rules sharing this key count their calls together for ``sequence_index``."""
        if self.match is None or self.match.sequence_index is None:
            return None
        return f"{self.batch}|{self.globs}|{self.path}|{self.match.group}"

    @property
    def order(self) -> tuple[int, int, int]:
        """Where the rule is tried: lower first."""
        return (-self.priority, self.layer, -self.id if self.layer == ADDED else self.id)

    def as_dict(self) -> dict[str, Any]:
        """The rule as the admin API lists it: its JSON form, its id, uses and origin."""
        return {
            "id": self.id,
            **rule_to_json(self),
            "hits": self.hits,
            "source": self.source,
            "layer": LAYER_NAMES[self.layer],
            "notes": list(self.notes),
            "python": self.side_effect is not None,
        }

    def fault_summary(self, reply: Canned) -> str | None:
        """What this rule does to an answer (giving ``reply``), in scenario words, for the journal (None: nothing)."""
        parts = [f"code={reply.status}"] if reply.error is not None else []
        parts += [part.describe() for part in (self.faults, self.callback) if part]
        return "; ".join(parts) or None


FAULT_FIELDS = frozenset({*grammar.KEYS, "chaos", "chaos_mix"})
"""Rule fields in the scenario words (faults/grammar.py), as the header writes them."""
RULE_FIELDS = frozenset({"contract", "path", "match", "reply", "replies", "priority", "delay_ms", "stream", "times", "name", *FAULT_FIELDS})


def rule_to_json(rule: Rule) -> dict[str, Any]:
    """The rule's own fields as JSON (what ``rule_from_json`` reads back); Python side effects stay out."""
    data: dict[str, Any] = {"contract": rule.contract if isinstance(rule.contract, str) else list(rule.contract)}
    for name in ("path", "name", "times"):
        if getattr(rule, name) is not None:
            data[name] = getattr(rule, name)
    if rule.match is not None:
        data["match"] = rule.match.spec
    if len(rule.replies) == 1:
        data["reply"] = rule.replies[0].as_json()
    else:
        data["replies"] = [reply.as_json() for reply in rule.replies]
    if rule.priority:
        data["priority"] = rule.priority
    if rule.delay_ms:
        data["delay_ms"] = rule.delay_ms
    if rule.stream is not None:
        data["stream"] = rule.stream.as_json()
    for part in (rule.faults, rule.physics, rule.callback):
        if part:
            data.update(part.as_fields())
    if rule.chaos is not None:
        data.update(chaos=rule.chaos.probability, chaos_mix=list(rule.chaos.mix))
    return data


def rule_from_json(data: Any, source: str = ADMIN) -> Rule:
    """A rule from its JSON form, with a complaint naming the field for anything unexpected.

    The reply is ``reply`` (one), ``replies`` (in order) or, for one reply, its fields written
    straight into the rule (``{"contract": "openai.*", "status": 503}``).
    """
    if not isinstance(data, dict):
        raise ScenarioError("a rule is a JSON object")
    unknown = set(data) - RULE_FIELDS - REPLY_FIELDS
    if unknown:
        raise ScenarioError(f"unknown rule fields: {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(RULE_FIELDS | REPLY_FIELDS))}")
    data = dict(data)
    try:
        faults, physics, callback = grammar.parse_items(data)
    except grammar.FaultSpecError as exc:
        raise ScenarioError(str(exc)) from None
    chaos = _chaos(data.pop("chaos", None), data.pop("chaos_mix", None))
    try:
        replies = _replies(data)
        match = Match(data["match"]) if data.get("match") is not None else None
        stream = StreamProfile.from_json(data["stream"]) if data.get("stream") is not None else None
    except (ReplyError, MatchError, ValueError) as exc:
        raise ScenarioError(str(exc)) from None
    if stream is not None and physics is not None:
        raise ScenarioError("stream and ttft / tps / jitter both pace the answer; give one")
    for name in ("delay_ms", "times"):
        value = data.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ScenarioError(f"{name} must be a non-negative integer")
    if (data.get("delay_ms") or 0) > MAX_DELAY_MS:
        raise ScenarioError(f"delay_ms must be at most {MAX_DELAY_MS}")
    priority = data.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise ScenarioError("priority must be an integer (higher is tried first)")
    contract = data.get("contract", "*")
    if isinstance(contract, list) and contract and all(isinstance(c, str) for c in contract):
        contract = tuple(contract)
    elif not isinstance(contract, str):
        raise ScenarioError("contract must be a glob on contract ids, or a list of them")
    for name in ("path", "name"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise ScenarioError(f"{name} must be a string")
    return Rule(
        contract=contract,
        path=data.get("path"),
        match=match,
        replies=replies,
        priority=priority,
        delay_ms=data.get("delay_ms") or 0,
        stream=stream,
        times=data.get("times"),
        faults=faults,
        physics=physics,
        chaos=chaos,
        callback=callback,
        name=data.get("name"),
        source=source,
    )


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


def _replies(data: dict[str, Any]) -> tuple[Canned, ...]:
    flat = {k: v for k, v in data.items() if k in REPLY_FIELDS}
    given = [name for name, here in (("reply", "reply" in data), ("replies", "replies" in data), ("reply fields", bool(flat))) if here]
    if len(given) > 1:
        raise ReplyError(f"give the reply one way: {' or '.join(given)}, not both")
    if "replies" in data:
        if not isinstance(data["replies"], list) or not data["replies"]:
            raise ReplyError("replies: expected a non-empty list of replies, used in order")
        return tuple(canned_from_json(reply, f"replies[{i}]") for i, reply in enumerate(data["replies"]))
    if "reply" in data:
        return (canned_from_json(data["reply"], "reply"),)
    return (canned_from_json(flat, "reply"),)


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
    reply: dict[str, Any] = {}
    delay = 0
    try:
        if "code" in settings:
            reply["status"] = grammar.integer("code", settings.pop("code"), 100, 599, "", "an HTTP status")
            if reply["status"] < 400:
                raise ScenarioError(f"code={reply['status']}: only error statuses (400-599) can be injected; use a rule with a body for other answers")
        if "delay" in settings:
            delay = grammar.check_ms("delay", settings.pop("delay"))
    except grammar.FaultSpecError as exc:
        raise ScenarioError(str(exc)) from None
    for key, name in (("example", "example"), ("message", "message"), ("fail", "fail_task")):
        if key in settings:
            reply[name] = settings.pop(key)
    if settings:
        raise ScenarioError(f"unknown scenario keys: {', '.join(sorted(settings))}; use {', '.join(SCENARIO_KEYS)}")
    if "example" in reply and reply.get("status", 0) >= 400:
        del reply["status"]  # the documented example carries its own status
    try:
        replies = (canned_from_json(reply),)
    except ReplyError as exc:
        raise ScenarioError(str(exc)) from None
    return Rule(replies=replies, delay_ms=delay, times=1, faults=faults, physics=physics, chaos=chaos, callback=callback, source=HEADER)


_HEADER_KEYS = ("code", "delay", "example", "message", "fail")
SCENARIO_KEYS = (*_HEADER_KEYS, *grammar.KEYS, "chaos", "chaos_mix")
"""Every word the scenario header understands."""


@dataclass(frozen=True)
class Taken:
    """The rule that answers a request, and which of its replies this use gets."""

    rule: Rule
    reply: Canned


class RuleBook:
    """One namespace's rules as a request sees them: read with the namespace, in the order they are
    tried. Uses and sequence positions are counted by the store, so ``times``, ordered replies and
    ``sequence_index`` hold across workers and replicas."""

    def __init__(self, store: Store, namespace: str, rules: list[Rule]) -> None:
        self.store = store
        self.namespace = namespace
        self.rules = rules

    async def take(self, call: Call) -> Taken | None:
        """The first rule that answers ``call`` and still has uses left, counted as used."""
        contract_id = call.contract.id
        positions: dict[str, int] = {}  # each sequence counts this call once, however many rules share it
        for rule in self.rules:
            if not rule.reaches(contract_id, call.path):
                continue
            if rule.match is not None:
                if not rule.match(call):
                    continue
                key = rule.sequence_key
                if key is not None:
                    if key not in positions:
                        counted = await self.store.count(self.namespace, SEQUENCE + key)
                        assert counted is not None  # a counter without a limit always counts
                        positions[key] = counted - 1
                    if positions[key] != rule.match.sequence_index:
                        continue
            use = await self.store.take_rule(self.namespace, rule)
            if use:
                return Taken(rule, rule.reply_for(use - 1))
        return None


SEQUENCE = "sequence:"
"""Store counters of calls that met a sequence's conditions are named this, then the sequence's key."""


def tried_first(rules: Iterable[Rule]) -> list[Rule]:
    """Rules in the order they are tried (see the module's docstring)."""
    return sorted(rules, key=lambda rule: rule.order)


LAYER_NAMES = {ADDED: "added", FILES: "files", SHARED: "shared"}


def rule_record(rule: Rule) -> dict[str, Any]:
    """What a store keeps of a rule, without its id (the store numbers rules) and hits (counted apart)."""
    if rule.side_effect is not None:
        raise TypeError("a rule with a Python side effect lives only in the process that made it (use the gptnb fixture)")
    contracts = sorted(rule.contracts) if rule.contracts is not None else None
    return {**rule_to_json(rule), "source": rule.source, "layer": rule.layer, "batch": rule.batch, "notes": list(rule.notes), "contracts": contracts}


def rule_from_record(data: dict[str, Any], hits: int) -> Rule:
    """The rule a store kept (as checked when it was added: it is not judged again)."""
    kept = {name: data.pop(name) for name in ("id", "source", "layer", "batch", "notes", "contracts")}
    rule = rule_from_json(data, kept["source"])
    rule.id, rule.layer, rule.batch, rule.notes, rule.hits = kept["id"], kept["layer"], kept["batch"], tuple(kept["notes"]), hits
    rule.contracts = frozenset(kept["contracts"]) if kept["contracts"] is not None else None
    return rule
