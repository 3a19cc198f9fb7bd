"""Task lifecycles per family (contracts/_lifecycles.json): how to follow a task and in what order its
status words may appear."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from .resources import contracts_dir

Status = str | int
"""Most families use status words; some (PicWish, Viggle) use integers."""


@dataclass(frozen=True)
class Lifecycle:
    name: str
    submit_id: str
    """JSON pointer to the task id in a submit answer."""
    query: str
    """Contract id that fetches one task."""
    status: str
    """JSON pointer to the status word in the query answer."""
    order: tuple[tuple[Status, ...], ...]
    terminal: frozenset[Status]
    success: frozenset[Status]
    query_path: str | None = None
    """Poll path built from ``{submit_path}`` and ``{id}``, where the query contract's path is not enough."""

    def query_for(self, submit_contract_id: str) -> str:
        """The contract that polls tasks made by ``submit_contract_id`` (``{1}``: its second dotted part)."""
        return self.query.format(*submit_contract_id.split("."))

    def rank(self, status: Status) -> int | None:
        return next((i for i, group in enumerate(self.order) if status in group), None)

    def words(self) -> list[Status]:
        return [word for group in self.order for word in group]


def pointer(document: Any, path: str) -> Any:
    """Resolve a JSON pointer (``/data/task_id``, ``/0/id``); None where the document has no such place."""
    node = document
    for raw in path.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


@functools.cache
def lifecycles() -> dict[str, Lifecycle]:
    return parse_lifecycles(json.loads((contracts_dir() / "_lifecycles.json").read_text(encoding="utf-8")))


def parse_lifecycles(data: dict[str, Any]) -> dict[str, Lifecycle]:
    """The followed lifecycles of a ``_lifecycles.json`` document (another copy of the contracts has its own)."""
    return {
        name: Lifecycle(
            name=name,
            submit_id=spec["submit_id"],
            query=spec["query"],
            status=spec["status"],
            order=tuple(tuple(group) for group in spec["order"]),
            terminal=frozenset(spec["terminal"]),
            success=frozenset(spec["success"]),
            query_path=spec.get("query_path"),
        )
        for name, spec in data.items()
        if not name.startswith("$") and "unfollowed" not in spec
    }


@functools.cache
def unfollowed() -> dict[str, str]:
    """Families whose tasks the runner cannot follow, and why."""
    data = json.loads((contracts_dir() / "_lifecycles.json").read_text(encoding="utf-8"))
    return {name: spec["unfollowed"] for name, spec in data.items() if isinstance(spec, dict) and "unfollowed" in spec}
