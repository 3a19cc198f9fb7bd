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
# Families whose sources are being rewritten right now; each must still need it (see the last test).
PENDING = frozenset({"midjourney", "suno"})


def unfollowable(text: str) -> list[str]:
    """Citations in ``text`` a reader cannot follow: notes sections, and .md files not in the project."""
    found = [m.group(0) for m in PRIVATE_NOTES.finditer(text)]
    found += [m.group(1) for m in CITED_MD.finditer(text) if m.group(1) not in PROJECT_MD]
    return found


def family_of(path: Path) -> str | None:
    parts = path.relative_to(ROOT).parts
    if parts[0] in ("contracts", "fixtures") and len(parts) > 2:
        return parts[2] if parts[1] == "real_world" else parts[1]
    if parts[:2] == ("mockserver", "families") and len(parts) > 3:
        return parts[2]
    return None


def sources() -> list[Path]:
    files = [*ROOT.glob("contracts/**/*.json"), *ROOT.glob("fixtures/**/*.json"), *ROOT.glob("mockserver/**/*.py"), *ROOT.glob("pytest_plugin/*.py")]
    files += [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("contracts/*.md"), *ROOT.glob("fixtures/**/*.md"), *ROOT.glob("tools/*")]
    return sorted(path for path in files if path.is_file())


def test_the_project_has_markdown_files_to_cite() -> None:
    assert {"README.md", "adding-a-family.md"} <= PROJECT_MD


@pytest.mark.parametrize("path", [p for p in sources() if family_of(p) not in PENDING], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_citation_can_be_followed(path: Path) -> None:
    assert unfollowable(path.read_text(encoding="utf-8", errors="replace")) == []


def test_the_docs_page_cites_nothing_private() -> None:
    """/__mock/docs shows every contract's summary and schema descriptions as they are written."""
    registry = default_registry()
    families = {c.family for c in registry} - PENDING
    assert unfollowable(render_docs(openapi_document(registry, families))) == []


@pytest.mark.parametrize("family", sorted(PENDING))
def test_a_pending_family_still_needs_its_exemption(family: str) -> None:
    """Once a family's sources are rewritten, it leaves PENDING and the tests above hold it too."""
    assert any(unfollowable(p.read_text(encoding="utf-8")) for p in sources() if family_of(p) == family)


def test_the_check_recognises_what_it_looks_for() -> None:
    assert unfollowable("see api-reference/openai.md §4.2 and suno_luma.md §2.9") != []
    assert unfollowable("notes in openai.md, page 4") == ["openai.md"]
    assert unfollowable("QuantumNous/new-api dto/openai_request.go; see README.md, docs/adding-a-family.md, owner/repo skills/x/SKILL.md") == []
    assert unfollowable("https://docs.example.com/markdown/api/api-1.md") == []
