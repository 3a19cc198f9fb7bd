"""Files of canned replies: read, checked, and reloaded while the mock serves.

A file is JSON or YAML holding ``{"rules": [...]}`` (or just the list), each rule in the admin API's
JSON form, or aimock's ``{"fixtures": [...]}``. A path may be a directory: its ``.json``, ``.yaml``
and ``.yml`` files are read by name, sub-directories after files, as aimock reads a directory.
Anything malformed is refused with the file, the entry and the problem named; a running server keeps
its last good set and shows the problem at ``GET /__mock/rules``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .aimock import AimockError, NoCounterpart, translate
from .steering import Rule, ScenarioError, rule_from_json

if TYPE_CHECKING:
    from .state import MockState

log = logging.getLogger("gptnb_mock")
SUFFIXES = (".json", ".yaml", ".yml")
WATCH_INTERVAL = 0.5
"""Seconds between looks at the files' modification times."""


class RuleFileError(ValueError):
    """A file, or an entry in it, that cannot be used; the message names both."""


@dataclass
class Loaded:
    rules: list[Rule] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Entries left out (aimock fixtures for things this mock does not serve), each with its reason."""


def files_under(paths: Iterable[Path]) -> list[Path]:
    """The files the paths name, in load order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += _directory(path)
        elif path.is_file():
            found.append(path)
        else:
            raise RuleFileError(f"{path}: no such file or directory")
    return found


def _directory(directory: Path) -> list[Path]:
    entries = sorted(directory.iterdir())
    files = [p for p in entries if p.is_file() and p.suffix.lower() in SUFFIXES]
    return files + [f for sub in entries if sub.is_dir() for f in _directory(sub)]


def load(paths: Iterable[Path], state: MockState) -> Loaded:
    """Every rule of every file, prepared against the contracts (strict mode refuses misfits)."""
    loaded = Loaded()
    for path in files_under(paths):
        entries, skipped = _entries(_read(path), path, state)
        for label, spec, notes in entries:
            try:
                rule = state.rules.prepare(rule_from_json(spec, source=label))
            except ScenarioError as exc:
                raise RuleFileError(f"{label}: {exc}") from None
            rule.notes = (*notes, *rule.notes)
            loaded.rules.append(rule)
        loaded.skipped += skipped
    return loaded


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError(f"{path}: cannot read it ({exc})") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise RuleFileError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{path}: not valid YAML: " + " ".join(str(exc).split())) from None


Entry = tuple[str, Any, list[str]]
"""(label naming file and entry, the rule's JSON form, notes on what was left out)."""


def _entries(document: Any, path: Path, state: MockState) -> tuple[list[Entry], list[str]]:
    if isinstance(document, dict) and "fixtures" in document:
        return _aimock_entries(document["fixtures"], path, state)
    listed = document.get("rules") if isinstance(document, dict) and set(document) <= {"rules", "$comment"} else document
    if not isinstance(listed, list):
        raise RuleFileError(f'{path}: expected {{"rules": [...]}}, a list of rules, or aimock\'s {{"fixtures": [...]}}')
    return [(_label(path, "rules", index, spec), spec, []) for index, spec in enumerate(listed)], []


def _aimock_entries(fixtures: Any, path: Path, state: MockState) -> tuple[list[Entry], list[str]]:
    if not isinstance(fixtures, list):
        raise RuleFileError(f'{path}: "fixtures" must be a list (aimock\'s fixture file format)')
    found: list[Entry] = []
    skipped: list[str] = []
    for index, entry in enumerate(fixtures):
        label = _label(path, "fixtures", index, entry)
        try:
            translated = translate(entry, state.registry)
        except NoCounterpart as exc:
            skipped.append(f"{label}: {exc}")
            continue
        except AimockError as exc:
            raise RuleFileError(f"{label}: {exc}") from None
        found.append((label, translated.rule, translated.notes))
    return found, skipped


def _label(path: Path, key: str, index: int, entry: Any) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"{path}: {key}[{index}]" + (f" ({name!r})" if isinstance(name, str) else "")


class RuleFiles:
    """The files a server was started with: loaded into its rule book, and again whenever they change."""

    def __init__(self, paths: Iterable[Path], state: MockState) -> None:
        self.paths = [Path(p) for p in paths]
        self.state = state
        self.error: str | None = None
        """Why the last reload was refused (the previous rules stay), or None."""
        self.skipped: list[str] = []
        self._seen: tuple[tuple[str, int, int], ...] | None = None

    def load(self) -> Loaded:
        """Load now; RuleFileError when anything is wrong (the rule book is then left as it was)."""
        seen = self._fingerprint()
        loaded = load(self.paths, self.state)
        self.state.rules.replace_files(loaded.rules)
        self._seen, self.error, self.skipped = seen, None, loaded.skipped
        for reason in loaded.skipped:
            log.warning("gptnb-mock: skipped %s", reason)
        return loaded

    def reload_if_changed(self) -> bool:
        """Reload when a file changed, appeared or went; True when the rules were replaced."""
        try:
            seen = self._fingerprint()
        except RuleFileError as exc:
            seen = None
            problem = str(exc)
        else:
            if seen == self._seen:
                return False
            try:
                loaded = self.load()
            except RuleFileError as exc:
                problem = str(exc)
            else:
                log.info("gptnb-mock: reloaded %d rules from %s", len(loaded.rules), ", ".join(map(str, self.paths)))
                return True
        self._seen = seen
        if problem != self.error:
            log.error("gptnb-mock: kept the previous rules: %s", problem)
        self.error = problem
        return False

    async def watch(self, interval: float = WATCH_INTERVAL) -> None:
        """Look for changes until cancelled."""
        while True:
            await asyncio.sleep(interval)
            await asyncio.to_thread(self.reload_if_changed)

    def _fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        found = []
        for path in files_under(self.paths):
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(found)

    def as_dict(self) -> dict[str, Any]:
        return {"paths": [str(p) for p in self.paths], "error": self.error, "skipped": self.skipped}
