"""Suno clips as tasks: their plans, and the clip, batch and new-api task objects clients see.

Each clip of the official format is one task whose status words are the clip's own. A new-api task
(/suno/submit/*) is one task holding its songs; its clips show the clip status mapped from the task's.
No HTTP here (moto's ``models.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ...media_routes import MAX_AUDIO_SECONDS, audio_path, image_path, video_path
from ...ids import derived_int
from ...taskflow import find_task, hands_out_urls, mine, outcome_url
from ...tasks import Step, Task, TaskView
from .songs import Lookup, Song

if TYPE_CHECKING:
    from ...pipeline import Call

FAMILY = "suno"
hands_out_urls(FAMILY)
CLIP = "clip"
MUSIC, LYRICS, CONCAT, UPLOAD = "MUSIC", "LYRICS", "CONCAT", "UPLOAD"
LYRICS_DRAFT = "lyrics"  # lyrics written through Suno's own route (/suno/generate/lyrics/), not a new-api task
AUDIO_UPLOAD = "audio_upload"  # an upload through a presigned form (/suno/uploads/audio), before it is a clip
CLIP_DONE = Step("complete", 0.0, 100)
CLIP_ERROR = Step("error", 0.0, 100, failed=True)
# new-api's reading of clip statuses (Suno-API readerStatus), and back.
TASK_STATUS = {"submitted": "SUBMITTED", "queued": "QUEUED", "streaming": "IN_PROGRESS", "complete": "SUCCESS", "error": "FAILURE"}
CLIP_STATUS = {"NOT_START": "submitted", **{task: clip for clip, task in TASK_STATUS.items()}}
STREAM_SECONDS = 30  # what a progressive stream has produced when a client first looks
COVER_SIDE, LARGE_COVER_SIDE = 512, 1024
AVATAR = "https://cdn1.suno.ai/defaultBlue.webp"


def clip_plan(failure: str | None) -> tuple[Step, ...]:
    """Upstream streams after ~20-40 s and completes after 1-3 min; the mock keeps the order, not the wait."""
    if failure:
        return (Step("submitted", 0.0), Step("queued", 0.5), Step("error", 1.5, 100, failed=True))
    return (Step("submitted", 0.0), Step("queued", 0.5, 10), Step("streaming", 1.5, 50), Step("complete", 4.0, 100))


def lyrics_plan(failure: str | None) -> tuple[Step, ...]:
    """Suno writes lyrics in a few seconds: running, then complete (or error)."""
    return (Step("running", 0.0), Step("error", 2.0, 100, failed=True) if failure else Step("complete", 2.0, 100))


def lyrics_object(view: TaskView) -> dict[str, Any]:
    """What GET /suno/lyrics/{id} answers (Suno's /api/generate/lyrics/{id}): text and title once complete."""
    title, text = view.task.data["lyrics"]
    done = view.status == "complete"
    return {"text": text if done else "", "title": title if done else "", "status": view.status}


UPLOAD_WAITING = (Step("processing", 0.0),)
"""An upload waits here until the client says the file is on the presigned form (upload-finish)."""


def upload_plan(failure: str | None) -> tuple[Step, ...]:
    """After upload-finish: Suno checks the audio, then the artist (copyright), then it is ready."""
    checked = Step("passed_audio_processing", 1.0, 50)
    if failure:
        return (checked, Step("error", 2.0, 100, failed=True))
    return (checked, Step("passed_artist_moderation", 2.0, 75), Step("complete", 3.0, 100))


def upload_object(view: TaskView, base_url: str) -> dict[str, Any]:
    """What GET /suno/uploads/audio/{id} answers: the upload's status and, once checked, its file."""
    task = view.task
    status = view.status  # words, not the view's terminal flag: a waiting upload sits in its only step
    checked = status not in ("processing", "error")
    seed = derived_int("suno-upload", task.id) % 10**12
    return {
        "id": task.id,
        "status": status,
        "error_message": (task.fail_reason or "upload failed") if status == "error" else None,
        "s3_id": task.id if checked else None,
        "title": task.data.get("title") if checked else None,
        "image_url": base_url + image_path(COVER_SIDE, COVER_SIDE, seed, "jpeg") if status == "complete" else None,
    }


def task_plan(action: str, failure: str | None) -> tuple[Step, ...]:
    """A new-api task's plan: the clip plan in new-api's words (lyrics skip the queue)."""
    steps = [Step(TASK_STATUS[s.status], s.at, s.progress, s.failed) for s in clip_plan(failure)]
    return tuple(s for s in steps if not (action == LYRICS and s.status == "QUEUED"))


def iso_ms(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _seed(song: Song) -> int:
    return derived_int("suno-media", song.id) % 10**12


Given = Callable[[str, str], str]
"""(media kind, the URL the mock made) -> the URL to hand out: a steering rule's, or the one made."""


def _made(kind: str, url: str) -> str:
    return url


def given_urls(task: Task, song: Song) -> Given:
    """The URLs a steering rule gave this clip of ``task`` (its task outcome, by clip), else the mock's."""
    index = task.data.get("clip_index", 0) if task.kind == CLIP else task.data["songs"].index(song)
    return lambda kind, made: outcome_url(task, kind, index, made)


def clip_object(song: Song, status: str, created_at: float, base_url: str, fail_reason: str | None = None, given: Given = _made) -> dict[str, Any]:
    """A clip as generate, feed and concat show it: URLs appear as the clip moves on."""
    seed = _seed(song)
    audible = status in ("streaming", "complete")
    done = status == "complete"
    audio_url = ""
    if status == "streaming":  # a progressive stream of what exists so far (Suno's audiopipe ?item_id=)
        audio_url = base_url + audio_path(min(STREAM_SECONDS, song.duration), seed, "mp3") + f"?item_id={song.id}"
    elif done:
        audio_url = given("audio", base_url + audio_path(min(song.duration, MAX_AUDIO_SECONDS), seed, "mp3"))
    written = status != "submitted" or not song.description  # description mode writes lyrics once queued
    major, model_name = song.version
    failed = status == "error"
    metadata = {
        "tags": song.tags if written else None,
        "negative_tags": song.negative_tags,
        "prompt": song.lyrics if written else "",
        "gpt_description_prompt": song.description,
        "audio_prompt_id": None,
        "history": list(song.history) if song.history else None,
        "concat_history": list(song.concat_history) if song.concat_history else None,
        "type": song.kind,
        "duration": song.duration if done else None,
        "refund_credits": True if failed else (False if done else None),
        "stream": None if song.kind == "concat" else True,
        "infill": song.infill,
        "has_vocal": not song.instrumental and bool(song.lyrics),
        "make_instrumental": song.instrumental,
        "error_type": ("moderation_failure" if "mock-fail" in (fail_reason or "") else "generation_failure") if failed else None,
        "error_message": (fail_reason or "generation failed") if failed else None,
    }
    if song.task:
        metadata["task"] = song.task
    if song.cover_clip_id:
        metadata["cover_clip_id"] = song.cover_clip_id
    if song.kind == "upload":
        metadata["is_audio_upload_tos_accepted"] = True
    return {
        "id": song.id,
        "video_url": given("videos", base_url + video_path(seed)) if done else "",
        "audio_url": audio_url,
        "image_url": given("images", base_url + image_path(COVER_SIDE, COVER_SIDE, seed, "jpeg")) if audible else None,
        "image_large_url": given("images", base_url + image_path(LARGE_COVER_SIDE, LARGE_COVER_SIDE, seed, "jpeg")) if audible else None,
        "is_video_pending": status == "streaming",
        "major_model_version": major,
        "model_name": model_name,
        "metadata": metadata,
        "is_liked": False,
        "user_id": song.account.user_id,
        "display_name": song.account.display_name,
        "handle": song.account.display_name.lower(),
        "is_handle_updated": False,
        "avatar_image_url": AVATAR,
        "is_trashed": False,
        "reaction": None,
        "created_at": iso_ms(created_at),
        "status": status,
        "title": song.title if written else "",
        "play_count": 0,
        "upvote_count": 0,
        "is_public": False,
    }


def clip_of(view: TaskView, base_url: str) -> dict[str, Any]:
    """The clip of an official-format clip task."""
    task = view.task
    song = task.data["song"]
    return clip_object(song, view.status, task.created_at, base_url, task.fail_reason, given_urls(task, song))


def batch_envelope(batch_id: str, clips: list[dict[str, Any]], created_at: float) -> dict[str, Any]:
    """generate's answer: the submitted clips and the request's metadata."""
    first = clips[0]["metadata"]
    keys = ("tags", "prompt", "gpt_description_prompt", "type", "duration", "stream", "error_type", "error_message")
    return {
        "id": batch_id,
        "clips": clips,
        "metadata": {k: first[k] for k in keys},
        "major_model_version": clips[0]["major_model_version"],
        "status": "complete",
        "created_at": iso_ms(created_at),
        "batch_size": 1,
    }


def task_object(view: TaskView, base_url: str) -> dict[str, Any]:
    """A new-api task (QuantumNous/new-api dto/task.go TaskDto): Unix-second times, "N%" progress, clips
    or lyrics in data."""
    task = view.task
    status = view.status
    if task.kind == CLIP:  # an uploaded clip asked for by task id: already done
        status = TASK_STATUS[view.status]
    started = next((view.entered(i) for i, s in enumerate(task.steps[: view.index + 1]) if s.status in ("IN_PROGRESS", "complete")), None)
    finished = view.entered(view.index) if view.terminal else None
    return {
        "task_id": task.id,
        "notify_hook": task.callback_url or "",
        "action": UPLOAD if task.kind == CLIP else task.kind,
        "status": status,
        "fail_reason": (task.fail_reason or "") if status == "FAILURE" else "",
        "submit_time": int(task.created_at),
        "start_time": int(started) if started else 0,
        "finish_time": int(finished) if finished else 0,
        "progress": f"{view.progress}%",
        "data": _task_data(task, status, base_url),
    }


def _task_data(task: Task, status: str, base_url: str) -> Any:
    if task.kind == LYRICS:
        title, text = task.data["lyrics"]
        done = status == "SUCCESS"
        state = "complete" if done else "error" if status == "FAILURE" else "running"
        return {"id": task.id, "text": text if done else "", "title": title if done else "", "status": state}
    songs = [task.data["song"]] if task.kind == CLIP else task.data["songs"]
    return [clip_object(song, CLIP_STATUS[status], task.created_at, base_url, task.fail_reason, given_urls(task, song)) for song in songs]


async def find_clip(call: Call, clip_id: str, poll: bool = False) -> tuple[Song, str, Task] | None:
    """A clip of the caller's by id among clip tasks and new-api tasks: (song, clip status, task holding it).

    ``poll`` counts the look as a client's poll (under the step clock the task moves on).
    """
    engine = call.state.tasks
    task = await find_task(call, clip_id)
    if task is not None and task.family == FAMILY and task.kind == CLIP:
        view = await engine.poll(task) if poll else engine.view(task)
        return task.data["song"], view.status, task
    for task in await mine(call, FAMILY):  # clips of new-api tasks have no task of their own
        for song in task.data.get("songs", ()):
            if song.id == clip_id:
                view = await engine.poll(task) if poll else engine.view(task)
                return song, CLIP_STATUS[view.status], task
    return None


async def song_lookup(call: Call, clip_ids: Iterable[str | None]) -> Lookup:
    """``find_clip`` of these clips as the song composer wants it: (song, status) without moving anything."""
    found: dict[str, tuple[Song, str] | None] = {}
    for clip_id in clip_ids:
        if clip_id and clip_id not in found:
            clip = await find_clip(call, clip_id)
            found[clip_id] = clip[:2] if clip else None
    return lambda clip_id: found.get(clip_id)
