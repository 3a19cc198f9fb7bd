"""What every async family does with a task: decide whether it fails, store it, follow its callback,
and find it again for the key that created it."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .compaction import compact
from .ids import derived_int
from .tasks import CallbackPlan, Rendering, Task

if TYPE_CHECKING:
    from .pipeline import Call

# Put this word in any text field of a request to have its task fail (no setup needed).
FAIL_MARKER = "mock-fail"


# Families whose finished tasks hand out the media URLs a rule's task outcome gives.
_URL_FAMILIES: set[str] = set()
OUTCOME = "outcome_urls"
"""Where a task keeps the URLs its steering rule gave (``Task.data``), by media kind."""


def hands_out_urls(*families: str) -> None:
    """Declare that these families put a rule's ``task`` URLs into their finished tasks."""
    _URL_FAMILIES.update(families)


def delivers_urls(family: str) -> bool:
    return family in _URL_FAMILIES


def url_families() -> frozenset[str]:
    return frozenset(_URL_FAMILIES)


def outcome_url(task: Task, kind: str, index: int, made: str) -> str:
    """The ``index``th URL of ``kind`` (images, audio, videos) the rule gave the task, else ``made``.

    When fewer URLs were given than the family hands out, the last one repeats.
    """
    given = task.data.get(OUTCOME, {}).get(kind)
    return given[min(index, len(given) - 1)] if given else made


def planned_failure(call: Call, task_id: str) -> str | None:
    """Why the task about to be created will fail, or None: steering rule, marker, failure rate."""
    outcome = call.canned.task if call.canned is not None else None
    if outcome is not None and outcome.fail:
        return outcome.fail
    if _mentions(call.body, FAIL_MARKER):
        return f"failed on request ({FAIL_MARKER} in the request)"
    rate = call.state.settings.task_failure_rate
    if rate > 0 and (derived_int("failure", task_id) % 10_000) < rate * 10_000:
        return "failed by the configured failure rate"
    return None


def _mentions(value: object, word: str) -> bool:
    if isinstance(value, str):
        return word in value
    if isinstance(value, dict):
        return any(_mentions(v, word) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, word) for v in value)
    return False


def callback_url(call: Call) -> str | None:
    spec = call.contract.document.get("callback")
    if spec is None or not isinstance(call.body, dict):
        return None
    url = call.body.get(spec["field"])
    return url if isinstance(url, str) and url.strip() else None


def task_for(call: Call, **fields: Any) -> Task:
    """A Task filled in from the request the way every family fills it (its parameters, the clock's
    time, the caller's key, its callback URL); ``fields`` give the rest (id, family, kind, steps …)."""
    params = dict(call.body) if isinstance(call.body, dict) else {}
    defaults = {
        # Bounded: a task outlives its request, and base64 images must not pile up in the store.
        "params": compact(params, call.state.settings.task_param_bytes),
        "created_at": call.state.clock.now(),
        "owner": call.api_key,
        "callback_url": callback_url(call),
    }
    task = Task(**{**defaults, **fields})
    outcome = call.canned.task if call.canned is not None else None
    if outcome is not None and outcome.urls:
        task.data[OUTCOME] = {kind: list(urls) for kind, urls in outcome.urls.items()}
    return task


async def stored(call: Call, task_id: str, family: str, kind: str) -> Task | None:
    """The caller's task ``task_id`` if it is a ``kind`` task of ``family`` that was not deleted (``data["deleted"]``)."""
    task = await find_task(call, task_id)
    if task is None or task.family != family or task.kind != kind or task.data.get("deleted"):
        return None
    return task


async def start(call: Call, task: Task, render: Callable[..., Any], *args: Any) -> Task:
    """Store the task and, when it asked for callbacks, have every state change delivered.

    ``render(view, *args)`` is the task in its family's words: each callback's body, and the admin
    API's view of the task. A module-level function and JSON arguments, so any worker can call it
    (``args`` may hold ``call.base_url``, never the request itself)."""
    state = call.state
    task.render = Rendering.of(render, *args)
    url = task.callback_url
    reason = state.callbacks.refusal(url) if url else None
    if url and reason is None:
        spec = call.contract.document.get("callback") or {}
        task.callback = CallbackPlan(call.contract.id if spec else "", spec.get("when") == "finish", call.extras.get("callback_fault"))
    elif url and reason:
        await state.callbacks.refuse(state, task.id, url, reason)
    return await state.tasks.create(task)


async def find_task(call: Call, task_id: str) -> Task | None:
    """The task ``task_id`` if the caller may see it, else None (as if it did not exist).

    A task belongs to the key that created it, as the relay scopes every task query to the user
    whose token asks (QuantumNous/new-api ``model/task.go`` ``GetByTaskId(userId, taskId)``:
    ``user_id = ? and task_id = ?``; ``relay/mjproxy_handler.go`` ``GetByMJId(userId, taskId)``).
    The mock has no users, so a key stands for one. Tasks made without a key are everyone's.
    """
    task = await call.state.tasks.get(task_id)
    return task if task is not None and visible(call, task) else None


def visible(call: Call, task: Task) -> bool:
    if task.owner is None:
        return True
    return call.api_key is not None and hmac.compare_digest(task.owner.encode(), call.api_key.encode())


async def mine(call: Call, family: str | None = None) -> list[Task]:
    """The caller's tasks (of ``family``), for list and batch queries."""
    return [t for t in await call.state.tasks.tasks(family) if visible(call, t)]
