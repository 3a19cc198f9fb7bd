"""The relay's unified video routes: new-api's ``/v1/video/generations`` and OpenAI's ``/v1/videos``.

Both submit the same kind of task (``video_tasks``); each route shows it in its own shape. Tasks move
on the instance's clock like every other family's, and a finished one downloads as a real MP4.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ... import media
from ...errors import ApiError
from ...replies import BinaryReply, JsonReply, Reply
from ...taskflow import mine
from .. import handles
from . import video_tasks as videos
from .listing import cursor_page
from .task_errors import task_error

if TYPE_CHECKING:
    from ...pipeline import Call


def _reference_size(call: Call, size: str) -> None:
    """An input_reference image must be a picture of exactly the asked size, as OpenAI requires."""
    for upload in call.files.get("input_reference") or []:
        try:
            _, width, height = media.image_size(upload.data)
        except ValueError:
            raise task_error("invalid_request", "input_reference must be an image (image/jpeg, image/png or image/webp)") from None
        if f"{width}x{height}" != size:
            raise task_error("invalid_request", f"input_reference is {width}x{height}; it must match the requested size {size}")


@handles("openai.video.generations.create")
async def generate(call: Call) -> Reply:
    body = call.body
    seconds = body.get("seconds") or str(round(body.get("duration") or int(videos.DEFAULT_SECONDS)))
    size = body.get("size") or (f"{body['width']}x{body['height']}" if body.get("width") and body.get("height") else videos.DEFAULT_SIZE)
    task = await videos.submit(call, prompt=body["prompt"], model=body["model"], seconds=seconds, size=size)
    return JsonReply(videos.submitted(call.state.tasks.view(task)))


@handles("openai.video.generations.get")
async def generation(call: Call) -> Reply:
    task = await videos.found(call, call.params["task_id"])
    return JsonReply({"code": "success", "message": "", "data": videos.task_dto(await call.state.tasks.poll(task))})


@handles("openai.videos.create")
async def create(call: Call) -> Reply:
    body = call.body
    size = body.get("size") or videos.DEFAULT_SIZE
    _reference_size(call, size)
    task = await videos.submit(call, prompt=body["prompt"], model=body.get("model") or videos.DEFAULT_MODEL, seconds=body.get("seconds") or videos.DEFAULT_SECONDS, size=size)
    return JsonReply(videos.submitted(call.state.tasks.view(task)))


@handles("openai.videos.remix")
async def remix(call: Call) -> Reply:
    origin = await videos.find(call, call.params["video_id"])
    if origin is None:
        raise task_error("task_not_exist", "task_origin_not_exist")
    data = origin.data
    task = await videos.submit(call, prompt=call.body["prompt"], model=data["model"], seconds=data["seconds"], size=data["size"], remixed_from=origin.id)
    return JsonReply(videos.submitted(call.state.tasks.view(task)))


@handles("openai.videos.retrieve")
async def retrieve(call: Call) -> Reply:
    task = await videos.found(call, call.params["video_id"])
    return JsonReply(videos.openai_video(await call.state.tasks.poll(task)))


@handles("openai.videos.content")
async def content(call: Call) -> Reply:
    task = await videos.find(call, call.params["video_id"])
    if task is None:
        raise ApiError(404, "invalid_request", "Task not found")
    view = call.state.tasks.view(task)
    if not view.succeeded:
        raise ApiError(400, "invalid_request", f"Task is not completed yet, current status: {view.status}")
    return BinaryReply(media.mp4(), media_type="video/mp4", headers={"cache-control": "public, max-age=86400"})


@handles("openai.videos.list")
async def list_videos(call: Call) -> Reply:
    listed = [t for t in await mine(call, videos.FAMILY) if t.kind == videos.KIND and not t.data["deleted"]]
    return JsonReply(cursor_page([videos.openai_video(call.state.tasks.view(t)) for t in listed], call.query))


@handles("openai.videos.delete")
async def delete(call: Call) -> Reply:
    video_id = call.params["video_id"]
    task = await videos.find(call, video_id)
    if task is None:
        raise ApiError(404, "invalid_request", f"Video with id '{video_id}' not found.", param="video_id")
    if not call.state.tasks.view(task).terminal:
        raise ApiError(400, "invalid_request", "Only completed or failed videos can be deleted.", param="video_id")
    await call.state.tasks.update(task, lambda video: video.data.update(deleted=True))
    return JsonReply({"id": video_id, "object": "video.deleted", "deleted": True})
