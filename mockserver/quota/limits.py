"""Rate limits and concurrency gates, per key or per model: the settings, one value each.

``key=sk-test,rpm=3`` (``--limit``), ``{"model": "gpt-4o*", "tpm": 10000, "concurrency": 2}`` (admin
API), ``gptnb.limits.set(key="sk-test", rpm=3)`` (fixture): the same fields everywhere. ``window`` is
the span of the rate windows in seconds (60 by default: per minute).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from ..faults.grammar import FaultSpecError, integer

FIELDS = ("key", "model", "rpm", "tpm", "concurrency", "window")
DEFAULT_WINDOW = 60
MAX_WINDOW = 86_400


class LimitError(ValueError):
    """A limit that cannot be understood; the message names the field."""


@dataclass(frozen=True)
class Limit:
    key: str | None = None
    """The API key this limit holds for (exactly one of key and model)."""
    model: str | None = None
    """The model (a glob: ``gpt-4o*``) this limit holds for, whoever asks."""
    rpm: int | None = None
    """Requests per window."""
    tpm: int | None = None
    """Tokens (prompt and completion) per window."""
    concurrency: int | None = None
    """Requests in flight at once."""
    window: int = DEFAULT_WINDOW
    """Seconds a rate window spans."""

    @property
    def scope(self) -> str:
        return f"key:{self.key}" if self.key is not None else f"model:{self.model}"

    def holds_for(self, key: str | None, model: str | None) -> bool:
        if self.key is not None:
            return key == self.key
        return model is not None and fnmatch.fnmatchcase(model, self.model or "")

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS if getattr(self, name) is not None}


def limit_from_fields(data: Any) -> Limit:
    """A limit from JSON fields or ``--limit``'s ``key=value`` pairs (all strings)."""
    if not isinstance(data, dict):
        raise LimitError('a limit is an object such as {"key": "sk-test", "rpm": 3}')
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise LimitError(f"unknown limit fields: {', '.join(sorted(unknown))}; use {', '.join(FIELDS)}")
    scopes = [name for name in ("key", "model") if data.get(name) is not None]
    if len(scopes) != 1:
        raise LimitError("a limit holds for one key (key=...) or one model glob (model=...), not both or neither")
    if not isinstance(data[scopes[0]], str) or not data[scopes[0]].strip():
        raise LimitError(f"{scopes[0]}={data[scopes[0]]}: needs a non-empty string")
    values: dict[str, Any] = {scopes[0]: data[scopes[0]].strip()}
    try:
        for name in ("rpm", "tpm", "concurrency"):
            if data.get(name) is not None:
                values[name] = integer(name, data[name], 1, 10**12, "", "a whole number above 0")
        if data.get("window") is not None:
            values["window"] = integer("window", data["window"], 1, MAX_WINDOW, "seconds")
    except FaultSpecError as exc:
        raise LimitError(str(exc)) from None
    if not any(name in values for name in ("rpm", "tpm", "concurrency")):
        raise LimitError("a limit needs at least one of rpm, tpm, concurrency")
    return Limit(**values)


def limit_from_text(text: str) -> Limit:
    """``key=sk-test,rpm=3,window=60`` (the ``--limit`` form)."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise LimitError(f"{part.strip()!r} is not name=value (e.g. key=sk-test,rpm=3)")
        fields[name.strip()] = value.strip()
    return limit_from_fields(fields)


@dataclass(frozen=True)
class QuotaRules:
    """Which keys have a quota and which limits hold in one namespace: read with the namespace (so a
    request without either pays nothing), changed only through the store."""

    keys: frozenset[str] = frozenset()
    """Keys with a balance: the only ones whose balance a request looks up."""
    limits: tuple[Limit, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.keys or self.limits)


@dataclass(frozen=True)
class QuotaStart:
    """What every namespace starts with (``--quota``, ``--limit``, the fixture's marker), and a reset
    gives back."""

    balances: tuple[tuple[str, int], ...] = ()
    limits: tuple[Limit, ...] = ()

    @property
    def rules(self) -> QuotaRules:
        return QuotaRules(frozenset(key for key, _ in self.balances), self.limits)
