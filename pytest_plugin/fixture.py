"""The object tests hold: a respx-like router whose default answer is the contract-driven fake.

``gptnb.route("openai.chat.completions").respond(json={...})`` replaces the answer, ``.fail(429)``
injects the family's own error, ``.mock(side_effect=fn)`` lets Python decide, and ``gptnb.calls.last``
is the journal of what the code under test sent. Everything a test changes is rolled back after it.
The same object serves the in-process mock and a served one (see ``controls``).
"""

from __future__ import annotations

import difflib
import fnmatch
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mockserver import rulefiles
from mockserver.canned import Canned, ErrorReply, TaskOutcome
from mockserver.contracts import Contract, ContractRegistry
from mockserver.faults.chaos import DEFAULT_MIX
from mockserver.journal import JournalEntry
from mockserver.matching import Match
from mockserver.quota.limits import Limit, limit_from_fields
from mockserver.quota.prices import parse_amount
from mockserver.replies import BinaryReply, JsonReply, Reply, TextReply
from mockserver.rulecheck import prepare
from mockserver.steering import FIXTURE, Rule, parse_scenario, rule_from_json
from mockserver.tasks import TaskView

from .controls import Controls
from .side_effects import answering


class CallList(list[JournalEntry]):
    """Recorded calls, oldest first, as respx's CallList reads."""

    @property
    def last(self) -> JournalEntry:
        if not self:
            raise AssertionError("no calls were made")
        return self[-1]

    @property
    def called(self) -> bool:
        return bool(self)

    @property
    def call_count(self) -> int:
        return len(self)


class MockRoute:
    """The steering handle for one contract (or a glob of contracts, or a path glob), optionally
    narrowed by a ``match`` on what the request says (see the README's "Canned replies from files")."""

    def __init__(self, mock: GptnbMock, contract: str, path: str | None, match: dict[str, Any] | None = None) -> None:
        self._mock = mock
        self.contract = contract
        self.path = path
        self.match = match
        self._compiled = Match(match) if match is not None else None
        self._rules: set[int] = set()

    def _add(self, reply: Canned | None = None, *, judged: bool = True, **rule: Any) -> MockRoute:
        added = Rule(contract=self.contract, path=self.path, match=self._compiled, replies=(reply or Canned(),), source=FIXTURE, **rule)
        self._rules.add(self._mock.keep(added, judged=judged).id)
        return self

    def respond(
        self,
        status: int = 200,
        json: Any = None,
        *,
        text: str | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        times: int | None = None,
    ) -> MockRoute:
        """Answer with exactly this (JSON by default; ``text`` or raw ``content`` otherwise). It is judged
        against the contract as it is served: in strict mode a misfit fails the test, naming the request."""
        if json is not None and text is None and content is None and content_type is None and not headers:
            return self._add(Canned(body=json, status=status), times=times, judged=False)  # a plain rule: any mock can hold it
        reply: Reply
        if content is not None:
            reply = BinaryReply(content, media_type=content_type or "application/octet-stream", status=status, headers=headers or {})
        elif text is not None:
            reply = TextReply(text, status=status, media_type=content_type or "text/plain", headers=headers or {})
        else:
            reply = JsonReply(json, status=status, headers=headers or {}, media_type=content_type or "application/json")
        return self._add(side_effect=lambda call: reply, times=times)

    def fail(self, status: int, message: str | None = None, *, times: int | None = None) -> MockRoute:
        """Answer with the family's own error body for ``status`` (429, 500, 503 …)."""
        if not 400 <= status <= 599:
            raise ValueError(f"fail({status}): only error statuses (400-599) are injected; use .respond(status=...) for other answers")
        return self._add(Canned(error=ErrorReply(message or f"injected fault: HTTP {status}"), status=status), times=times)

    def fail_task(self, reason: str = "failed by the test", *, times: int | None = None) -> MockRoute:
        """Accept the request, but the task it creates fails (with the family's failure fields)."""
        return self._add(Canned(task=TaskOutcome(fail=reason)), times=times)

    def finish_task(self, *, images: Sequence[str] = (), audio: Sequence[str] = (), videos: Sequence[str] = (), times: int | None = None) -> MockRoute:
        """Accept the request; the task it creates finishes, on the clock, with these media URLs."""
        urls = {kind: tuple(given) for kind, given in (("images", images), ("audio", audio), ("videos", videos)) if given}
        if not urls:
            raise ValueError("finish_task needs images, audio or videos URLs")
        return self._add(Canned(task=TaskOutcome(urls=urls)), times=times)

    def reply(
        self,
        content: str | None = None,
        *,
        tool_calls: Sequence[dict[str, Any]] | None = None,
        refusal: str | None = None,
        embedding: Sequence[float] | Sequence[Sequence[float]] | None = None,
        stream: dict[str, float] | None = None,
        times: int | None = None,
    ) -> MockRoute:
        """Answer as the model would with exactly this turn (or embedding), in the contract's own
        format: same body shape, stream framing and usage as a generated answer."""
        spec: dict[str, Any] = {"content": content, "tool_calls": tool_calls, "refusal": refusal, "embedding": embedding}
        rule = {"reply": {k: v for k, v in spec.items() if v is not None}, "times": times, "stream": stream}
        return self._add_json(rule)

    def replies(self, *replies: dict[str, Any], times: int | None = None) -> MockRoute:
        """Answer the first call with the first reply, the next with the next; the last one repeats.

        Each reply is written as in a fixture file: ``{"content": ...}``, ``{"error": ..., "status": 429}`` …
        """
        return self._add_json({"replies": list(replies), "times": times})

    def _add_json(self, rule: dict[str, Any]) -> MockRoute:
        spec = {"contract": self.contract, "path": self.path, "match": self.match, **rule}
        self._rules.add(self._mock.add_rule({k: v for k, v in spec.items() if v is not None}).id)
        return self

    def delay(self, milliseconds: int, *, times: int | None = None) -> MockRoute:
        return self._add(delay_ms=milliseconds, times=times)

    def example(self, name: str, *, times: int | None = None) -> MockRoute:
        """Answer with a documented example's response (see the contract's ``examples``)."""
        return self._add(Canned(example=name), times=times)

    def mock(self, side_effect: Callable[[Any], Any], *, times: int | None = None) -> MockRoute:
        """``side_effect(call)`` (sync or async) returns an ``httpx``/``httpx2`` Response, a JSON body,
        a reply, or None to let the fake answer (see ``pytest_plugin.side_effects``)."""
        return self._add(side_effect=answering(side_effect), times=times)

    # ---- faults: the X-Mock-Scenario words, judged by the same grammar ----

    def fault(self, scenario: str, *, times: int | None = None) -> MockRoute:
        """Any scenario in the header's words: ``.fault("stall_at=2:500; missing_usage")``."""
        rule = parse_scenario(scenario)
        rule.contract, rule.path, rule.match, rule.times, rule.source = self.contract, self.path, self._compiled, times, FIXTURE
        self._rules.add(self._mock.keep(rule).id)
        return self

    def drop_after(self, events: int, *, times: int | None = None) -> MockRoute:
        """Close the connection after ``events`` events, without the terminator (WebSocket: drop the socket)."""
        return self._json(times, drop_after=events)

    def malformed_at(self, event: int, *, times: int | None = None) -> MockRoute:
        return self._json(times, malformed_at=event)

    def stall_at(self, event: int, milliseconds: int, *, times: int | None = None) -> MockRoute:
        return self._json(times, stall_at=f"{event}:{milliseconds}")

    def no_done(self, *, times: int | None = None) -> MockRoute:
        return self._json(times, no_done=True)

    def duplicate_done(self, *, times: int | None = None) -> MockRoute:
        return self._json(times, duplicate_done=True)

    def missing_usage(self, *, times: int | None = None) -> MockRoute:
        return self._json(times, missing_usage=True)

    def id_change_at(self, event: int, *, times: int | None = None) -> MockRoute:
        return self._json(times, id_change_at=event)

    def close_after(self, events: int, code: int = 1011, *, times: int | None = None) -> MockRoute:
        """WebSocket: close the session with ``code`` after ``events`` server events."""
        return self._json(times, close_after=f"{events}:{code}")

    def reset_connection(self, *, times: int | None = None) -> MockRoute:
        return self._json(times, reset=True)

    def empty_response(self, *, times: int | None = None) -> MockRoute:
        return self._json(times, empty=True)

    def garbage(self, *, times: int | None = None) -> MockRoute:
        return self._json(times, garbage=True)

    def truncate(self, size: int, *, times: int | None = None) -> MockRoute:
        return self._json(times, truncate=size)

    def slow_headers(self, milliseconds: int, *, times: int | None = None) -> MockRoute:
        return self._json(times, slow_headers=milliseconds)

    def physics(self, *, ttft: int | None = None, tps: float | None = None, jitter: int | None = None, times: int | None = None) -> MockRoute:
        """How fast the answers stream: ms to the first event, events per second, ms of jitter."""
        return self._json(times, **{k: v for k, v in (("ttft", ttft), ("tps", tps), ("jitter", jitter)) if v is not None})

    def chaos(self, probability: float, mix: tuple[str, ...] = DEFAULT_MIX, *, times: int | None = None) -> MockRoute:
        """A fault from ``mix`` for this share of matching requests, repeatable by the mock's seed."""
        return self._json(times, chaos=probability, chaos_mix=list(mix))

    def callback_fail(self, how: str | int, attempts: int | None = None, *, times: int | None = None) -> MockRoute:
        """The callbacks of the task created next fail (``"refused"``, ``"timeout"`` or a status) for ``attempts`` tries."""
        return self._json(times, callback_fail=f"{how}" + (f":{attempts}" if attempts is not None else ""))

    def callback_delay(self, milliseconds: int, *, times: int | None = None) -> MockRoute:
        return self._json(times, callback_delay=milliseconds)

    def _json(self, times: int | None, **fields: Any) -> MockRoute:
        return self._add_json({**fields, "times": times})

    @property
    def calls(self) -> CallList:
        """The calls this route's contract (and path) received; with a ``match``, those its rules answered."""
        if self._compiled is not None:
            return CallList(c for c in self._mock.calls if c.rule in self._rules)
        return CallList(c for c in self._mock.calls if _matches(c, self.contract, self.path))

    @property
    def called(self) -> bool:
        return self.calls.called

    @property
    def call_count(self) -> int:
        return self.calls.call_count


def _matches(call: JournalEntry, contract: str, path: str | None) -> bool:
    if path is not None and not fnmatch.fnmatchcase(call.path, path):
        return False
    return fnmatch.fnmatchcase(call.contract_id or "", contract)


class TaskControl:
    """The mock's async tasks, as a test steers them: look, finish, fail."""

    def __init__(self, controls: Controls) -> None:
        self._controls = controls

    def all(self, family: str | None = None) -> list[TaskView]:
        return self._controls.tasks(family)

    def get(self, task_id: str) -> TaskView:
        found = self._controls.task(task_id)
        if found is None:
            raise KeyError(f"no task {task_id!r}")
        return found

    def complete(self, task_id: str) -> TaskView:
        """Finish the task successfully now (its callbacks fire as for a natural finish)."""
        return self._controls.finish(task_id, False, None)

    def fail(self, task_id: str, reason: str = "failed by the test") -> TaskView:
        return self._controls.finish(task_id, True, reason)

    def __len__(self) -> int:
        return len(self._controls.tasks(None))


class ClockControl:
    """The namespace's clock: ``now()``, ``advance(seconds)``, ``set(epoch)``."""

    def __init__(self, controls: Controls) -> None:
        self._controls = controls

    @property
    def mode(self) -> str:
        return str(self._controls.clock()["mode"])

    def now(self) -> float:
        return float(self._controls.clock()["now"])

    def advance(self, seconds: float) -> float:
        self._controls.change_clock({"advance": seconds})
        return self.now()

    def set(self, timestamp: float) -> float:
        self._controls.change_clock({"set": timestamp})
        return self.now()


class QuotaControl:
    """Keys' quota as the relay keeps it: set a balance, read what is left and what was used."""

    def __init__(self, controls: Controls) -> None:
        self._controls = controls

    def set(self, key: str, amount: int | str) -> None:
        """Give ``key`` this quota: new-api points (500000 = $1) or dollars (``"$1.50"``)."""
        self._controls.set_balance(key, parse_amount(str(amount)))

    def balance(self, key: str) -> int | None:
        """Points left (None: the key has no quota, so nothing limits it)."""
        return self.accounts().get(key, {}).get("balance")

    def accounts(self) -> dict[str, dict[str, Any]]:
        """Each key's ``balance``, ``used`` points and charged ``requests``."""
        return self._controls.accounts()

    def clear(self) -> None:
        """No key has a quota any more (until the next ``set``)."""
        self._controls.clear_quota()


class LimitControl:
    """Rate limits and concurrency gates per key or model, and their counters."""

    def __init__(self, controls: Controls) -> None:
        self._controls = controls

    def set(
        self, *, key: str | None = None, model: str | None = None, rpm: int | None = None, tpm: int | None = None,
        concurrency: int | None = None, window: int | None = None,
    ) -> Limit:
        """``rpm`` / ``tpm`` per ``window`` seconds (60) and ``concurrency`` in flight, for one key or a model glob."""
        fields = {"key": key, "model": model, "rpm": rpm, "tpm": tpm, "concurrency": concurrency, "window": window}
        limit = limit_from_fields({name: value for name, value in fields.items() if value is not None})
        self._controls.add_limit(limit)
        return limit

    def counters(self) -> list[dict[str, Any]]:
        """Every limit with its windows now (``used``, ``remaining``, ``frees_in`` seconds) and what is in flight."""
        return self._controls.limit_counters()

    def clear(self) -> None:
        self._controls.clear_limits()


class GptnbMock:
    """One mock (one namespace of it) as a test sees it."""

    def __init__(self, controls: Controls, registry: ContractRegistry, base_url: str) -> None:
        self.controls = controls
        self.registry = registry
        self.base_url = base_url.rstrip("/")
        self._snapshot: list[Rule] = []
        self._files: list[Rule] = []
        """Rules this test loaded from files, in load order (added again after a reset)."""

    @property
    def namespace(self) -> str:
        return self.controls.namespace

    @property
    def url(self) -> str:
        return self.base_url

    @property
    def openai_base_url(self) -> str:
        """What to pass as ``base_url`` to an OpenAI SDK client."""
        return self.base_url + "/v1"

    @property
    def clock(self) -> ClockControl:
        return ClockControl(self.controls)

    @property
    def tasks(self) -> TaskControl:
        return TaskControl(self.controls)

    @property
    def quota(self) -> QuotaControl:
        return QuotaControl(self.controls)

    @property
    def limits(self) -> LimitControl:
        return LimitControl(self.controls)

    @property
    def calls(self) -> CallList:
        """Requests the mock answered (callback deliveries are in ``callbacks``)."""
        return CallList(e for e in self.controls.journal() if e.kind == "request")

    @property
    def callbacks(self) -> CallList:
        """Callback deliveries the mock made (each attempt), oldest first."""
        return CallList(e for e in self.controls.journal() if e.kind == "callback")

    def route(self, contract: str = "*", *, path: str | None = None, match: dict[str, Any] | None = None) -> MockRoute:
        """A handle on a contract id (globs allowed: ``"openai.*"``) or, with ``path=``, a path glob;
        ``match`` narrows it to requests that say something (``{"user_message": "refund"}``)."""
        if path is None and not any(ch in contract for ch in "*?[") and contract not in self.registry:
            ids = sorted(c.id for c in self.registry)
            # A typo is the usual cause: name the close ids first, not the alphabetically first ones.
            known = ", ".join(difflib.get_close_matches(contract, ids, n=8, cutoff=0.6) or ids[:8])
            raise KeyError(f"unknown contract id {contract!r} (e.g. {known}, …)")
        return MockRoute(self, contract, path, match)

    def add_rule(self, spec: dict[str, Any], *, source: str = FIXTURE) -> Rule:
        """A rule in its JSON form (as the admin API and fixture files write it), checked and added."""
        return self.keep(rule_from_json(spec, source))

    def keep(self, rule: Rule, *, judged: bool = True) -> Rule:
        """Check the rule against the contracts and add it to this test's namespace. Strict mode refuses
        replies that break their contracts, unless ``judged`` is False: then they are judged as served."""
        return self.controls.add_rule(prepare(rule, self.registry, judged and self.controls.strict()))

    def load_fixtures(self, *paths: str | os.PathLike[str]) -> list[Rule]:
        """Load files of canned replies (JSON or YAML; ours or aimock's) after this test's file rules;
        the rules loaded. A malformed file raises ``RuleFileError`` naming the file and the entry, and
        nothing of it is used. They stay through ``reset()``, counting afresh."""
        found = rulefiles.load([Path(p) for p in paths], self.registry, self.controls.strict()).rules
        self._files += found
        return [self.controls.add_rule(rule) for rule in found]

    def contract(self, contract_id: str) -> Contract:
        return self.registry[contract_id]

    def violations(self) -> list[str]:
        """Where the mock's own answers broke their contracts (strict mode)."""
        return [f"{entry.method} {entry.path} -> {entry.status}: {v}" for entry in self.controls.journal() for v in entry.violations]

    def reset(self) -> None:
        """Forget the calls, tasks, rules and clock of this test's namespace; rules loaded from files stay, counting afresh."""
        self.controls.reset()
        for rule in self._files:
            self.controls.add_rule(rule)

    def snapshot(self) -> None:
        self._snapshot = self.controls.rules()

    def rollback(self) -> None:
        self.controls.replace_rules(self._snapshot)
