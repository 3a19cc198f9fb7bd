"""Suno's audio upload as web UIs drive it through a relay: a slot with a presigned form, the file on
that form, upload-finish, polling until Suno has checked the audio, then initialize-clip.

Dooy/chatgpt-web-midjourney-proxy src/views/suno/mcUploadMp3.vue runs these five steps against
/suno/uploads/audio..., the relay passing them to Suno's /api/uploads/audio/ routes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ...media_routes import upload_path
from ...replies import JsonReply, Reply
from ...taskflow import find_task, planned_failure, start, task_for
from ...tasks import Step, Task
from .. import handles
from . import models, songs
from .errors import detail
from .handlers import new_id, start_clip
from .songs import Account

if TYPE_CHECKING:
    from ...pipeline import Call

_EXTENSION = re.compile(r"^[A-Za-z0-9]{1,5}$")


async def _upload(call: Call) -> Task:
    task = await find_task(call, call.params["id"])
    if task is None or task.family != models.FAMILY or task.kind != models.AUDIO_UPLOAD:
        raise detail(404, "Not found.")
    return task


@handles("suno.official.upload_create")
async def create(call: Call) -> Reply:
    """A slot for one file: its id, and the form (URL and fields) the file is POSTed to."""
    extension = call.body.get("extension") or "mp3"
    if not _EXTENSION.match(extension):
        raise detail(400, f"unsupported extension: {extension}")
    upload_id = new_id()
    key = f"raw_uploads/{upload_id}.{extension.lower()}"
    task = task_for(
        call, id=upload_id, family=models.FAMILY, kind=models.AUDIO_UPLOAD, steps=models.UPLOAD_WAITING,
        data={"extension": extension.lower()}, success=Step("complete", 0.0, 100), failure=Step("error", 0.0, 100, failed=True),
    )
    await start(call, task, models.upload_object, call.base_url)
    form = {"key": key, "Content-Type": f"audio/{'mpeg' if extension.lower() == 'mp3' else extension.lower()}"}
    return JsonReply({"id": upload_id, "url": call.url_for(upload_path(upload_id)), "fields": form, "is_file_uploaded": False})


@handles("suno.official.upload_finish")
async def finish(call: Call) -> Reply:
    """The file is on the form: Suno starts checking it (a second call changes nothing)."""
    task = await _upload(call)
    if task.steps == models.UPLOAD_WAITING:
        name = call.body.get("upload_filename") or f"upload.{task.data['extension']}"
        title = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", name) or "upload"
        failure = planned_failure(call, task.id)

        def checking(upload: Task) -> None:
            upload.data["title"] = title
            upload.fail_reason = failure

        await call.state.tasks.update(task, checking)
        await call.state.tasks.resume(task, models.upload_plan(failure))
    return JsonReply({})


@handles("suno.official.upload_status")
async def status(call: Call) -> Reply:
    return JsonReply(models.upload_object(await call.state.tasks.poll(await _upload(call)), call.base_url))


@handles("suno.official.upload_clip")
async def initialize_clip(call: Call) -> Reply:
    """A checked upload becomes a clip (type upload) that feed shows and extend or cover can use."""
    task = await _upload(call)
    view = call.state.tasks.view(task)
    if view.status != "complete":
        raise detail(400, f"upload {task.id} is not complete (status {view.status})")
    if "clip_id" not in task.data:
        name = f"{task.data.get('title', 'upload')}.{task.data['extension']}"  # an operator may complete it unfinished
        song = songs.uploaded(new_id(), name, Account.of(call.api_key))
        await start_clip(call, song, (models.CLIP_DONE,), None)
        await call.state.tasks.update(task, lambda upload: upload.data.update(clip_id=song.id))
    return JsonReply({"clip_id": task.data["clip_id"]})
