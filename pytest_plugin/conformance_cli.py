"""``gptnb-mock check BASE_URL``: the conformance runner for people (progress, a table, report files)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .conformance import ConformanceRunner, Outcome, RunnerOptions
from .conformance_pytest import KEY_VARIABLE, REMOTE_BUDGET
from .reports import family_table, write_report

EXIT_INCOMPLETE = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base_url", metavar="BASE_URL", help="server to check, e.g. https://goapi.gptnb.ai or http://127.0.0.1:8000")
    parser.add_argument("--api-key", help=f"key to send (default: ${KEY_VARIABLE}); never printed or written to reports")
    parser.add_argument("--only", action="append", metavar="GLOB", help="only contracts whose id matches (repeatable), e.g. 'openai.*'")
    parser.add_argument("--examples", type=int, default=2, metavar="N", help="generated requests per contract besides the documented ones (default: %(default)s)")
    parser.add_argument("--no-negative", action="store_true", help="skip the requests that break one rule each")
    parser.add_argument("--allow-paid", action="store_true", help="also call contracts that cost money upstream (default: free ones only)")
    parser.add_argument(
        "--max-requests",
        type=_positive,
        default=None,
        metavar="N",
        help=f"request budget for the whole run (default: no limit for a server on this machine, {REMOTE_BUDGET} for any other)",
    )
    parser.add_argument("--task-timeout", type=float, default=60.0, metavar="S", help="longest wait for one async task (default: %(default)s)")
    parser.add_argument("--poll-interval", type=float, default=0.5, metavar="S", help="pause between task polls (default: %(default)s)")
    parser.add_argument("--report", action="append", type=Path, metavar="FILE", help="write a report: .xml (JUnit), .html or .json (repeatable)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be called, call nothing")


def run(args: argparse.Namespace) -> int:
    options = RunnerOptions(
        base_url=args.base_url.rstrip("/"),
        api_key=args.api_key or os.environ.get(KEY_VARIABLE),
        only=tuple(args.only or ()),
        allow_paid=args.allow_paid,
        examples=args.examples,
        negatives=not args.no_negative,
        max_requests=args.max_requests,
        task_timeout=args.task_timeout,
        poll_interval=args.poll_interval,
    )
    runner = ConformanceRunner(options)
    cases = runner.plan()
    if args.dry_run:
        for case in cases:
            print(f"{case.request.method:<6} {case.request.path:<50} {case.id}")
        print(f"{len(cases)} cases against {options.base_url} (nothing was called)", file=sys.stderr)
        return 0
    if not cases:
        print("gptnb-mock: no contract selected (free ones only without --allow-paid; check --only)", file=sys.stderr)
        return 2

    def progress(outcome: Outcome) -> None:
        mark = {"passed": "ok  ", "failed": "FAIL", "unfinished": "skip"}[outcome.verdict]
        print(f"{mark} {outcome.case.id}" + (f"  — {outcome.first_violation}" if outcome.verdict == "failed" else ""), file=sys.stderr)

    outcomes = runner.run(cases, progress)
    for path in args.report or ():
        write_report(path, outcomes)
        print(f"report written: {path}", file=sys.stderr)
    print(family_table(outcomes))  # its last line is the verdict on the whole run
    return exit_code(outcomes)


def exit_code(outcomes: list[Outcome]) -> int:
    """0: every case ran and passed; 1: a case failed; 3: none failed, but the budget left cases unchecked."""
    if any(o.verdict == "failed" for o in outcomes):
        return 1
    return EXIT_INCOMPLETE if any(o.unfinished for o in outcomes) else 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
