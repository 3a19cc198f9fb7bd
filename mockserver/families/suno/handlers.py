"""Suno 官方格式(v2) endpoints: upload by URL, generate (all eight scenarios), feed, concat, lyrics."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from ...replies import JsonReply, Reply
from ...taskflow import find_task, planned_failure, start, task_for
from ...tasks import Step, Task
from .. import handles
from . import models, songs
from .errors import detail
from .songs import Account, Lookup, Song, SongError, UnknownClip

if TYPE_CHECKING:
    from ...pipeline import Call


def new_id() -> str:
    """Suno's ids are random UUID v4s; nothing about them needs to be reproducible."""
    return str(uuid.uuid4())


async def start_clip(call: Call, song: Song, steps: tuple[Step, ...], failure: str | None, index: int = 0) -> Task:
    """A clip of the official format: one task whose status words are the clip's (``index``: its
    place in the request's batch, which picks its URLs from a rule's task outcome)."""
    task = task_for(
        call,
        id=song.id, family=models.FAMILY, kind=models.CLIP, params=dict(call.body or {}), steps=steps,
        created_at=call.state.clock.now(), owner=call.api_key, data={"song": song, "clip_index": index}, fail_reason=failure,
        success=models.CLIP_DONE, failure=models.CLIP_ERROR,
    )
    # No callback field in this format; the renderer is only there for the engine's contract.
    return await start(call, task, models.clip_of, call.base_url)


def as_detail(error: SongError) -> Exception:
    return detail(404 if isinstance(error, UnknownClip) else 400, str(error))


@handles("suno.official.upload_url")
async def upload_url(call: Call) -> Reply:
    song_id = new_id()
    failure = songs.download_problem(call.body["url"]) or planned_failure(call, song_id)
    if failure:  # the relay could not import the file: a business error in the 200 envelope
        return JsonReply({"code": "error", "message": f"failed to import audio: {failure}", "data": None})
    song = songs.uploaded(song_id, call.body["url"], Account.of(call.api_key))
    await start_clip(call, song, (models.CLIP_DONE,), None)
    return JsonReply({"code": "success", "message": "", "data": song_id})


@handles("suno.official.generate")
async def generate(call: Call) -> Reply:
    ids = [new_id() for _ in range(songs.CLIPS_PER_REQUEST)]
    try:
        made = songs.compose(call.body, ids, Account.of(call.api_key), await sources(call))
    except SongError as error:
        raise as_detail(error) from None
    engine = call.state.tasks
    clips = []
    for index, song in enumerate(made):
        failure = planned_failure(call, song.id)
        task = await start_clip(call, song, models.clip_plan(failure), failure, index)
        clips.append(models.clip_of(engine.view(task), call.base_url))
    return JsonReply(models.batch_envelope(new_id(), clips, call.state.clock.now()))


def _ids(call: Call) -> list[str]:
    raw = call.params.get("ids") or call.query.get("ids") or ""
    ids = [i.strip() for i in raw.split(",") if i.strip()]
    if not ids:
        raise detail(400, "ids is required")
    return ids


@handles("suno.official.feed")
async def feed(call: Call) -> Reply:
    found = []
    for clip_id in dict.fromkeys(_ids(call)):  # each clip once, in the order asked
        clip = await models.find_clip(call, clip_id, poll=True)
        if clip is not None:
            song, status, task = clip
            found.append(models.clip_object(song, status, task.created_at, call.base_url, task.fail_reason, models.given_urls(task, song)))
    return JsonReply(found)


def sources(call: Call) -> Awaitable[Lookup]:
    """The clips a generate request builds on (extend, cover, infill)."""
    return models.song_lookup(call, (call.body.get("continue_clip_id"), call.body.get("cover_clip_id")))


async def concat_song(call: Call, clip_id: str) -> Song:
    found = await models.find_clip(call, clip_id)
    if found is None:
        raise UnknownClip(clip_id)
    last, status, _ = found
    if status != "complete":
        raise SongError(f"clip {clip_id} is not complete (status {status})")
    ancestors = await models.song_lookup(call, (item["id"] for item in last.history or ()))
    return songs.concatenated(new_id(), last, ancestors)


@handles("suno.official.concat")
async def concat(call: Call) -> Reply:
    try:
        song = await concat_song(call, call.body["clip_id"])
    except SongError as error:
        raise as_detail(error) from None
    failure = planned_failure(call, song.id)
    task = await start_clip(call, song, models.clip_plan(failure), failure)
    return JsonReply(models.clip_of(call.state.tasks.view(task), call.base_url))



@handles("suno.official.lyrics")
async def lyrics(call: Call) -> Reply:
    """Suno's lyrics writer (SunoAI-API/Suno-API main.py /generate/lyrics/ -> /api/generate/lyrics/):
    the id to poll; an empty prompt gets lyrics about nothing in particular, as Suno writes them."""
    lyrics_id = new_id()
    failure = planned_failure(call, lyrics_id)
    title, _, text = songs.write_lyrics(call.body["prompt"], instrumental=False)
    task = task_for(
        call, id=lyrics_id, family=models.FAMILY, kind=models.LYRICS_DRAFT, steps=models.lyrics_plan(failure),
        data={"lyrics": (title, text)}, fail_reason=failure, success=Step("complete", 0.0, 100), failure=Step("error", 0.0, 100, failed=True),
    )
    await start(call, task, models.lyrics_object)
    return JsonReply({"id": lyrics_id})


@handles("suno.official.lyrics_fetch")
async def lyrics_fetch(call: Call) -> Reply:
    task = await find_task(call, call.params["id"])
    if task is None or task.family != models.FAMILY or task.kind != models.LYRICS_DRAFT:
        raise detail(404, "Not found.")
    return JsonReply(models.lyrics_object(await call.state.tasks.poll(task)))
