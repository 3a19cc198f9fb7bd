"""How state is written down: tasks, rules and journal entries as flat records of JSON and numbers.

Both stores keep these very records (the in-memory one in dicts, Redis in hashes and lists), so a value
that survives the one survives the other, and a task read from either is a fresh copy.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, TypeVar

import orjson

from ..faults.callback_faults import CallbackFault
from ..journal import JournalEntry
from .. import steering
from ..quota.limits import Limit
from ..steering import Rule
from ..tasks import CallbackPlan, Rendering, Step, Task

T = TypeVar("T")
TYPE_KEY = "$type"
_storable: dict[str, type] = {}
_TYPE_MARK = b'"' + TYPE_KEY.encode() + b'"'


def storable(cls: type[T]) -> type[T]:
    """Mark a dataclass that families keep in ``Task.data``: it is stored as a tagged object and read
    back as an instance (its tuples come back as lists)."""
    _storable[_type_name(cls)] = cls
    return cls


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = _type_name(type(value))
        if name not in _storable:
            raise TypeError(f"{name} is kept in a task but is not marked @storable")
        return {TYPE_KEY: name, **{f.name: getattr(value, f.name) for f in dataclasses.fields(value)}}
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot store a {type(value).__name__}")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS)


def loads(raw: bytes | str) -> Any:
    value = orjson.loads(raw)
    return _revive(value) if _TYPE_MARK in (raw if isinstance(raw, bytes) else raw.encode()) else value


def _revive(value: Any) -> Any:
    if isinstance(value, list):
        return [_revive(v) for v in value]
    if isinstance(value, dict):
        fields = {k: _revive(v) for k, v in value.items()}
        name = fields.pop(TYPE_KEY, None)
        return _storable[name](**fields) if name is not None else fields
    return value


# ---- tasks ----
# A task is a record of fields: the parts that never change after creation in one JSON document, and
# each part a store operation changes on its own (polls, entered, delivered callbacks) as a field.


def task_record(task: Task) -> dict[str, bytes | str | int]:
    fixed = {
        "id": task.id,
        "kind": task.kind,
        "params": task.params,
        "created_at": task.created_at,
        "owner": task.owner,
        "parent_id": task.parent_id,
        "callback_url": task.callback_url,
        "success": _step(task.success),
        "failure": _step(task.failure),
        "render": [task.render.function, task.render.args] if task.render else None,
        "callback": dataclasses.asdict(task.callback) if task.callback else None,
    }
    return {"family": task.family, "fixed": dumps(fixed), **changing_fields(task), "polls": task.polls, "delivered": -1}


def changing_fields(task: Task) -> dict[str, bytes | str | int]:
    """The fields ``TaskEngine.update`` may rewrite."""
    return {
        "steps": dumps([_step(s) for s in task.steps]),
        "nsteps": len(task.steps),
        "data": dumps(task.data),
        "fail_reason": task.fail_reason if task.fail_reason is not None else "",
        "has_failure": int(task.fail_reason is not None),
        "entered": entered_text(task.entered),
        "revision": task.revision,
    }


def entered_text(entered: list[float]) -> str:
    # Appended to by an atomic store operation without parsing: comma-separated reprs (exact floats).
    return ",".join(repr(t) for t in entered)


def seen_by_poll(task: Task, record: dict[Any, Any]) -> Task:
    """``task`` as a poll saw it in ``record``: the task itself with its poll count and entered steps
    when the record is of its revision (nothing else changes without a new revision), else a fresh copy."""
    get = _field_reader(record)
    if int(get("revision")) != task.revision:
        return task_from_record(record)
    task.polls = int(get("polls"))
    task.entered = entered_of(get("entered"))
    return task


def entered_of(text: bytes | str) -> list[float]:
    return [float(t) for t in _text(text).split(",")] if text else []


def task_from_record(record: dict[Any, Any]) -> Task:
    get = _field_reader(record)
    fixed = loads(get("fixed"))
    callback, render = fixed["callback"], fixed.get("render")
    return Task(
        id=fixed["id"],
        family=_text(get("family")),
        kind=fixed["kind"],
        params=fixed["params"],
        steps=_steps(get("steps")),
        created_at=fixed["created_at"],
        owner=fixed["owner"],
        parent_id=fixed["parent_id"],
        callback_url=fixed["callback_url"],
        data=loads(get("data")),
        fail_reason=_text(get("fail_reason")) if int(get("has_failure")) else None,
        success=Step(*fixed["success"]),
        failure=Step(*fixed["failure"]),
        polls=int(get("polls")),
        entered=entered_of(get("entered")),
        render=Rendering(render[0], tuple(render[1])) if render else None,
        callback=_callback_plan(callback) if callback else None,
        revision=int(get("revision")),
    )


def _callback_plan(fields: dict[str, Any]) -> CallbackPlan:
    fault = fields.get("fault")
    return CallbackPlan(**{**fields, "fault": CallbackFault(**fault) if fault else None})


def _step(step: Step) -> list[Any]:
    return [step.status, step.at, step.progress, step.failed]


@functools.lru_cache(maxsize=1024)
def _steps(raw: bytes | str) -> tuple[Step, ...]:
    # Plans repeat (every task of a kind has the same one) and steps never change: read each once.
    return tuple(Step(*s) for s in orjson.loads(raw))


def _field_reader(record: dict[Any, Any]) -> Any:
    # Redis hands back bytes keys; the in-memory store uses str keys.
    if record and isinstance(next(iter(record)), bytes):
        return lambda name: record[name.encode()]
    return record.__getitem__


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


# ---- rules and journal entries ----


def rule_record(rule: Rule) -> bytes:
    """The rule without its id (the store numbers rules)."""
    return dumps(steering.rule_record(rule))


def rule_from_record(raw: bytes, hits: int) -> Rule:
    return steering.rule_from_record(loads(raw), hits)


def limit_record(limit: Limit) -> bytes:
    return dumps(limit.as_dict())


def limit_from_record(raw: bytes) -> Limit:
    return Limit(**orjson.loads(raw))


def entry_record(entry: JournalEntry) -> bytes:
    """The entry as JSON, written by orjson from the dataclass itself (its number, 0 until the store
    assigns one when it appends, is replaced on reading)."""
    return orjson.dumps(entry, default=_default, option=orjson.OPT_NON_STR_KEYS)


def entry_from_record(raw: bytes, seq: int) -> JournalEntry:
    return JournalEntry(**{**loads(raw), "seq": seq})
