"""Values a relay reads as "not given".

new-api decodes the bodies of most task families into Go structs. A Go struct has no "absent": an
empty string, a ``null`` or a zero number decodes to the field's zero value, and the relay's code then
tests ``if req.Image != ""`` — so real clients send ``{"image": "", "image_tail": ""}`` for the inputs
they do not use, and the relay treats them as missing. A contract says which values its relay reads that
way (``request.absent_values``); the mock drops object members holding one of them before it validates
the request or hands it to a handler, the strategies send them, and the checks expect them accepted.

Most contracts declare a list of values, read as "not given" at every depth. Where the relay decodes
only some members into typed fields and passes the rest on as written (the Claude and Responses
formats keep ``json.RawMessage`` and ``any`` members verbatim), the declaration names the members too:
``{"values": [null], "fields": ["temperature", "generationConfig.*"]}``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from collections.abc import Iterable
from typing import Any

# The spellings a contract may list (contract.schema.json keeps the same list).
MARKERS: tuple[Any, ...] = ("", None, 0, False, [], {})

# In a field path, this segment stands for every member of an object and every item of an array.
ANY = "*"


def is_absent(value: Any, markers: tuple[Any, ...]) -> bool:
    """Whether ``value`` is one of ``markers`` by type as well as by value (``0`` is not ``False``)."""
    for marker in markers:
        if marker is None:
            if value is None:
                return True
        elif isinstance(marker, bool):
            if value is marker:
                return True
        elif isinstance(marker, (int, float)):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value == marker:
                return True
        elif type(value) is type(marker) and value == marker:
            return True
    return False


def may_hold(text: bytes, markers: tuple[Any, ...]) -> bool:
    """Whether the JSON ``text`` may hold a value that is one of ``markers`` (False is certain).

    ``null``, ``""`` and ``false`` have one spelling each in JSON, so a text without any of them has
    nothing to drop: the common request skips the walk. Other markers are assumed present (a zero
    may be written ``1e-999``)."""
    return _spelled_in(text, {_spelling(marker) for marker in markers})


def _spelled_in(text: bytes, spellings: Iterable[bytes]) -> bool:
    for spelling in spellings:  # a loop, not any(): this runs on every JSON request
        if spelling in text:
            return True
    return False


def _spelling(marker: Any) -> bytes:
    if marker is None:
        return b"null"
    if marker is False:
        return b"false"
    if isinstance(marker, str) and marker == "":
        return b'""'
    return b""  # in every text


def drop_absent(value: Any, markers: tuple[Any, ...]) -> Any:
    """``value`` without the object members whose value is one of ``markers``, at every depth
    (objects inside arrays too, as Go decodes a slice of structs); array items themselves stay."""
    if not markers:
        return value
    if isinstance(value, dict):
        kept = {}
        for key, member in value.items():
            if is_absent(member, markers):
                continue
            kept[key] = drop_absent(member, markers)
        return kept
    if isinstance(value, list):
        return [drop_absent(item, markers) for item in value]
    return value


def _drop_at(value: Any, markers: tuple[Any, ...], paths: tuple[tuple[str, ...], ...]) -> Any:
    """``value`` without the members at ``paths`` (dotted, ``*`` for any member or item) that hold a marker."""
    if not paths:
        return value
    if isinstance(value, dict):
        kept = {}
        for key, member in value.items():
            here = [path for path in paths if path[0] in (key, ANY)]
            if any(len(path) == 1 for path in here) and is_absent(member, markers):
                continue
            kept[key] = _drop_at(member, markers, tuple(path[1:] for path in here if len(path) > 1))
        return kept
    if isinstance(value, list):
        inner = tuple(path[1:] for path in paths if path[0] == ANY and len(path) > 1)
        return [_drop_at(item, markers, inner) for item in value] if inner else value
    return value


@dataclass(frozen=True)
class Absence:
    """A contract's ``request.absent_values``: the values, and the members they are read at
    (``fields is None``: every member at every depth)."""

    values: tuple[Any, ...] = ()
    fields: tuple[tuple[str, ...], ...] | None = None

    @classmethod
    def declared(cls, declaration: Any) -> Absence:
        if isinstance(declaration, dict):
            return cls(tuple(declaration["values"]), tuple(tuple(f.split(".")) for f in declaration["fields"]))
        return cls(tuple(declaration or ()))

    def __bool__(self) -> bool:
        return bool(self.values)

    @functools.cached_property
    def _spellings(self) -> tuple[bytes, ...]:
        return tuple({_spelling(marker) for marker in self.values})

    def may_be_in(self, text: bytes) -> bool:
        """``may_hold`` for this absence's values (their spellings worked out once)."""
        return _spelled_in(text, self._spellings)

    def drop(self, value: Any) -> Any:
        """``value`` as the relay reads it: the declared members holding a declared value left out."""
        if self.fields is None:
            return drop_absent(value, self.values)
        return _drop_at(value, self.values, self.fields)

    def covers(self, name: str) -> bool:
        """Whether a top-level member called ``name`` is read as "not given" when it holds a value."""
        return self.fields is None or any(len(path) == 1 and path[0] in (name, ANY) for path in self.fields)
