"""Async tasks: a record plus a plan, whose state at any moment is a function of the plan and the clock.

Nothing ticks in the background. A task's plan is the list of steps it passes through (status word,
progress, when it begins); asking for a task computes where it is now. Under the ``step`` clock each
poll moves a task one step on instead, so a client's polling loop ends in a test without sleeping.
Families build plans and render views in their own words; this module knows no family.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from .clock import STEP, Clock

DEFAULT_MAX_TASKS = 10_000


@dataclass(frozen=True)
class Step:
    status: str
    at: float
    """Seconds after submission at which the task enters this step (real and manual clocks)."""
    progress: int = 0
    """Percent done, 0-100, as the family reports it."""
    failed: bool = False


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
    """What the family keeps about the result (seeds, sizes, prompts)."""
    fail_reason: str | None = None
    success: Step = Step("SUCCESS", 0.0, 100)
    failure: Step = Step("FAILURE", 0.0, 100, failed=True)
    """The family's terminal steps, used when the operator finishes a task early."""
    polls: int = 0
    entered: list[float] = field(default_factory=list)
    """When each step was entered, for clocks where that is not a function of time (step mode)."""
    render: Callable[[TaskView], Any] | None = field(default=None, repr=False, compare=False)
    """The task in its family's words at a moment (what its query answers), for the operator's views.
    It must not hold on to the request: a task outlives it."""

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


class TaskStore(Protocol):
    """Where tasks live. Narrow on purpose: a shared, persistent store needs only these."""

    def add(self, task: Task) -> None: ...
    def get(self, task_id: str) -> Task | None: ...
    def values(self) -> Iterator[Task]: ...
    def clear(self) -> None: ...
    def __len__(self) -> int: ...


class MemoryTaskStore:
    """In-memory, insertion-ordered, bounded: past ``max_tasks`` the oldest finished tasks go first."""

    def __init__(self, max_tasks: int = DEFAULT_MAX_TASKS) -> None:
        self.max_tasks = max_tasks
        self._tasks: OrderedDict[str, Task] = OrderedDict()
        self._lock = threading.Lock()
        self.is_finished = lambda task: True  # the engine installs the real test

    def add(self, task: Task) -> None:
        with self._lock:
            self._tasks[task.id] = task
            if len(self._tasks) > self.max_tasks:
                self._evict()

    def _evict(self) -> None:
        # Look at a bounded window of the oldest tasks so a submit never scans the whole store.
        excess = len(self._tasks) - self.max_tasks
        for task_id in list(itertools.islice(self._tasks, excess + 64)):
            if excess <= 0:
                break
            if self.is_finished(self._tasks[task_id]):
                del self._tasks[task_id]
                excess -= 1

    def get(self, task_id: str) -> Task | None:
        return self._tasks.get(task_id)

    def values(self) -> Iterator[Task]:
        with self._lock:
            return iter(list(self._tasks.values()))

    def clear(self) -> None:
        with self._lock:
            self._tasks.clear()

    def __len__(self) -> int:
        return len(self._tasks)


class TaskEngine:
    """Creates tasks, tells where they are, and lets the operator finish or fail them."""

    def __init__(self, clock: Clock, store: TaskStore | None = None) -> None:
        self.clock = clock
        self.store: TaskStore = store if store is not None else MemoryTaskStore()
        if isinstance(self.store, MemoryTaskStore):
            self.store.is_finished = lambda task: self.view(task).terminal
        self._lock = threading.Lock()
        # Unfinished tasks per family: id -> when the plan ends, plus a heap of those times, so
        # counting them costs the tasks that finished since the last count, not the whole store.
        self._active: dict[str, dict[str, float]] = {}
        self._due: dict[str, list[tuple[float, str]]] = {}
        self.listeners: list[Any] = []
        """Called with (task) when a task may have moved (a poll, a forced change)."""

    def create(self, task: Task) -> Task:
        if self.clock.mode == STEP:
            task.entered = [task.created_at]
        self.store.add(task)
        self._track(task)
        self._notify(task)
        return task

    def _track(self, task: Task) -> None:
        ends = math.inf if self.clock.mode == STEP else task.created_at + task.steps[-1].at
        with self._lock:
            self._active.setdefault(task.family, {})[task.id] = ends
            heapq.heappush(self._due.setdefault(task.family, []), (ends, task.id))

    def _untrack(self, task: Task) -> None:
        with self._lock:
            self._active.get(task.family, {}).pop(task.id, None)

    def get(self, task_id: str) -> Task | None:
        return self.store.get(task_id)

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

    def poll(self, task: Task) -> TaskView:
        """A client looked at the task. Under the step clock it then moves one step on, so a
        polling client sees every step once, the first poll included."""
        task.polls += 1
        seen = self.view(task)
        if self.clock.mode == STEP and len(task.entered) < len(task.steps):
            task.entered.append(self.clock.now())
            if len(task.entered) == len(task.steps):
                self._untrack(task)
            self._notify(task)
        return seen

    def running(self, family: str) -> int:
        """How many of a family's tasks have not finished."""
        now = self.clock.now()
        with self._lock:
            active, due = self._active.get(family, {}), self._due.get(family, [])
            while due and due[0][0] <= now:
                ends, task_id = heapq.heappop(due)
                if active.get(task_id) == ends:  # not re-planned since (resume, finish)
                    del active[task_id]
            return len(active)

    def finish(self, task: Task, *, failed: bool = False, reason: str | None = None) -> TaskView:
        """End a running task now, successfully or not (the operator's complete / fail).

        A task that has already ended stays as it is: statuses only move forward.
        """
        current = self.view(task)
        if current.terminal:
            return current
        elapsed = max(self.clock.now() - task.created_at, current.step.at)
        reached = task.steps[: current.index + 1]
        last = task.failure if failed else task.success
        task.steps = (*reached, Step(last.status, elapsed, last.progress, failed))
        if failed:
            task.fail_reason = reason or task.fail_reason or "failed by the operator"
        if task.entered:
            task.entered = [*task.entered[: len(reached)], self.clock.now()]
        self._untrack(task)
        self._notify(task)
        return self.view(task)

    def resume(self, task: Task, steps: tuple[Step, ...]) -> TaskView:
        """Continue a task that waits in its last step (a modal) with more steps, timed from now."""
        current = self.view(task)
        elapsed = max(self.clock.now() - task.created_at, current.step.at)
        task.steps = (*task.steps[: current.index + 1], *(Step(s.status, elapsed + s.at, s.progress, s.failed) for s in steps))
        self._track(task)
        self._notify(task)
        return self.view(task)

    def tasks(self, family: str | None = None) -> Iterable[Task]:
        return (t for t in self.store.values() if family is None or t.family == family)

    def clear(self) -> None:
        self.store.clear()
        with self._lock:
            self._active.clear()
            self._due.clear()

    def _notify(self, task: Task) -> None:
        for listener in self.listeners:
            listener(task)
