"""Apply a JSON Patch (RFC 6902: add, remove, replace) to a document. Members an operation carries
besides ``op``, ``path`` and ``value`` (drift's ``count`` and ``finding``) are ignored, as the RFC says."""

from __future__ import annotations

import copy
from typing import Any


class PatchError(ValueError):
    """An operation that does not fit the document."""


def apply_patch(document: Any, operations: list[dict[str, Any]]) -> Any:
    result = copy.deepcopy(document)
    for operation in operations:
        result = _apply(result, operation)
    return result


def _apply(document: Any, operation: dict[str, Any]) -> Any:
    op, path = operation["op"], operation["path"]
    if op not in ("add", "remove", "replace"):
        raise PatchError(f"unsupported operation {op!r}")
    if path == "":
        if op in ("add", "replace"):
            return copy.deepcopy(operation["value"])
        raise PatchError("cannot remove the whole document")
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
    parent = document
    for part in parents:
        try:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        except (KeyError, IndexError, ValueError):
            raise PatchError(f"{op} {path}: no {part!r} on the way there") from None
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if op == "add":
            parent.insert(index, copy.deepcopy(operation["value"]))
        elif op == "remove":
            del parent[index]
        else:
            parent[index] = copy.deepcopy(operation["value"])
    elif isinstance(parent, dict):
        if op in ("remove", "replace") and last not in parent:
            raise PatchError(f"{op} {path}: nothing there")
        if op == "remove":
            del parent[last]
        else:
            parent[last] = copy.deepcopy(operation["value"])
    else:
        raise PatchError(f"{op} {path}: the parent is not an object or array")
    return document
