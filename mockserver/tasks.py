"""Async tasks: a record plus a plan, whose state at any moment is a function of the plan and the clock.

Nothing ticks in the background. A task's plan is the list of steps it passes through (status word,
progress, when it begins); asking for a task computes where it is now. Under the ``step`` clock each
poll moves a task one step on instead, so a client's polling loop ends in a test without sleeping.
Families build plans and render views in their own words; this module knows no family.

Tasks live in the store (``mockserver.store``), so every worker sees the same ones. Changes go
through the engine: ``poll`` is one atomic store operation, ``finish``, ``resume`` and ``update``
rewrite a task only if nobody else changed it since it was read (and retry if somebody did).
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .clock import STEP, Clock
from .faults.callback_faults import CallbackFault

if TYPE_CHECKING:
    from .store import Store

UPDATE_ATTEMPTS = 20  # concurrent writers of one task are rare; this many conflicts in a row is a bug


@dataclass(frozen=True)
class Step:
    status: str
    at: float
    """Seconds after submission at which the task enters this step (real and manual clocks)."""
    progress: int = 0
    """Percent done, 0-100, as the family reports it."""
    failed: bool = False


@dataclass(frozen=True)
class Rendering:
    """The task in its family's words at a moment (what its query answers, what its callbacks carry):
    ``function`` (``module:function``) called with a ``TaskView``, then ``args``. Kept with the task as
    names and JSON, so any worker renders it, after a restart too, and it holds nothing of the request."""

    function: str
    args: tuple[Any, ...] = ()

    @classmethod
    def of(cls, function: Callable[..., Any], *args: Any) -> Rendering:
        """``function`` must be a module-level function (a name any process can import)."""
        name = f"{function.__module__}:{function.__qualname__}"
        if "<" in function.__qualname__ or "." in function.__qualname__:
            raise ValueError(f"task renderers must be module-level functions, not {name}")
        return cls(name, args)

    def __call__(self, view: TaskView) -> Any:
        return _function(self.function)(view, *self.args)


@functools.cache
def _function(name: str) -> Callable[..., Any]:
    module, _, attribute = name.partition(":")
    return getattr(importlib.import_module(module), attribute)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CallbackPlan:
    """How a task's state changes are POSTed to its ``callback_url`` (each body is the task's
    ``render``). Kept with the task, so whichever worker is free delivers them, after a restart too."""

    contract: str = ""
    """The contract whose ``callback.body`` schema checks each body in strict mode."""
    only_final: bool = False
    """Families whose webhook fires once, when the task ends."""
    fault: CallbackFault | None = None
    """Steered failures or delays of the deliveries (``X-Mock-Scenario: callback_fail=503:2``)."""


@dataclass
class Task:
    id: str
    family: str
    kind: str
    params: dict[str, Any]
    steps: tuple[Step, ...]
    created_at: float
    owner: str | None = None
    parent_id: str | None = None
    callback_url: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    """What the family keeps about the result (seeds, sizes, prompts). Stored as JSON: dataclasses
    marked ``@storable`` come back as themselves, tuples come back as lists."""
    fail_reason: str | None = None
    success: Step = Step("SUCCESS", 0.0, 100)
    failure: Step = Step("FAILURE", 0.0, 100, failed=True)
    """The family's terminal steps, used when the operator finishes a task early."""
    polls: int = 0
    entered: list[float] = field(default_factory=list)
    """When each step was entered, for clocks where that is not a function of time (step mode)."""
    render: Rendering | None = None
    """How the task reads in its family's words (its callbacks' bodies, the admin API's ``answer``)."""
    callback: CallbackPlan | None = None
    revision: int = 0
    """Bumped by the store on every rewrite; a rewrite of an older revision is refused."""

    @property
    def fails(self) -> bool:
        return self.steps[-1].failed


@dataclass(frozen=True)
class TaskView:
    """A task at one moment."""

    task: Task
    index: int
    entered_at: float
    now: float

    @property
    def step(self) -> Step:
        return self.task.steps[self.index]

    @property
    def status(self) -> str:
        return self.step.status

    @property
    def progress(self) -> int:
        return self.step.progress

    @property
    def terminal(self) -> bool:
        return self.index == len(self.task.steps) - 1

    @property
    def succeeded(self) -> bool:
        return self.terminal and not self.step.failed

    @property
    def failed(self) -> bool:
        return self.terminal and self.step.failed

    def entered(self, index: int) -> float | None:
        """When step ``index`` began, or None if the task has not reached it."""
        if index > self.index:
            return None
        task = self.task
        return task.entered[index] if index < len(task.entered) else task.created_at + task.steps[index].at


class TaskConflict(RuntimeError):
    """A task kept changing under an update (or vanished): the update was not written."""


class TaskEngine:
    """One namespace's tasks: create them, tell where they are, let the operator finish or fail them."""

    def __init__(self, store: Store, namespace: str, clock: Clock) -> None:
        self.store = store
        self.namespace = namespace
        self.clock = clock

    async def create(self, task: Task) -> Task:
        if self.clock.mode == STEP:
            task.entered = [task.created_at]
        await self.store.create_task(self.namespace, task, self.active_until(task), self.clock.now())
        return task

    async def get(self, task_id: str) -> Task | None:
        return await self.store.task(self.namespace, task_id)

    async def tasks(self, family: str | None = None) -> list[Task]:
        """Oldest first."""
        return await self.store.tasks(self.namespace, family)

    def view(self, task: Task) -> TaskView:
        now = self.clock.now()
        if self.clock.mode == STEP or len(task.entered) > 1:
            index = min(len(task.entered), len(task.steps)) - 1
            return TaskView(task, max(index, 0), task.entered[index] if task.entered else task.created_at, now)
        elapsed = now - task.created_at
        index = 0
        for position, step in enumerate(task.steps):
            if step.at <= elapsed:
                index = position
            else:
                break
        return TaskView(task, index, task.created_at + task.steps[index].at, now)

    async def poll(self, task: Task) -> TaskView:
        """A client looked at the task. Under the step clock it then moves one step on, so a
        polling client sees every step once, the first poll included."""
        step = self.clock.mode == STEP
        seen = await self.store.poll_task(self.namespace, task, self.clock.now(), step)
        if seen is None:  # dropped meanwhile (a reset): show what the caller had
            return self.view(task)
        if step and len(seen.entered) < len(seen.steps) and seen.callback is not None:
            await self.store.nudge_callbacks(self.namespace, seen.id)
        return self.view(seen)

    async def running(self, family: str) -> int:
        """How many of a family's tasks have not finished."""
        return await self.store.running(self.namespace, family, self.clock.now())

    async def finish(self, task: Task, *, failed: bool = False, reason: str | None = None) -> TaskView:
        """End a running task now, successfully or not (the operator's complete / fail).

        A task that has already ended stays as it is: statuses only move forward.
        """

        def end(task: Task) -> bool:
            current = self.view(task)
            if current.terminal:
                return False
            elapsed = max(self.clock.now() - task.created_at, current.step.at)
            reached = task.steps[: current.index + 1]
            last = task.failure if failed else task.success
            task.steps = (*reached, Step(last.status, elapsed, last.progress, failed))
            if failed:
                task.fail_reason = reason or task.fail_reason or "failed by the operator"
            if task.entered:
                task.entered = [*task.entered[: len(reached)], self.clock.now()]
            return True

        return self.view(await self.update(task, end))

    async def resume(self, task: Task, steps: tuple[Step, ...]) -> TaskView:
        """Continue a task that waits in its last step (a modal) with more steps, timed from now."""

        def extend(task: Task) -> None:
            current = self.view(task)
            elapsed = max(self.clock.now() - task.created_at, current.step.at)
            task.steps = (*task.steps[: current.index + 1], *(Step(s.status, elapsed + s.at, s.progress, s.failed) for s in steps))

        return self.view(await self.update(task, extend))

    async def update(self, task: Task, change: Callable[[Task], bool | None]) -> Task:
        """Apply ``change`` to the task and store it; when another worker changed the task first, apply
        it again to the fresh copy. ``change`` returns False to leave the task as it is."""
        current: Task | None = task
        for _ in range(UPDATE_ATTEMPTS):
            if current is None:
                raise TaskConflict(f"task {task.id} no longer exists")
            if change(current) is False:
                return current
            if await self.store.replace_task(self.namespace, current, self.active_until(current)):
                if current is not task:  # the caller's object shows what was stored
                    task.__dict__.update(current.__dict__)
                if task.callback is not None:
                    await self.store.nudge_callbacks(self.namespace, task.id)
                return task
            current = await self.get(task.id)
        raise TaskConflict(f"task {task.id} changed {UPDATE_ATTEMPTS} times while being updated")

    def active_until(self, task: Task) -> float | None:
        """Mock time at which the task stops counting as running; None once it has ended."""
        if self.clock.mode == STEP or len(task.entered) > 1:
            return None if len(task.entered) >= len(task.steps) else math.inf
        return task.created_at + task.steps[-1].at
