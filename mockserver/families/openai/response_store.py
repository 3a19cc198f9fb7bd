"""Stored responses: what retrieve, delete, cancel, input_items and ``previous_response_id`` read.

Every stored resource of the mock lives in the instance's task store, so this module is the one door
to it for the Responses API: a stored response is a task of kind ``response`` whose data holds the
finished response object and the request's input items (plain JSON). A response created with
``background: true`` has a plan, queued → in_progress → completed, on the instance's clock (so the
manual and step clocks drive it, and the operator can complete or fail it); any other response is
complete when it is created. Its status at any moment comes from the plan, as every task's does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import ApiError
from ...taskflow import planned_failure, start, stored, task_for
from ...tasks import Step, Task, TaskView

if TYPE_CHECKING:
    from ...pipeline import Call
    from .response_output import ModelResponse

FAMILY = "openai"
KIND = "response"
FAILED = Step("failed", 0.0, 100, failed=True)
# A background response waits in the queue a moment, then works for a few seconds.
QUEUED_FOR, WORKS_FOR = 1.0, 3.0


async def save(call: Call, plan: ModelResponse) -> Task:
    """Keep ``plan`` for later requests; a background one starts its run on the instance's clock."""
    final = plan.finished()
    done = Step(final["status"], 0.0, 100)
    steps: tuple[Step, ...] = (done,)
    failure = None
    if call.body.get("background") and not call.body.get("stream"):
        failure = planned_failure(call, plan.id)
        last = FAILED if failure else Step(done.status, QUEUED_FOR + WORKS_FOR, 100)
        steps = (Step("queued", 0.0), Step("in_progress", QUEUED_FOR, 50), last)
    task = task_for(call, id=plan.id, family=FAMILY, kind=KIND, steps=steps, success=done, failure=FAILED, fail_reason=failure,
                    data={"final": final, "items": plan.items, "deleted": False, "cancelled": False})
    return await start(call, task, render)


async def find(call: Call, response_id: str) -> Task | None:
    return await stored(call, response_id, FAMILY, KIND)


async def found(call: Call, response_id: str) -> Task:
    """The stored response, or OpenAI's 404 for an id it does not know (never stored, or deleted)."""
    task = await find(call, response_id)
    if task is None:
        raise ApiError(404, "response_not_found", f"Response with id '{response_id}' not found.", param="response_id")
    return task


def render(view: TaskView) -> dict[str, Any]:
    """The response object as it stands now: queued or running ones have no output yet."""
    final = view.task.data["final"]
    if view.succeeded:
        finished_at = view.entered(view.index)
        return {**final, "completed_at": int(finished_at) if final["completed_at"] is not None and finished_at is not None else final["completed_at"]}
    pending = {**final, "completed_at": None, "incomplete_details": None, "output": [], "usage": None}
    if view.failed and view.task.data["cancelled"]:
        return {**pending, "status": "cancelled"}
    if view.failed:
        return {**pending, "status": "failed", "error": {"code": "server_error", "message": view.task.fail_reason or "The response failed."}}
    return {**pending, "status": view.status}


async def history(call: Call, previous_id: str | None) -> list[dict[str, Any]]:
    """Every item of the conversation before this request: each earlier turn's input, then its output."""
    turns = []
    while previous_id:
        task = await find(call, previous_id)
        if task is None:
            raise ApiError(400, "invalid_request", f"Previous response with id '{previous_id}' not found.", param="previous_response_id", code="previous_response_not_found")
        final = task.data["final"]
        turns.append(task.data["items"] + final["output"])
        previous_id = final.get("previous_response_id")
    return [item for turn in reversed(turns) for item in turn]


async def cancel(call: Call, task: Task) -> TaskView:
    """Stop a background response that has not finished; one that has finished stays as it is."""
    if not task.data["final"]["background"]:
        raise ApiError(400, "invalid_request", "Only responses created with background=true can be cancelled.", param="response_id")
    if not call.state.tasks.view(task).terminal:
        await call.state.tasks.update(task, lambda response: response.data.update(cancelled=True))
        return await call.state.tasks.finish(task, failed=True, reason="cancelled by the client")
    return call.state.tasks.view(task)


async def delete(call: Call, task: Task) -> None:
    await call.state.tasks.update(task, lambda response: response.data.update(deleted=True))
