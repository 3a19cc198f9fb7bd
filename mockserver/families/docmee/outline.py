"""Outlines as Docmee writes them: Markdown (``#`` topic … ``####`` heading, ``-`` body) and its tree.

The mock "model" is deterministic: an outline is built from the subject and the requested length,
content adds body paragraphs under each heading, so the same request gives the same Markdown, and the
tree is always parsed back from the Markdown a client saw (Docmee's outline result,
https://docmee.cn/open-platform/api).
"""

from __future__ import annotations

import re
from typing import Any

from ...ids import derived_int

CHAPTERS = {"short": 3, "medium": 5, "long": 7}
_HEADING = re.compile(r"^(#{1,4})\s*(.*?)\s*$")
_BULLET = re.compile(r"^\s*[-*]\s+(.*?)\s*$")
_CJK = re.compile(r"[\u3400-\u9fff]")

_CHAPTER_NAMES = {
    "zh": ("背景与现状", "核心问题", "关键技术", "应用场景", "实施路径", "风险与对策", "未来展望"),
    "en": ("Background", "Key Questions", "Core Technology", "Use Cases", "Roadmap", "Risks and Responses", "Outlook"),
}
_PAGE_NAMES = {"zh": ("概述", "要点分析"), "en": ("Overview", "Analysis")}
_HEADING_NAMES = {"zh": ("主要内容", "案例说明"), "en": ("Main Points", "Example")}
_SENTENCES = {
    "zh": ("围绕{topic}，{name}需要结合实际数据说明。", "{name}是理解{topic}的关键一环。", "通过对比分析，可以看清{name}的主要趋势。"),
    "en": ("{name} is explained with concrete data about {topic}.", "{name} is a key step to understand {topic}.", "A short comparison shows the main trend of {name}."),
}


def language(lang: str | None) -> str:
    return "zh" if not lang or lang.startswith("zh") else "en"


def language_of(text: str) -> str:
    """The language an outline is written in, for routes that take no ``lang``."""
    return "zh" if _CJK.search(text) else "en"


def outline_markdown(subject: str, length: str | None, lang: str | None, keep: list[str] | None = None) -> str:
    """A topic with 3/5/7 chapters (short/medium/long), two pages each, two headings per page.

    ``keep`` are chapter names to reuse first (revising an outline keeps what it had)."""
    words = language(lang)
    count = CHAPTERS.get(length or "medium", CHAPTERS["medium"])
    names = [*(keep or []), *_CHAPTER_NAMES[words]][:count]
    lines = [f"# {subject}"]
    for c, chapter in enumerate(names, start=1):
        chapter = re.sub(r"^\d+\s+", "", chapter)
        lines.append(f"## {c} {chapter}")
        for p, page in enumerate(_PAGE_NAMES[words], start=1):
            lines.append(f"### {c}.{p} {chapter}{'' if words == 'zh' else ': '}{page}")
            lines += [f"#### {c}.{p}.{h} {heading}" for h, heading in enumerate(_HEADING_NAMES[words], start=1)]
    return "\n".join(lines) + "\n"


def content_markdown(outline: str, lang: str | None) -> str:
    """The outline with one or two ``-`` body paragraphs under every deepest heading."""
    tree = parse(outline)
    words = language(lang)
    topic = tree["name"]
    lines: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node["level"] == 0:
            lines.append(f"- {node['name']}")
            return
        lines.append(f"{'#' * node['level']} {node['name']}")
        children = node.get("children") or []
        for child in children:
            walk(child)
        if node["level"] >= 2 and not children:  # the deepest heading gets the body text
            templates = _SENTENCES[words]
            seed = derived_int(topic, node["name"])
            for i in range(1 + seed % 2):
                lines.append("- " + templates[(seed + i) % len(templates)].format(topic=topic, name=node["name"]))

    walk(tree)
    return "\n".join(lines) + "\n"


def parse(markdown: str) -> dict[str, Any]:
    """The outline tree of ``markdown``; text without a ``#`` topic gets its first line as topic."""
    root: dict[str, Any] | None = None
    stack: list[dict[str, Any]] = []
    for line in markdown.splitlines():
        heading = _HEADING.match(line)
        bullet = _BULLET.match(line) if not heading else None
        if heading:
            level, name = len(heading.group(1)), heading.group(2)
        elif bullet:
            level, name = 0, bullet.group(1)
        elif line.strip() and root is None:
            level, name = 1, line.strip()
        else:
            continue
        node: dict[str, Any] = {"level": level, "name": name}
        if root is None:
            root = {"level": 1, "name": name if level == 1 else "", "children": []}
            stack = [root]
            if level == 1:
                continue
        if level == 1:  # a second topic line reads as a chapter
            node["level"] = level = 2
        depth = level if level > 0 else 5
        while len(stack) > 1 and _depth(stack[-1]) >= depth:
            stack.pop()
        stack[-1].setdefault("children", []).append(node)
        if level > 0:
            stack.append(node)
    return root or {"level": 1, "name": "", "children": []}


def _depth(node: dict[str, Any]) -> int:
    return node["level"] if node["level"] > 0 else 5


def sections(tree: dict[str, Any]) -> list[dict[str, Any]]:
    """The chapters (level 2) of an outline: one slide each. An outline without chapters is one."""
    chapters = [c for c in tree.get("children") or [] if c["level"] == 2]
    return chapters or [tree]


def leaves(node: dict[str, Any]) -> list[str]:
    """Every name below ``node``, depth first: the lines of its slide."""
    found: list[str] = []
    for child in node.get("children") or []:
        found.append(child["name"])
        found += leaves(child)
    return found


def chunks(markdown: str) -> list[str]:
    """Stream deltas: one per line, so concatenating them gives the Markdown back."""
    return markdown.splitlines(keepends=True)
