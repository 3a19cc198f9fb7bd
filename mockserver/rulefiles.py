"""Files of canned replies: read, checked, and reloaded while the mock serves.

A file is JSON or YAML holding ``{"rules": [...]}`` (or just the list), each rule in the admin API's
JSON form, or aimock's ``{"fixtures": [...]}``. A path may be a directory: its ``.json``, ``.yaml``
and ``.yml`` files are read by name, sub-directories after files, as aimock reads a directory.
Anything malformed is refused with the file, the entry and the problem named; a running server keeps
its last good set and shows the problem at ``GET /__mock/rules``.

A server's files (``serve --fixtures``) are the store's shared rules, which every namespace has; the
pytest fixtures load files into their test's namespace.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import yaml

from .aimock import AimockError, NoCounterpart, translate
from .contracts import ContractRegistry
from .rulecheck import prepare
from .steering import FILES, SHARED, Rule, ScenarioError, rule_from_json, rule_record
from .store import StoreUnavailable

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


def load(paths: Iterable[Path], registry: ContractRegistry, strict: bool, layer: int = FILES) -> Loaded:
    """Every rule of every file, prepared against the contracts (strict mode refuses misfits)."""
    loaded = Loaded()
    for path in files_under(paths):
        entries, skipped = _entries(_read(path), path, registry)
        for label, spec, notes in entries:
            try:
                rule = prepare(rule_from_json(spec, source=label), registry, strict)
            except ScenarioError as exc:
                raise RuleFileError(f"{label}: {exc}") from None
            rule.notes = (*notes, *rule.notes)
            rule.layer = layer
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


def _entries(document: Any, path: Path, registry: ContractRegistry) -> tuple[list[Entry], list[str]]:
    if isinstance(document, dict) and "fixtures" in document:
        return _aimock_entries(document["fixtures"], path, registry)
    listed = document.get("rules") if isinstance(document, dict) and set(document) <= {"rules", "$comment"} else document
    if not isinstance(listed, list):
        raise RuleFileError(f'{path}: expected {{"rules": [...]}}, a list of rules, or aimock\'s {{"fixtures": [...]}}')
    return [(_label(path, "rules", index, spec), spec, []) for index, spec in enumerate(listed)], []


def _aimock_entries(fixtures: Any, path: Path, registry: ContractRegistry) -> tuple[list[Entry], list[str]]:
    if not isinstance(fixtures, list):
        raise RuleFileError(f'{path}: "fixtures" must be a list (aimock\'s fixture file format)')
    found: list[Entry] = []
    skipped: list[str] = []
    for index, entry in enumerate(fixtures):
        label = _label(path, "fixtures", index, entry)
        try:
            translated = translate(entry, registry)
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
    """The files a server was started with: the store's shared rules, loaded again whenever they change."""

    def __init__(self, paths: Iterable[Path], state: MockState) -> None:
        self.paths = [Path(p) for p in paths]
        self.state = state
        self.error: str | None = None
        """Why the last reload was refused (the previous rules stay), or None."""
        self.skipped: list[str] = []
        self._seen: tuple[tuple[str, int, int], ...] | None = None

    async def load(self) -> Loaded:
        """Load now; RuleFileError when anything is wrong (the shared rules are then left as they were).

        Workers and replicas loading the same files write them to the store once (see ``digest``)."""
        seen = await asyncio.to_thread(self._fingerprint)
        loaded = await asyncio.to_thread(load, self.paths, self.state.registry, self.state.settings.strict, SHARED)
        batch = digest(loaded.rules)
        for rule in loaded.rules:
            rule.batch = batch  # a changed file's sequences count afresh
        await self.state.store.replace_shared_rules(loaded.rules, batch)
        self._seen, self.error, self.skipped = seen, None, loaded.skipped
        for reason in loaded.skipped:
            log.warning("gptnb-mock: skipped %s", reason)
        return loaded

    async def reload_if_changed(self) -> bool:
        """Reload when a file changed, appeared or went; True when the rules were replaced."""
        try:
            seen = await asyncio.to_thread(self._fingerprint)
        except RuleFileError as exc:
            seen = None
            problem = str(exc)
        else:
            if seen == self._seen:
                return False
            try:
                loaded = await self.load()
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
        """Look for changes until cancelled (an unavailable store is tried again at the next look)."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reload_if_changed()
            except StoreUnavailable as exc:
                log.error("gptnb-mock: could not reload the rule files: %s", exc)

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


def digest(rules: list[Rule]) -> str:
    """What the rules say, in short: the same files give the same digest in every process."""
    return hashlib.sha256(orjson.dumps([rule_record(rule) for rule in rules], option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]
