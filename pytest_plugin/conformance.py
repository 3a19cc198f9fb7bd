"""The conformance runner: send contract-derived requests to any base URL and judge every answer.

Against the real upstream it is cheap and safe by default: only contracts marked ``free`` unless paid
ones are allowed, a request budget, a bounded wait per task, the key never printed or saved.
``plan`` lists the cases (a dry run prints them without calling anything); ``run_case`` runs one.
The CLI (``gptnb-mock check``) and the pytest option (``--gptnb-conformance``) both drive this.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from mockserver.contracts import Contract, ContractRegistry, default_registry
from mockserver.lifecycles import Lifecycle, lifecycles, pointer
from mockserver.responses import ResponseJudge

from .checks import CheckFailure, Exchange, exchange_from, failures, not_a_server_error, task_lifecycle_conformance
from .conformance_pytest import REMOTE_BUDGET
from .strategies import PLACEHOLDER_KEY, GeneratedRequest, documented_requests, invalid_request_cases, sample_requests

@dataclass(frozen=True)
class Case:
    """One thing to check: a name pytest and reports use, the contract, and how to run it."""

    id: str
    contract: Contract
    kind: str  # example | generated | negative | lifecycle
    request: GeneratedRequest
    expect_error: bool = False


@dataclass
class Outcome:
    case: Case
    passed: bool
    violations: list[str] = field(default_factory=list)
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None
    unfinished: bool = False
    """The request budget ran out before this case could finish: nothing is known about it."""
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        """passed, failed, or unfinished (the budget ran out first)."""
        return "failed" if self.violations else "unfinished" if self.unfinished else "passed" if self.passed else "failed"

    @property
    def first_violation(self) -> str:
        return self.violations[0] if self.violations else ""


class BudgetExhausted(RuntimeError):
    """The request budget ran out before this case could run."""


def default_budget(base_url: str) -> int | None:
    """No limit for a server on this machine (a mock costs nothing), REMOTE_BUDGET for any other."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return None
    try:
        return None if ipaddress.ip_address(host).is_loopback else REMOTE_BUDGET
    except ValueError:
        return REMOTE_BUDGET


@dataclass
class RunnerOptions:
    base_url: str
    api_key: str | None = None
    only: tuple[str, ...] = ()
    allow_paid: bool = False
    examples: int = 2
    """Generated requests per contract (besides the documented ones)."""
    negatives: bool = True
    max_requests: int | None = None
    """Request budget for the run; None: ``default_budget(base_url)``."""
    task_timeout: float = 60.0
    poll_interval: float = 0.5
    timeout: float = 60.0


class ConformanceRunner:
    def __init__(self, options: RunnerOptions, registry: ContractRegistry | None = None, client: httpx.Client | None = None) -> None:
        self.options = options
        self.registry = registry or default_registry()
        self.client = client or httpx.Client(timeout=options.timeout)
        self.budget = options.max_requests if options.max_requests is not None else default_budget(options.base_url)
        self.requests_sent = 0

    # ---- planning ----

    def selected(self) -> list[Contract]:
        chosen = []
        for contract in self.registry:
            if self.options.only and not any(fnmatch.fnmatchcase(contract.id, glob) for glob in self.options.only):
                continue
            if contract.cost != "free" and not self.options.allow_paid:
                continue
            if contract.kind == "websocket":
                continue  # WebSocket sessions are checked by their own client, not by HTTP requests
            chosen.append(contract)
        return chosen

    def plan(self) -> list[Case]:
        cases: list[Case] = []
        for contract in self.selected():
            judge = ResponseJudge(contract, self.registry)
            for name, request, response in documented_requests(contract.id, registry=self.registry):
                refused = judge.is_error(response.get("status", 200), response.get("content_type", "application/json"), response.get("body"))
                cases.append(Case(f"{contract.id}::example[{name}]", contract, "example", request, expect_error=refused))
                if contract.kind == "task-submit" and not refused and contract.behavior.get("lifecycle") in lifecycles():
                    cases.append(Case(f"{contract.id}::lifecycle[{name}]", contract, "lifecycle", request))
            for index, request in enumerate(sample_requests(contract.id, self.options.examples, registry=self.registry)):
                cases.append(Case(f"{contract.id}::generated[{index}]", contract, "generated", request))
            if self.options.negatives:
                for request in invalid_request_cases(contract.id, registry=self.registry):
                    cases.append(Case(f"{contract.id}::negative[{request.rule}]", contract, "negative", request, expect_error=True))
        return cases

    # ---- running ----

    def _send(self, request: GeneratedRequest) -> httpx.Response:
        if self.budget is not None and self.requests_sent >= self.budget:
            raise BudgetExhausted(f"request budget of {self.budget} used up (--max-requests raises it)")
        self.requests_sent += 1
        kwargs = request.httpx_kwargs(self.options.base_url)
        kwargs["headers"] = self._with_key(kwargs.get("headers", {}), request)
        return self.client.request(**kwargs)

    def _with_key(self, headers: dict[str, str], request: GeneratedRequest) -> dict[str, str]:
        """Swap the strategies' placeholder key for the real one (never for 'missing key' negatives)."""
        if not self.options.api_key:
            return headers
        return {name: value.replace(PLACEHOLDER_KEY, self.options.api_key) for name, value in headers.items()}

    def _record(self, outcome: Outcome, request: GeneratedRequest, response: httpx.Response, contract: Contract | None = None) -> Exchange:
        exchange = exchange_from(response, contract or outcome.case.contract)
        outcome.exchanges.append(
            {
                "request": {"method": request.method, "path": request.path, "query": request.query, "body": _describe_body(request), "rule": request.rule},
                "response": {"status": response.status_code, "content_type": response.headers.get("content-type", ""), "body": _excerpt(response)},
            }
        )
        return exchange

    def run_case(self, case: Case) -> Outcome:
        outcome = Outcome(case, passed=False)
        started = time.monotonic()
        try:
            if case.kind == "lifecycle":
                self._run_lifecycle(case, outcome)
            else:
                self._run_single(case, outcome)
        except BudgetExhausted as exc:
            outcome.skipped = str(exc)
            outcome.unfinished = True
        except httpx.HTTPError as exc:
            outcome.violations.append(f"transport: {type(exc).__name__}: {exc}")
        outcome.passed = not outcome.violations and not outcome.unfinished and (outcome.skipped is None or outcome.case.kind == "lifecycle")
        outcome.seconds = time.monotonic() - started
        return outcome

    def _run_single(self, case: Case, outcome: Outcome) -> None:
        response = self._send(case.request)
        exchange = self._record(outcome, case.request, response)
        problems = failures(exchange, self.registry)
        if case.expect_error:
            if not ResponseJudge(case.contract, self.registry).is_error(exchange.status, exchange.media_type, _json_or_none(exchange)):
                problems.append(CheckFailure("negative_rejected", f"request that breaks '{case.request.rule or 'the documented error case'}' was accepted: HTTP {exchange.status}"))
        elif case.kind == "generated":
            try:
                not_a_server_error(exchange, self.registry)
            except CheckFailure as failure:
                problems.append(failure)
        outcome.violations += [str(p) for p in problems]

    def _run_lifecycle(self, case: Case, outcome: Outcome) -> None:
        lifecycle = lifecycles()[case.contract.behavior["lifecycle"]]
        response = self._send(case.request)
        exchange = self._record(outcome, case.request, response)
        outcome.violations += [str(f) for f in failures(exchange, self.registry)]
        if ResponseJudge(case.contract, self.registry).is_error(exchange.status, exchange.media_type, _json_or_none(exchange)):
            # The documented request was refused here (e.g. its parent task does not exist): nothing to follow.
            outcome.skipped = f"submit refused (HTTP {exchange.status}): {str(_json_or_none(exchange))[:120]}"
            return
        task_id = pointer(_json_or_none(exchange), lifecycle.submit_id)
        if not isinstance(task_id, str) or not task_id:
            outcome.violations.append(f"task_lifecycle_conformance: no task id at {lifecycle.submit_id} in the submit answer")
            return
        statuses = self._follow(lifecycle, task_id, outcome, case.request.path, case.contract.id)
        try:
            task_lifecycle_conformance(statuses, lifecycle)
        except CheckFailure as failure:
            outcome.violations.append(str(failure))

    def _follow(self, lifecycle: Lifecycle, task_id: str, outcome: Outcome, submit_path: str, submit_contract: str) -> list[str | int]:
        query = self.registry[lifecycle.query_for(submit_contract)]
        place = query.behavior.get("task_id", "path.id")
        where, _, name = place.partition(".")
        request = GeneratedRequest(query.id, query.method, query.path, headers=_auth(query))
        if lifecycle.query_path:  # may also carry a query string naming the poll (Jimeng's Action)
            request.path = lifecycle.query_path.replace("{submit_path}", submit_path).replace("{id}", task_id)
        elif where == "path":
            request.path = query.path.replace("{" + name + "}", task_id)
        if where == "query":
            request.query = {name: task_id}
        elif where == "body":
            request.json = {name: [task_id] if name.endswith("s") else task_id}
        statuses: list[str | int] = []
        deadline = time.monotonic() + self.options.task_timeout
        while time.monotonic() < deadline:
            response = self._send(request)
            exchange = self._record(outcome, request, response, query)
            outcome.violations += [f"poll {len(statuses)}: {f}" for f in failures(exchange, self.registry)]
            answer = _json_or_none(exchange)
            status = pointer(answer[0] if isinstance(answer, list) and answer else answer, lifecycle.status)
            if not isinstance(status, (str, int)) or isinstance(status, bool):
                outcome.violations.append(f"task_lifecycle_conformance: no status word at {lifecycle.status} while polling")
                return statuses
            statuses.append(status)
            if status in lifecycle.terminal:
                return statuses
            time.sleep(self.options.poll_interval)
        outcome.violations.append(f"task_lifecycle_conformance: task {task_id} still {statuses[-1] if statuses else 'unknown'} after {self.options.task_timeout:g}s")
        return statuses

    def run(self, cases: Iterable[Case], progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        outcomes = []
        for case in cases:
            outcome = self.run_case(case)
            outcomes.append(outcome)
            if progress:
                progress(outcome)
        return outcomes


def _auth(contract: Contract) -> dict[str, str]:
    for carrier in contract.auth_carriers:
        if carrier.location == "header":
            return {carrier.name: carrier.prefix + PLACEHOLDER_KEY}
    return {}


def _json_or_none(exchange: Exchange) -> Any:
    try:
        return exchange.json()
    except ValueError:
        return None


def _describe_body(request: GeneratedRequest) -> Any:
    if request.content is not None:
        return request.content[:500].decode("utf-8", errors="replace")
    if request.files:
        return {**(request.form or {}), **{name: f"<file {f[0]}, {len(f[1])} bytes>" for name, f in request.files.items()}}
    return request.json if request.json is not None else request.form


def _excerpt(response: httpx.Response) -> Any:
    media = response.headers.get("content-type", "")
    if "json" in media:
        try:
            return response.json()
        except ValueError:
            pass
    if media.startswith(("text/", "application/")):
        return response.text[:2000]
    return f"<{len(response.content)} bytes of {media or 'unknown type'}>"
