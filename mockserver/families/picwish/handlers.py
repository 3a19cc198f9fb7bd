"""PicWish endpoints: one create and one query handler serve all nine tools (the tool is in the contract id)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from ... import media
from ...ids import derived_int
from ...media_routes import image_path
from ...replies import BinaryReply, JsonReply, Reply
from ...taskflow import find_task, outcome_url, planned_failure, start, task_for
from ...tasks import Task, TaskView
from .. import handles
from . import documents, models, tools
from .errors import bad_parameter, task_not_found

if TYPE_CHECKING:
    from ...pipeline import Call

TOOLS = ("segmentation", "scale", "inpaint", "background", "idphoto", "colorization", "imgcompress", "ocr", "correction")
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


def _tool(call: Call) -> str:
    return call.contract.id.split(".")[1]


def _link(base_url: str, task: Task) -> models.Link:
    """Result links on the host the task was created on; base64 in the same field for return_type 2."""
    seed = derived_int("picwish", task.id)

    def link(picture: tools.Picture, expires: int) -> str:
        if picture.fmt in documents.FORMATS:
            return f"{base_url}{documents.document_path(task.id, picture.fmt)}?Expires={expires}"
        if task.data["return_type"] == 2:
            return base64.b64encode(_bytes(picture, seed)).decode()
        made = f"{base_url}{image_path(picture.width, picture.height, seed + len(picture.field), picture.fmt)}?Expires={expires}"
        return outcome_url(task, "images", 0, made)

    return link


def _bytes(picture: tools.Picture, seed: int) -> bytes:
    return media.image(picture.width, picture.height, "jpeg" if picture.fmt == "jpg" else picture.fmt, seed=seed + len(picture.field))


def callback_body(view: TaskView, base_url: str) -> dict[str, Any]:
    return models.result(view, _link(base_url, view.task))


def _source(call: Call, tool: str) -> tools.Source:
    uploads = call.files.get("image_file") or []
    if uploads:
        return tools.source_of(uploads[0].data, uploads[0].filename, None, tool)
    return tools.source_of(None, "", call.body.get("image_url"), tool)


def _check_mask(call: Call) -> None:
    for upload in call.files.get("mask_file") or []:
        if not tools.source_of(upload.data, upload.filename, None, "inpaint").decodable:
            raise bad_parameter("mask_file is not a valid image", "mask_file")


def _outcome(tool: str, params: dict[str, Any], source: tools.Source) -> tools.Outcome:
    if tool == "ocr":
        return tools.Outcome((tools.Picture("file", 0, 0, params.get("format", "txt")),), {})
    return tools.outcome(tool, params, source)


@handles(*(f"picwish.{tool}.create" for tool in TOOLS))
async def create(call: Call) -> Reply:
    tool = _tool(call)
    params = dict(call.body)
    tools.check(tool, params)
    _check_mask(call)
    source = _source(call, tool)
    task_id = models.new_task_id(call.request_id)
    reason = planned_failure(call, task_id)
    failure_state = models.NOT_AN_IMAGE if not source.decodable else models.FAILED if reason else None
    sync = params.get("sync") == 1 and tool not in models.ASYNC_ONLY
    task = task_for(
        call,
        id=task_id,
        family=models.FAMILY,
        kind=tool,
        params={k: v for k, v in params.items() if k != "image_file"},
        steps=models.plan(tool, sync, failure_state),
        data={
            "outcome": _outcome(tool, params, source),
            "return_type": params.get("return_type", 1),
            "from_url": not call.files.get("image_file"),
        },
        fail_reason=reason or ("image decode failed" if failure_state else None),
        success=models.SUCCESS_STEP,
        failure=models.FAILURE_STEP,
    )
    await start(call, task, callback_body, call.base_url)
    if not sync:
        return JsonReply({"status": 200, "message": "success", "data": {"task_id": task_id}})
    view = call.state.tasks.view(task)
    if params.get("return_type") == 3 and view.succeeded:
        picture = task.data["outcome"].pictures[0]
        return BinaryReply(_bytes(picture, derived_int("picwish", task.id)), media_type=MEDIA_TYPES[picture.fmt])
    return JsonReply(models.result(view, _link(call.base_url, task)))


@handles(*(f"picwish.{tool}.get" for tool in TOOLS))
async def get(call: Call) -> Reply:
    task = await find_task(call, call.params["task_id"])
    if task is None or not models.is_task(task, _tool(call)):
        raise task_not_found()
    return JsonReply(models.result(await call.state.tasks.poll(task), _link(call.base_url, task)))


@handles("picwish.output.document")
async def output_document(call: Call) -> Reply:
    task_id, _, fmt = call.params["name"].rpartition(".")
    task = await call.state.tasks.get(task_id)
    finished = task is not None and models.is_task(task, "ocr") and call.state.tasks.view(task).succeeded
    if not finished or fmt != task.params.get("format", "txt"):
        raise task_not_found()
    text = documents.recognised_text(task.id, task.params.get("language", "ChinesePRC,English,Digits"))
    return BinaryReply(documents.document(fmt, text), media_type=documents.FORMATS[fmt])
