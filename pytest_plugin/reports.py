"""Reports of a conformance run: the table a person reads, and JUnit XML, HTML and JSON files."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .conformance import Outcome


def family_table(outcomes: Sequence[Outcome]) -> str:
    """Per family: cases checked / passed / failed / not run, the first violation of each failure, and
    a last line that says whether the run was complete."""
    columns = ("passed", "failed", "unfinished")
    rows: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(columns, 0))
    for outcome in outcomes:
        rows[outcome.case.contract.family][outcome.verdict] += 1
    lines = [f"{'family':<16} {'checked':>8} {'passed':>8} {'failed':>8} {'not run':>8}"]
    for family in sorted(rows):
        row = rows[family]
        lines.append(f"{family:<16} {sum(row.values()):>8} " + " ".join(f"{row[c]:>8}" for c in columns))
    failures = [o for o in outcomes if o.verdict == "failed"]
    if failures:
        lines.append("")
        lines.append("failures (first violation of each):")
        lines += [f"  {o.case.id}: {o.first_violation}" for o in failures]
    lines.append("")
    lines.append(summary_line(outcomes))
    return "\n".join(lines)


def summary_line(outcomes: Sequence[Outcome]) -> str:
    """``conformance: N passed, N failed``; a run the budget cut short says so first and counts what it left out."""
    count = {verdict: sum(o.verdict == verdict for o in outcomes) for verdict in ("passed", "failed", "unfinished")}
    counts = f"{count['passed']} passed, {count['failed']} failed"
    if not count["unfinished"]:
        return f"conformance: {counts}"
    budget = next(o.skipped for o in outcomes if o.unfinished)
    return f"INCOMPLETE: {counts}, {count['unfinished']} skipped: {budget}; {count['unfinished']} of {len(outcomes)} cases were not checked"


def as_json(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    return {
        "summary": {
            "checked": len(outcomes),
            "passed": sum(o.verdict == "passed" for o in outcomes),
            "failed": sum(o.verdict == "failed" for o in outcomes),
            "not_run": sum(o.verdict == "unfinished" for o in outcomes),
            "complete": not any(o.unfinished for o in outcomes),
        },
        "cases": [
            {
                "id": o.case.id,
                "contract": o.case.contract.id,
                "family": o.case.contract.family,
                "kind": o.case.kind,
                "verdict": o.verdict,
                "skipped": o.skipped,
                "violations": o.violations,
                "seconds": round(o.seconds, 3),
                "exchanges": o.exchanges,
            }
            for o in outcomes
        ],
    }


def as_junit(outcomes: Sequence[Outcome]) -> bytes:
    suite = ET.Element("testsuite", name="gptnb-conformance", tests=str(len(outcomes)))
    suite.set("failures", str(sum(o.verdict == "failed" for o in outcomes)))
    suite.set("skipped", str(sum(bool(o.skipped) for o in outcomes)))
    for outcome in outcomes:
        case = ET.SubElement(suite, "testcase", classname=outcome.case.contract.id, name=outcome.case.id, time=f"{outcome.seconds:.3f}")
        if outcome.verdict == "failed":
            failure = ET.SubElement(case, "failure", message=outcome.first_violation[:500])
            failure.text = "\n".join(outcome.violations)
        elif outcome.skipped:
            ET.SubElement(case, "skipped", message=outcome.skipped)
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True)


def as_html(outcomes: Sequence[Outcome]) -> str:
    def cell(value: Any) -> str:
        return html.escape(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2, default=str))

    rows = []
    for o in outcomes:
        state = o.verdict
        details = "".join(
            f"<details><summary>{cell(x['request']['method'])} {cell(x['request']['path'])} → HTTP {x['response']['status']}</summary>"
            f"<h4>request</h4><pre>{cell(x['request'])}</pre><h4>response</h4><pre>{cell(x['response'])}</pre></details>"
            for x in o.exchanges
        )
        violations = "".join(f"<li>{cell(v)}</li>" for v in o.violations) or ("<li>" + cell(o.skipped) + "</li>" if o.skipped else "")
        rows.append(f'<tr class="{state}"><td>{cell(o.case.contract.family)}</td><td>{cell(o.case.id)}</td><td>{state}</td><td><ul>{violations}</ul>{details}</td></tr>')
    summary = html.escape(family_table(outcomes))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>gptnb-mock conformance report</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}"
        "td{border-top:1px solid #ddd;padding:.4rem;vertical-align:top}tr.failed td:nth-child(3){color:#b00;font-weight:bold}"
        "tr.passed td:nth-child(3){color:#070}pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:20rem}</style></head><body>"
        f"<h1>gptnb-mock conformance report</h1><pre>{summary}</pre><table><tr><th>family</th><th>case</th><th>result</th><th>details</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


def write_report(path: Path, outcomes: Sequence[Outcome]) -> None:
    """The format follows the file name: .xml (JUnit), .html, .json."""
    suffix = path.suffix.lower()
    if suffix == ".xml":
        path.write_bytes(as_junit(outcomes))
    elif suffix in (".html", ".htm"):
        path.write_text(as_html(outcomes), encoding="utf-8")
    elif suffix == ".json":
        path.write_text(json.dumps(as_json(outcomes), ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    else:
        raise ValueError(f"report {path}: use a .xml (JUnit), .html or .json file name")
