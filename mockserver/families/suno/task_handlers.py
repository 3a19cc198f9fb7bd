"""new-api's Suno task routes (/suno/submit/*, /suno/fetch): one task per request, polled by task id.

Not in GPTNB's 官方格式 TOC but served by every new-api relay (QuantumNous/new-api router/relay-router.go,
relay/channel/task/suno/adaptor.go, relay/relay_task.go). Songs are composed as for the official
format; what differs is the envelope, the status words and the errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...replies import JsonReply, Reply
from ...taskflow import callback_url, find_task, planned_failure, start, task_for
from ...tasks import Task
from .. import handles
from . import models, songs
from .errors import task_error
from .handlers import concat_song, new_id, sources
from .songs import Account, SongError, UnknownClip

if TYPE_CHECKING:
    from ...pipeline import Call

NEW_API_DEFAULT_MV = "chirp-v3-0"
NEW_API_ACTIONS = frozenset({models.MUSIC, models.LYRICS, models.CONCAT, models.UPLOAD})


def _as_task_error(error: SongError) -> Exception:
    if isinstance(error, UnknownClip):
        return task_error("task_not_exist", str(error))
    return task_error("invalid_request", str(error))


async def _submit(call: Call, action: str, data: dict[str, Any]) -> Reply:
    task_id = new_id()
    failure = planned_failure(call, task_id)
    task = task_for(
        call,
        id=task_id, family=models.FAMILY, kind=action, params=dict(call.body), steps=models.task_plan(action, failure),
        created_at=call.state.clock.now(), owner=call.api_key, callback_url=callback_url(call), data=data, fail_reason=failure,
    )
    await start(call, task, models.task_object, call.base_url)
    return JsonReply({"code": "success", "message": "", "data": task_id})


async def _check_origin(call: Call) -> None:
    """new-api continues a song only from a task of the caller: continue_clip_id needs task_id
    (relay/channel/task/suno/adaptor.go), and that task must exist (relay/relay_task.go ResolveOriginTask)."""
    if not call.body.get("continue_clip_id"):
        return
    origin = call.body.get("task_id")
    if not origin:
        raise task_error("invalid_request", "task id is empty")
    if await _task(call, origin) is None:
        raise task_error("task_not_exist", "task_origin_not_exist")


@handles("suno.submit.music")
async def submit_music(call: Call) -> Reply:
    await _check_origin(call)
    ids = [new_id() for _ in range(songs.CLIPS_PER_REQUEST)]
    try:
        made = songs.compose(call.body, ids, Account.of(call.api_key), await sources(call), default_mv=NEW_API_DEFAULT_MV)
    except SongError as error:
        raise _as_task_error(error) from None
    return await _submit(call, models.MUSIC, {"songs": made})


@handles("suno.submit.lyrics")
async def submit_lyrics(call: Call) -> Reply:
    prompt = (call.body.get("prompt") or "").strip()
    if not prompt:  # new-api's actionValidate: TaskErrorWrapperLocal(prompt_empty, "invalid_request", 400)
        raise task_error("invalid_request", "prompt_empty")
    title, _, text = songs.write_lyrics(prompt, instrumental=False)
    return await _submit(call, models.LYRICS, {"lyrics": (title, text)})


@handles("suno.submit.concat")
async def submit_concat(call: Call) -> Reply:
    try:
        song = await concat_song(call, call.body["clip_id"])
    except SongError as error:
        raise _as_task_error(error) from None
    return await _submit(call, models.CONCAT, {"songs": [song]})


async def _task(call: Call, task_id: str) -> Task | None:
    task = await find_task(call, task_id)
    if task is None or task.family != models.FAMILY:
        return None
    if task.kind == models.CLIP:  # clips of generate are not tasks; uploads by URL answer as both
        return task if task.data["song"].kind == "upload" else None
    return task if task.kind in NEW_API_ACTIONS else None


@handles("suno.fetch.one")
async def fetch_one(call: Call) -> Reply:
    task = await _task(call, call.params["task_id"])
    if task is None:
        raise task_error("task_not_exist")
    return JsonReply({"code": "success", "message": "", "data": models.task_object(await call.state.tasks.poll(task), call.base_url)})


@handles("suno.fetch.batch")
async def fetch_batch(call: Call) -> Reply:
    # new-api binds the body's action but looks tasks up by id alone (relay/relay_task.go sunoFetchRespBodyBuilder)
    found = [await _task(call, task_id) for task_id in dict.fromkeys(call.body.get("ids") or [])]
    tasks = [t for t in found if t is not None]
    return JsonReply({"code": "success", "message": "", "data": [models.task_object(await call.state.tasks.poll(t), call.base_url) for t in tasks]})
