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
    """Per family: cases checked / passed / failed / skipped, then the first violation of each failure."""
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for outcome in outcomes:
        row = rows[outcome.case.contract.family]
        row[0] += 1
        row[1 if outcome.passed else 3 if outcome.skipped else 2] += 1
    lines = [f"{'family':<16} {'checked':>8} {'passed':>8} {'failed':>8} {'skipped':>8}"]
    for family in sorted(rows):
        checked, passed, failed, skipped = rows[family]
        lines.append(f"{family:<16} {checked:>8} {passed:>8} {failed:>8} {skipped:>8}")
    failures = [o for o in outcomes if not o.passed and not o.skipped]
    if failures:
        lines.append("")
        lines.append("failures (first violation of each):")
        lines += [f"  {o.case.id}: {o.first_violation}" for o in failures]
    return "\n".join(lines)


def as_json(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    return {
        "summary": {
            "checked": len(outcomes),
            "passed": sum(o.passed for o in outcomes),
            "failed": sum(not o.passed and not o.skipped for o in outcomes),
            "skipped": sum(bool(o.skipped) for o in outcomes),
        },
        "cases": [
            {
                "id": o.case.id,
                "contract": o.case.contract.id,
                "family": o.case.contract.family,
                "kind": o.case.kind,
                "passed": o.passed,
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
    suite.set("failures", str(sum(not o.passed and not o.skipped for o in outcomes)))
    suite.set("skipped", str(sum(bool(o.skipped) for o in outcomes)))
    for outcome in outcomes:
        case = ET.SubElement(suite, "testcase", classname=outcome.case.contract.id, name=outcome.case.id, time=f"{outcome.seconds:.3f}")
        if outcome.skipped:
            ET.SubElement(case, "skipped", message=outcome.skipped)
        elif not outcome.passed:
            failure = ET.SubElement(case, "failure", message=outcome.first_violation[:500])
            failure.text = "\n".join(outcome.violations)
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True)


def as_html(outcomes: Sequence[Outcome]) -> str:
    def cell(value: Any) -> str:
        return html.escape(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2, default=str))

    rows = []
    for o in outcomes:
        state = "skipped" if o.skipped else "passed" if o.passed else "failed"
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
