"""``pytest --gptnb-conformance=BASE_URL``: one test item per conformance case.

Items are ordinary pytest items, so ``-k``, ``-x``, xdist and ``--junitxml`` work as usual. The cases
are planned the same way on every xdist worker (the draws are derandomized), so node ids agree.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # imported when a run asks for conformance: hypothesis-jsonschema is slow to import
    from .conformance import Case, ConformanceRunner

KEY_VARIABLE = "GPTNB_API_KEY"
REMOTE_BUDGET = 500
"""Requests a run may send to a remote server unless told otherwise: the real upstream bills them."""

NODE_PREFIX = "gptnb-conformance"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gptnb", "gptnb-mock: a mock of the GPTNB API")
    group.addoption("--gptnb-conformance", metavar="BASE_URL", default=None, help="check the server at BASE_URL against every contract (one test per case)")
    group.addoption("--gptnb-api-key", default=None, help=f"key for --gptnb-conformance (default: ${KEY_VARIABLE}); never printed")
    group.addoption("--gptnb-only", action="append", default=[], metavar="GLOB", help="only contracts whose id matches (repeatable)")
    group.addoption("--gptnb-allow-paid", action="store_true", help="also call contracts that cost money upstream")
    group.addoption("--gptnb-examples", type=int, default=2, metavar="N", help="generated requests per contract (default: 2)")
    group.addoption(
        "--gptnb-max-requests",
        type=int,
        default=None,
        metavar="N",
        help=f"request budget for the run (default: no limit for a server on this machine, {REMOTE_BUDGET} for any other)",
    )
    group.addoption("--gptnb-task-timeout", type=float, default=60.0, metavar="S", help="longest wait for one task (default: 60)")


class ConformanceItem(pytest.Item):
    def __init__(self, *, case: Case, runner: ConformanceRunner, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.runner = runner
        self.add_marker(pytest.mark.gptnb_conformance)

    def runtest(self) -> None:
        outcome = self.runner.run_case(self.case)
        if outcome.skipped:
            pytest.skip(outcome.skipped)
        if not outcome.passed:
            raise ConformanceFailure(outcome.violations, outcome.exchanges)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ConformanceFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[str, int, str]:
        return (self.case.contract.uri, 0, f"{NODE_PREFIX}: {self.case.id}")


class ConformanceFailure(AssertionError):
    def __init__(self, violations: list[str], exchanges: list[dict[str, Any]]) -> None:
        last = exchanges[-1] if exchanges else {}
        request = last.get("request", {})
        response = last.get("response", {})
        lines = [*violations, f"last request: {request.get('method')} {request.get('path')}", f"last response: HTTP {response.get('status')} {str(response.get('body'))[:300]}"]
        super().__init__("\n".join(lines))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gptnb_conformance: a case of the gptnb-mock conformance run")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    base_url = config.getoption("--gptnb-conformance")
    if not base_url:
        return
    from .conformance import ConformanceRunner, RunnerOptions

    options = RunnerOptions(
        base_url=base_url.rstrip("/"),
        api_key=config.getoption("--gptnb-api-key") or os.environ.get(KEY_VARIABLE),
        only=tuple(config.getoption("--gptnb-only")),
        allow_paid=config.getoption("--gptnb-allow-paid"),
        examples=config.getoption("--gptnb-examples"),
        max_requests=config.getoption("--gptnb-max-requests"),
        task_timeout=config.getoption("--gptnb-task-timeout"),
    )
    runner = ConformanceRunner(options)
    cases = runner.plan()
    # Added before pytest's own -k / -m deselection runs (it is registered earlier, so it runs later).
    items.extend(ConformanceItem.from_parent(session, name=f"{NODE_PREFIX}::{case.id}", case=case, runner=runner) for case in cases)
