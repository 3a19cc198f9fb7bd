"""Flux (BFL format) endpoints: create a task, answer polls in BFL's words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...replies import JsonReply, Reply
from ...taskflow import find_task, planned_failure, start, task_for
from ...tasks import Step, TaskView
from .. import handles
from . import inputs, models
from .errors import refusal

if TYPE_CHECKING:
    from ...pipeline import Call


def _moderated(call: Call, prompt: str) -> bool:
    words = set(prompt.lower().replace(",", " ").split())
    return bool(words & call.state.settings.banned_words)


def _check_inputs(body: dict[str, Any], model: str) -> None:
    """What BFL's input model for ``model`` refuses beyond the shared schema, as its 422."""
    problems = inputs.problems(body, model)
    if problems:
        raise refusal(422, problems)


@handles("flux.submit.image")
async def submit_image(call: Call) -> Reply:
    body: dict[str, Any] = call.body
    ratio = body.get("aspect_ratio")
    if ratio and not models.ratio_allowed(ratio):
        raise refusal(422, [{"loc": ["body", "aspect_ratio"], "msg": "Aspect ratio must be between 21:9 and 9:21", "type": "value_error"}])
    model = call.params.get("model") or body.get("model") or models.LEGACY_VARIANTS.get(body.get("variant", ""), models.DEFAULT_MODEL)
    _check_inputs(body, model)
    prompt = body.get("prompt") or ""
    task_id = models.task_id(call.request_id)
    reason = planned_failure(call, task_id)
    if _moderated(call, prompt):
        reason = "prompt flagged by moderation"
        failure: str | None = models.REQUEST_MODERATED
    else:
        failure = models.failure_status(reason)
    data = {
        "size": models.size_for(body, model),
        "format": body.get("output_format") or ("png" if "kontext" in model else "jpeg"),
        "seed": models.seed_for(body.get("seed"), task_id),
        "final_prompt": models.final_prompt(prompt, bool(body.get("prompt_upsampling"))),
    }
    task = task_for(
        call,
        id=task_id,
        family=models.FAMILY,
        kind=model,
        params=dict(body),
        steps=models.plan(failure),
        data=data,
        fail_reason=reason if failure else None,
        success=Step(models.READY, 0.0, 100),
        failure=Step(models.ERROR, 0.0, 100, failed=True),
    )
    await start(call, task, models.webhook, call.base_url)  # sample URLs on the host the task was created on
    return JsonReply({"id": task_id, "polling_url": call.url_for(f"/flux/v1/get_result?id={task_id}")})


@handles("flux.task.get_result")
async def get_result(call: Call) -> Reply:
    task_id = call.query["id"]
    task = await find_task(call, task_id)
    if task is None or task.family != models.FAMILY:
        return JsonReply({"id": task_id, "status": "Task not found"}, status=404)
    return JsonReply(models.task_result(await call.state.tasks.poll(task), call.base_url))
