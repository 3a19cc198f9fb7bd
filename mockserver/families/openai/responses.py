"""The OpenAI Responses API: create (object or typed event stream), retrieve, delete, cancel, input items."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import ApiError
from ...replies import JsonReply, Reply, StreamReply
from ...streaming import wants_stream
from .. import handles
from . import response_store as stored
from .listing import cursor_page
from .response_items import input_items
from .response_output import ModelResponse

if TYPE_CHECKING:
    from ...pipeline import Call


@handles("openai.responses.create")
async def create(call: Call) -> Reply:
    body = call.body
    keep = body.get("store") is not False
    if body.get("background") and not keep:
        raise ApiError(400, "invalid_request", "Background mode requires store=true.", param="background")
    plan = ModelResponse(call, await stored.history(call, body.get("previous_response_id")), input_items(body["input"]))
    task = await stored.save(call, plan) if keep else None
    if wants_stream(call):
        return StreamReply(plan.events())
    if task is not None:
        return JsonReply(stored.render(call.state.tasks.view(task)))
    return JsonReply(plan.finished())


@handles("openai.responses.retrieve")
async def retrieve(call: Call) -> Reply:
    task = await stored.found(call, call.params["response_id"])
    return JsonReply(stored.render(await call.state.tasks.poll(task)))


@handles("openai.responses.delete")
async def delete(call: Call) -> Reply:
    task = await stored.found(call, call.params["response_id"])
    await stored.delete(call, task)
    return JsonReply({"id": task.id, "object": "response.deleted", "deleted": True})


@handles("openai.responses.cancel")
async def cancel(call: Call) -> Reply:
    task = await stored.found(call, call.params["response_id"])
    return JsonReply(stored.render(await stored.cancel(call, task)))


@handles("openai.responses.input_items")
async def list_input_items(call: Call) -> Reply:
    task = await stored.found(call, call.params["response_id"])
    return JsonReply(cursor_page(task.data["items"], call.query))
