"""Viggle endpoints: asset uploads, template lists, Mix / Multi / Move video tasks, by-ids, credits.

Every answer is the reverse envelope ``{code: 0, message: "ok", ts: "", reason: "", data}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import media
from ...replies import JsonReply, Reply
from ...taskflow import find_task, mine, planned_failure, start, task_for
from ...tasks import Task
from .. import handles
from . import catalogue, models
from .errors import invalid_parameter, not_found

if TYPE_CHECKING:
    from ...pipeline import Call


def _ok(data: Any) -> JsonReply:
    return JsonReply({"code": 0, "message": "ok", "ts": "", "reason": "", "data": data})


async def _asset(call: Call, kind: str, reference: object, what: str) -> Task:
    task = await find_task(call, reference) if isinstance(reference, str) else None
    if task is None or task.family != models.FAMILY or task.kind != kind:
        raise not_found(what)
    return task


async def _store_asset(call: Call, kind: str, name: str, size: tuple[int, int]) -> Task:
    task = task_for(
        call,
        id=models.asset_id(call.request_id),
        family=models.FAMILY,
        kind=kind,
        params={},
        steps=(models.READY,),
        data={"base_url": call.base_url, "name": name, "size": size},
    )
    return await call.state.tasks.create(task)


@handles("viggle.mix.asset.image")
async def upload_image(call: Call) -> Reply:
    upload = call.files["file"][0]
    try:
        _, width, height = media.image_size(upload.data)
    except (ValueError, IndexError, KeyError):
        raise invalid_parameter("file must be a jpg or png image") from None
    task = await _store_asset(call, models.IMAGE_ASSET, models.stem(upload.filename), (width, height))
    return _ok(models.image_asset(task))


@handles("viggle.mix.asset.video")
async def upload_video(call: Call) -> Reply:
    if call.params.get("imageID"):
        await _asset(call, models.IMAGE_ASSET, call.params["imageID"], "image")
    upload = call.files["file"][0]
    if media.media_type_of(upload.data) != "video/mp4":
        raise invalid_parameter("file must be an mp4 video")
    task = await _store_asset(call, models.VIDEO_ASSET, models.stem(upload.filename), models.mp4_size(upload.data))
    return _ok(models.video_asset(task))


def _templates(call: Call, templates: tuple[catalogue.Template, ...], multi: bool) -> Reply:
    query = call.query
    tag = query.get("tagID")
    found = catalogue.page(templates, query.get("page", 1), query.get("pageSize", 48), query.get("searchKeyword") or "", tag if isinstance(tag, int) else None)
    return _ok([t.multi_item(call.base_url) if multi else t.item(call.base_url) for t in found])


@handles("viggle.mix.templates")
def mix_templates(call: Call) -> Reply:
    return _templates(call, catalogue.MIX, multi=False)


@handles("viggle.mix.templates.tag")
def template_tags(call: Call) -> Reply:
    return _ok(list(catalogue.TAGS))


@handles("viggle.multi.templates")
def multi_templates(call: Call) -> Reply:
    return _templates(call, catalogue.MULTI, multi=True)


async def _driving(call: Call, templates: frozenset[str]) -> str:
    """The name of what drives the motion: the user's video or an official template."""
    body = call.body
    if body.get("videoID"):
        return (await _asset(call, models.VIDEO_ASSET, body["videoID"], "video")).data["name"]
    if body.get("templateID") in templates:
        return catalogue.BY_ID[body["templateID"]].command
    raise not_found("template" if body.get("templateID") else "video")


async def _generate(call: Call, kind: str, image_ids: list[str], driving: str) -> Reply:
    images = [models.image_asset(await _asset(call, models.IMAGE_ASSET, i, "image")) for i in image_ids]
    task_id = catalogue.derived_uuid("viggle-task", call.request_id)
    failure = planned_failure(call, task_id)
    task = task_for(
        call,
        id=task_id,
        family=models.FAMILY,
        kind=kind,
        steps=models.plan(failure),
        data={"base_url": call.base_url, "image": images[0], "name": f"{images[0]['name']}-{driving}"},
        fail_reason=failure,
        success=models.SUCCESS_STEP,
        failure=models.FAILURE_STEP,
    )
    await start(call, task, models.task_item)
    return _ok({"taskID": task_id, "mqType": 0})


@handles("viggle.mix.generate")
async def mix_generate(call: Call) -> Reply:
    driving = await _driving(call, frozenset(t.id for t in catalogue.MIX))
    return await _generate(call, models.MIX, [call.body["imageID"]], driving)


@handles("viggle.multi.generate")
async def multi_generate(call: Call) -> Reply:
    mapping: dict[str, str] = call.body["characterMapping"]
    if not all(isinstance(v, str) for v in mapping.values()):
        raise invalid_parameter("characterMapping values must be imageIDs")
    driving = await _driving(call, frozenset(t.id for t in catalogue.MULTI))
    return await _generate(call, models.MULTI, list(mapping.values()), driving)


@handles("viggle.move.generate")
async def move_generate(call: Call) -> Reply:
    driving = await _driving(call, frozenset())
    return await _generate(call, models.MOVE, [call.body["imageID"]], driving)


@handles("viggle.task.query")
async def by_ids(call: Call) -> Reply:
    # Only the first id is honoured (the Viggle template page by-ids (gpt-best.apifox.cn/project-3868318/api-208350215)); an unknown one yields an empty list.
    task = await find_task(call, call.body["ids"][0])
    if task is None or task.family != models.FAMILY or task.kind not in models.VIDEO_KINDS:
        return _ok([])
    return _ok([models.task_item(await call.state.tasks.poll(task))])


@handles("viggle.credits")
async def credits(call: Call) -> Reply:
    spent = sum(1 for t in await mine(call, models.FAMILY) if t.kind in models.VIDEO_KINDS)
    return _ok(models.credits_left(spent))
