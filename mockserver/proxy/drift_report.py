"""Drift reports: the summary a person reads on the terminal, and .json, .md and .html files."""

from __future__ import annotations

import html
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from .drift import Case


def as_data(cases: list[Case], patches: dict[str, list[dict[str, Any]]], read: int, applied: dict[str, Any] | None = None) -> dict[str, Any]:
    contracts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in cases:
        contracts[case.contract].append(case.as_dict())
    return {
        "summary": {"cassettes": read, "cases": len(cases), "contracts": len(contracts), "occurrences": sum(c.count for c in cases), "drift": bool(cases)},
        "contracts": dict(contracts),
        "patches": patches,
        **({"applied": applied} if applied is not None else {}),
    }


def summary(cases: list[Case], patches: dict[str, list[dict[str, Any]]], read: int) -> str:
    if not cases:
        return f"no drift: {read} recorded exchanges, every one as its contract says"
    lines = [f"drift in {len({c.contract for c in cases})} contract(s), {len(cases)} case(s) over {read} recorded exchanges:"]
    current = None
    for case in cases:
        if case.contract != current:
            current = case.contract
            lines.append(f"{current}")
        lines.append(f"  {case.count:>4}x  {case.kind:<20} {case.where}: {case.detail}")
    operations = sum(len(ops) for ops in patches.values())
    lines.append(f"proposed patch: {operations} operation(s) on {len(patches)} file(s)")
    for file, ops in patches.items():
        for op in ops:
            lines.append(f"  {file}: {op['op']} {op['path']}  ({op['count']}x)")
    return "\n".join(lines)


def as_markdown(data: dict[str, Any]) -> str:
    head = data["summary"]
    lines = ["# gptnb-mock drift report", "", f"{head['cassettes']} recorded exchanges, {head['cases']} case(s) of drift in {head['contracts']} contract(s).", ""]
    for contract, cases in data["contracts"].items():
        lines += [f"## {contract}", "", "| seen | kind | where | finding | recordings |", "|---:|---|---|---|---|"]
        for case in cases:
            lines.append(f"| {case['count']} | {case['kind']} | {case['where']} | {_md(case['finding'])} | {', '.join(case['seen_in'])} |")
        lines.append("")
    if data["patches"]:
        lines += ["## Proposed patch", "", "One JSON Patch (RFC 6902) per file under `contracts/`; `count` says how often each case occurred.", ""]
        for file, ops in data["patches"].items():
            lines += [f"### {file}", "", "```json", json.dumps(ops, ensure_ascii=False, indent=2), "```", ""]
    if "applied" in data:
        lines += ["## Applied", "", "```json", json.dumps(data["applied"], ensure_ascii=False, indent=2), "```", ""]
    return "\n".join(lines)


def as_html(data: dict[str, Any]) -> str:
    def text(value: Any) -> str:
        return html.escape(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2))

    head = data["summary"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>gptnb-mock drift report</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}"
        "td,th{border-top:1px solid #ddd;padding:.4rem;vertical-align:top;text-align:left}td.n{text-align:right}"
        "pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:30rem}</style></head><body>",
        f"<h1>gptnb-mock drift report</h1><p>{head['cassettes']} recorded exchanges, {head['cases']} case(s) of drift in {head['contracts']} contract(s).</p>",
    ]
    for contract, cases in data["contracts"].items():
        rows = "".join(
            f"<tr><td class='n'>{c['count']}</td><td>{text(c['kind'])}</td><td>{text(c['where'])}</td><td>{text(c['finding'])}</td><td>{text(', '.join(c['seen_in']))}</td></tr>" for c in cases
        )
        parts.append(f"<h2>{text(contract)}</h2><table><tr><th>seen</th><th>kind</th><th>where</th><th>finding</th><th>recordings</th></tr>{rows}</table>")
    if data["patches"]:
        parts.append("<h2>Proposed patch</h2><p>One JSON Patch (RFC 6902) per file under <code>contracts/</code>; <code>count</code> says how often each case occurred.</p>")
        parts += [f"<h3>{text(file)}</h3><pre>{text(ops)}</pre>" for file, ops in data["patches"].items()]
    if "applied" in data:
        parts.append(f"<h2>Applied</h2><pre>{text(data['applied'])}</pre>")
    parts.append("</body></html>")
    return "".join(parts)


def write_report(path: Path, data: dict[str, Any]) -> None:
    """The format follows the file name: .json, .md or .html."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    elif suffix in (".md", ".markdown"):
        path.write_text(as_markdown(data), encoding="utf-8")
    elif suffix in (".html", ".htm"):
        path.write_text(as_html(data), encoding="utf-8")
    else:
        raise ValueError(f"report {path}: use a .html, .json or .md file name")


def _md(text: str) -> str:
    return text.replace("|", "\\|")
