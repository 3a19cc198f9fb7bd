"""Values a relay reads as "not given".

new-api decodes the bodies of most task families into Go structs. A Go struct has no "absent": an
empty string, a ``null`` or a zero number decodes to the field's zero value, and the relay's code then
tests ``if req.Image != ""`` — so real clients send ``{"image": "", "image_tail": ""}`` for the inputs
they do not use, and the relay treats them as missing. A contract says which values its relay reads that
way (``request.absent_values``); the mock drops object members holding one of them before it validates
the request or hands it to a handler, the strategies send them, and the checks expect them accepted.
"""

from __future__ import annotations

from typing import Any

# The spellings a contract may list (contract.schema.json keeps the same list).
MARKERS: tuple[Any, ...] = ("", None, 0, False, [], {})


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
