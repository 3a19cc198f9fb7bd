"""A small JSONPath for rule conditions on request bodies: ``$.prompt``, ``$.clips[0].tags``,
``$.messages[*].content``, ``$['odd key']``, ``$..name``.

Compiled once when a rule is made (``JsonPath("$.a[0]")``); ``values(document)`` lists every value
the path reaches (none when the document has no such place). Filters and slices are left out: a
condition that needs them is better written as a regex on the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# One step: .name, ..name, .*, [n], [*], ['key'] or ["key"].
_STEP = re.compile(r"""\.\.(?P<deep>[A-Za-z_$][\w$-]*|\*)|\.(?P<name>[A-Za-z_$][\w$-]*|\*)|\[(?:(?P<index>-?\d+)|(?P<star>\*)|'(?P<sq>[^']*)'|"(?P<dq>[^"]*)")\]""")

WILDCARD = object()


class JsonPathError(ValueError):
    """A path this module cannot read, with where it stopped."""


class JsonPath:
    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text.startswith("$"):
            raise JsonPathError(f"a JSON path starts with $ (e.g. $.prompt), got {text!r}")
        self.text = text
        self.steps: list[tuple[bool, Any]] = []  # (recursive, key): key is a str, an int or WILDCARD
        position = 1
        while position < len(text):
            step = _STEP.match(text, position)
            if step is None:
                raise JsonPathError(f"cannot read {text!r} from position {position} ({text[position:]!r})")
            position = step.end()
            if step["deep"] is not None:
                self.steps.append((True, WILDCARD if step["deep"] == "*" else step["deep"]))
            elif step["name"] is not None:
                self.steps.append((False, WILDCARD if step["name"] == "*" else step["name"]))
            elif step["index"] is not None:
                self.steps.append((False, int(step["index"])))
            elif step["star"] is not None:
                self.steps.append((False, WILDCARD))
            else:
                self.steps.append((False, step["sq"] if step["sq"] is not None else step["dq"]))

    def values(self, document: Any) -> list[Any]:
        found = [document]
        for recursive, key in self.steps:
            found = [child for node in found for start in (_descendants(node) if recursive else (node,)) for child in _children(start, key)]
            if not found:
                break
        return found

    def __repr__(self) -> str:
        return f"JsonPath({self.text!r})"


def _children(node: Any, key: Any) -> Iterator[Any]:
    if key is WILDCARD:
        if isinstance(node, dict):
            yield from node.values()
        elif isinstance(node, list):
            yield from node
    elif isinstance(key, int):
        if isinstance(node, list) and -len(node) <= key < len(node):
            yield node[key]
    elif isinstance(node, dict) and key in node:
        yield node[key]


def _descendants(node: Any) -> Iterator[Any]:
    """The node and everything below it, depth first."""
    yield node
    if isinstance(node, dict):
        for child in node.values():
            yield from _descendants(child)
    elif isinstance(node, list):
        for child in node:
            yield from _descendants(child)
