"""Which async task an exchange is about: the task a submit created, or the task a poll looked at and
the status word it saw. Recordings keep this so a task's observed sequence of states survives, and
replay can play it back on the mock's clock. Read from the contracts (``behavior``) and the lifecycles
(``contracts/_lifecycles.json``), so it knows no family.
"""

from __future__ import annotations

from typing import Any

from ..contracts import Contract
from ..lifecycles import lifecycles, pointer


def task_note(contract: Contract | None, params: dict[str, str], query: dict[str, Any], body: Any, answer: Any) -> dict[str, Any] | None:
    """``{"id", "role": "submit"|"poll", "lifecycle", "status"}`` for task exchanges, else None."""
    if contract is None or contract.kind not in ("task-submit", "task-query"):
        return None
    name = contract.behavior.get("lifecycle")
    lifecycle = lifecycles().get(name or "")
    if contract.kind == "task-submit":
        task_id = pointer(answer, lifecycle.submit_id) if lifecycle else None
        return {"id": str(task_id), "role": "submit", "lifecycle": name} if _is_id(task_id) else None
    task_id = polled_id(contract, params, query, body)
    if task_id is None:
        return None
    note: dict[str, Any] = {"id": task_id, "role": "poll", "lifecycle": name}
    if lifecycle is not None:
        shown = answer[0] if isinstance(answer, list) and answer else answer
        status = pointer(shown, lifecycle.status)
        if isinstance(status, (str, int)) and not isinstance(status, bool):
            note["status"] = status
    return note


def polled_id(contract: Contract, params: dict[str, str], query: dict[str, Any], body: Any) -> str | None:
    """The task id a query request asks about (``behavior.task_id``: path.X, query.X or body.X)."""
    where, _, name = contract.behavior.get("task_id", "path.id").partition(".")
    source = {"path": params, "query": query}.get(where, body)
    value = source.get(name) if isinstance(source, dict) else None
    if isinstance(value, list):  # list-by-ids queries: the first id names the sequence
        value = value[0] if value else None
    return str(value) if _is_id(value) else None


def _is_id(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) != ""
