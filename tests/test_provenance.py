"""Provenance users can follow: no contract, fixture, page or module cites a file the project does not have.

Contracts and fixtures name their sources so a reader can check them: a GPTNB docs page title, a vendor's
documentation URL, a repository and path, an issue URL. A citation of a notes file that is not in the
repository (``openai.md §4.2``, ``api-reference/…``) sends the reader nowhere.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockserver.contracts import default_registry
from mockserver.docs_page import render_docs
from mockserver.openapi import openapi_document

ROOT = Path(__file__).resolve().parent.parent
PROJECT_MD = {path.name for path in ROOT.rglob("*.md") if not any(part.startswith(".") for part in path.relative_to(ROOT).parts)}
# A notes file named on its own; a path in another repository or a URL ending in .md names where it is.
CITED_MD = re.compile(r"(?<![\w./:-])([\w-]+\.md)\b")
PRIVATE_NOTES = re.compile(r"api-reference/|\.md ?§")


def unfollowable(text: str) -> list[str]:
    """Citations in ``text`` a reader cannot follow: notes sections, and .md files not in the project."""
    found = [m.group(0) for m in PRIVATE_NOTES.finditer(text)]
    found += [m.group(1) for m in CITED_MD.finditer(text) if m.group(1) not in PROJECT_MD]
    return found


def sources() -> list[Path]:
    files = [*ROOT.glob("contracts/**/*.json"), *ROOT.glob("fixtures/**/*.json"), *ROOT.glob("mockserver/**/*.py"), *ROOT.glob("pytest_plugin/*.py")]
    files += [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("contracts/*.md"), *ROOT.glob("fixtures/**/*.md"), *ROOT.glob("tools/*")]
    return sorted(path for path in files if path.is_file())


def test_the_project_has_markdown_files_to_cite() -> None:
    assert {"README.md", "adding-a-family.md"} <= PROJECT_MD


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_citation_can_be_followed(path: Path) -> None:
    assert unfollowable(path.read_text(encoding="utf-8", errors="replace")) == []


def test_the_docs_page_cites_nothing_private() -> None:
    """/__mock/docs shows every contract's summary and schema descriptions as they are written."""
    assert unfollowable(render_docs(openapi_document(default_registry()))) == []


def test_the_check_recognises_what_it_looks_for() -> None:
    assert unfollowable("see api-reference/openai.md §4.2 and suno_luma.md §2.9") != []
    assert unfollowable("notes in openai.md, page 4") == ["openai.md"]
    assert unfollowable("QuantumNous/new-api dto/openai_request.go; see README.md, docs/adding-a-family.md, owner/repo skills/x/SKILL.md") == []
    assert unfollowable("https://docs.example.com/markdown/api/api-1.md") == []
