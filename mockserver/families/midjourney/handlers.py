"""Midjourney endpoints: turn requests into tasks and tasks into the relay's answers."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ... import media
from ...ids import derived_int
from ...replies import BinaryReply, JsonReply, Reply
from ...taskflow import planned_failure, start, task_for
from ...tasks import Task, TaskView
from .. import handles
from . import models
from .errors import envelope_error, relay_check, unreadable

if TYPE_CHECKING:
    from ...pipeline import Call

INSTANCE_ID = "1298877120440377344"  # the Discord account the mock "runs" tasks on
DATA_URL = re.compile(r"^data:image/(png|jpe?g|webp|gif);base64,([A-Za-z0-9+/=\s]+)$")
QUEUE_WAIT = 1.0  # seconds a queued task waits per task ahead of it
_SIMPLE = re.compile(r"^(\d{16})\s+([UVuv])([1-4])$|^(\d{16})\s+([Rr])$")

async def _new_id(call: Call) -> str:
    """16 digits, ``<unix ms><3 digits>`` as the proxy makes them; strictly increasing across the mock."""
    candidate = int(call.state.clock.now() * 1000) * 1000 + derived_int(call.request_id) % 1000
    return str(await call.state.store.next_id("midjourney", candidate))


def _check_images(images: list[str], field: str) -> None:
    for image in images:
        found = DATA_URL.match(image or "")
        try:
            if not found or not base64.b64decode(found.group(2), validate=False):
                raise ValueError
        except (binascii.Error, ValueError):
            raise envelope_error(4, "base64格式错误") from None


def _banned(call: Call, prompt: str) -> str | None:
    words = set(re.findall(r"[\w-]+", prompt.lower()))
    return next((w for w in sorted(call.state.settings.banned_words) if w in words), None)


async def _submit(call: Call, action: str, *, prompt: str, parent: Task | None = None, extra: dict[str, Any] | None = None, modal: bool = False) -> Reply:
    settings = call.state.settings
    running = await call.state.tasks.running(models.FAMILY)
    if running >= settings.task_concurrency + settings.task_queue_size:
        raise envelope_error(23, "队列已满，请稍后尝试", {"discordInstanceId": INSTANCE_ID})
    task_id = await _new_id(call)
    failure = planned_failure(call, task_id)
    steps = models.modal_plan() if modal else models.plan(action, failure)
    waiting = max(0, running - settings.task_concurrency + 1)
    if waiting and not modal:  # queued tasks start once the ones ahead have finished
        steps = (steps[0], *(replace(s, at=s.at + waiting * QUEUE_WAIT) for s in steps[1:]))
    data = {"prompt": prompt, "base_url": call.base_url, **(extra or {})}
    task = task_for(
        call,
        id=task_id,
        family=models.FAMILY,
        kind=action,
        steps=steps,
        parent_id=parent.id if parent else None,
        data=data,
        fail_reason=failure,
    )
    await start(call, task, models.task_object, call.base_url)  # image URLs on the host the task was submitted to
    if modal:
        return JsonReply({"code": 21, "description": "Waiting for window confirm", "result": task_id, "properties": {"finalPrompt": prompt, "remix": True}})
    if waiting:
        return JsonReply({"code": 22, "description": f"排队中，前面还有{waiting}个任务", "result": task_id, "properties": {"numberOfQueues": waiting, "discordInstanceId": INSTANCE_ID}})
    return JsonReply({"code": 1, "description": "Submit success", "result": task_id, "properties": {"discordInstanceId": INSTANCE_ID, "discordChannelId": INSTANCE_ID}})


def _prompt(call: Call, field: str = "prompt") -> str:
    prompt = call.body.get(field) or ""
    if not prompt.strip():
        raise relay_check(f"{field}_is_required")
    banned = _banned(call, prompt)
    if banned:
        raise envelope_error(24, "可能包含敏感词", {"promptEn": prompt, "bannedWord": banned})
    return prompt


async def _parent(call: Call, task_id: str) -> tuple[Task, TaskView]:
    """The finished task an action works on (the proxy's codes 3 and 4 when it is not usable)."""
    parent = await call.state.tasks.get(task_id)
    if parent is None or parent.family != models.FAMILY:
        raise envelope_error(3, "关联任务不存在或已失效")
    view = call.state.tasks.view(parent)
    if not view.succeeded:
        raise envelope_error(4, "关联任务状态错误")
    return parent, view


async def _derived(call: Call, parent: Task, action: str, index: int, modal: bool = False) -> Reply:
    """A task made from a parent's button: it inherits the prompt and the picture's shape."""
    if action == "UPSCALE" and parent.kind not in models.GRID_ACTIONS:
        raise envelope_error(4, "关联任务不允许执行变化")
    width, height = parent.data.get("size", (1024, 1024))
    extra = {"size": (width, height), "index": index, "has_image": True, "seed_base": derived_int(parent.id, action, index)}
    return await _submit(call, action, prompt=parent.data.get("prompt", ""), parent=parent, extra=extra, modal=modal)


@handles("midjourney.submit.imagine")
def imagine(call: Call) -> Reply:
    prompt = _prompt(call)
    _check_images(call.body.get("base64Array") or [], "base64Array")
    size = models.image_size(prompt)
    final = prompt if "--v" in prompt or "--niji" in prompt else f"{prompt} --v 6.1"
    return _submit(call, "IMAGINE", prompt=prompt, extra={"size": size, "has_image": True, "final_prompt": final})


@handles("midjourney.submit.blend")
def blend(call: Call) -> Reply:
    images = call.body["base64Array"]
    _check_images(images, "base64Array")
    size = models.image_size("", call.body.get("dimensions"))
    return _submit(call, "BLEND", prompt="", extra={"size": size, "has_image": True, "images": len(images)})


@handles("midjourney.submit.describe")
def describe(call: Call) -> Reply:
    image = call.body.get("base64")
    if image:
        _check_images([image], "base64")
    elif not (call.body.get("link") or "").startswith(("http://", "https://")):
        raise envelope_error(4, "base64或link不能为空")
    text = models.describe_text(derived_int(image or call.body.get("link")))
    return _submit(call, "DESCRIBE", prompt="", extra={"final_prompt": text, "has_image": True, "size": (512, 512), "upload": image})


@handles("midjourney.submit.shorten")
def shorten(call: Call) -> Reply:
    prompt = _prompt(call)
    return _submit(call, "SHORTEN", prompt=prompt, extra={"final_prompt": models.shorten_text(prompt)})


@handles("midjourney.insight_face.swap")
def swap_face(call: Call) -> Reply:
    source, target = call.body.get("sourceBase64"), call.body.get("targetBase64")
    if not source or not target:
        raise relay_check("sour_base64_and_target_base64_is_required")
    _check_images([source, target], "base64")
    return _submit(call, "SWAP_FACE", prompt="InsightFace", extra={"has_image": True, "size": (768, 768)})


@handles("midjourney.submit.change")
async def change(call: Call) -> Reply:
    action, index = call.body["action"], call.body.get("index")
    if action in ("UPSCALE", "VARIATION") and not index:
        raise relay_check("index_is_required")
    parent, _ = await _parent(call, call.body["taskId"])
    return await _derived(call, parent, action, index or 1)


@handles("midjourney.submit.simple_change")
async def simple_change(call: Call) -> Reply:
    found = _SIMPLE.match((call.body.get("content") or "").strip())
    if not found:
        raise envelope_error(4, "content参数错误")
    task_id = found.group(1) or found.group(4)
    letter = (found.group(2) or found.group(5)).upper()
    parent, _ = await _parent(call, task_id)
    action = {"U": "UPSCALE", "V": "VARIATION", "R": "REROLL"}[letter]
    return await _derived(call, parent, action, int(found.group(3) or 1))


@handles("midjourney.submit.action")
async def action(call: Call) -> Reply:
    custom_id = call.body.get("customId") or ""
    if not custom_id:
        raise unreadable("custom_id_is_required")
    try:
        pressed = models.action_of(custom_id)
    except models.UnknownAction:
        raise unreadable(f"unknown_action:{custom_id}") from None
    parent, _ = await _parent(call, call.body["taskId"])
    if custom_id not in {b["customId"] for b in models.buttons(parent)}:
        raise envelope_error(4, "customId参数错误")
    return await _derived(call, parent, pressed.action, pressed.index, modal=pressed.action in models.NEEDS_MODAL)


@handles("midjourney.submit.modal")
async def modal(call: Call) -> Reply:
    task = await call.state.tasks.get(call.body["taskId"])
    if task is None or task.family != models.FAMILY:
        raise envelope_error(3, "关联任务不存在或已失效")
    view = call.state.tasks.view(task)
    if view.status != "MODAL":
        raise envelope_error(4, "关联任务状态错误")
    if task.kind == "INPAINT":
        mask = call.body.get("maskBase64")
        if not mask:
            raise envelope_error(4, "maskBase64不能为空")
        _check_images([mask], "maskBase64")
    prompt = call.body.get("prompt") or task.data.get("prompt", "")
    if task.kind == "CUSTOM_ZOOM" and not re.search(r"--zoom\s+(1(\.\d+)?|2(\.0+)?)\b", prompt):
        raise envelope_error(4, "prompt参数错误: Custom Zoom needs --zoom between 1 and 2")
    await call.state.tasks.update(task, lambda modal: modal.data.update(prompt=prompt))
    await call.state.tasks.resume(task, models.plan(task.kind, planned_failure(call, task.id))[1:])
    return JsonReply({"code": 1, "description": "Submit success", "result": task.id, "properties": {"discordInstanceId": INSTANCE_ID}})


async def _owned(call: Call, task_id: str) -> Task:
    task = await call.state.tasks.get(task_id)
    if task is None or task.family != models.FAMILY:
        raise relay_check("task_no_found")
    return task


@handles("midjourney.task.fetch")
async def fetch(call: Call) -> Reply:
    task = await _owned(call, call.params["id"])
    return JsonReply(models.task_object(await call.state.tasks.poll(task), call.base_url))


@handles("midjourney.task.list_by_condition")
async def list_by_condition(call: Call) -> Reply:
    wanted = set(call.body.get("ids") or []) if isinstance(call.body, dict) else set()
    engine = call.state.tasks
    found = [await engine.get(i) for i in wanted]
    tasks = sorted((t for t in found if t is not None and t.family == models.FAMILY), key=lambda t: t.id)
    return JsonReply([models.task_object(await engine.poll(t), call.base_url) for t in tasks])


@handles("midjourney.task.image_seed")
async def image_seed(call: Call) -> Reply:
    task = await _owned(call, call.params["id"])
    if not call.state.tasks.view(task).succeeded or not task.data.get("has_image"):
        raise envelope_error(4, "关联任务状态错误")
    return JsonReply({"code": 1, "description": "成功", "properties": None, "result": str(derived_int("seed", task.id) % 4_294_967_296)})


@handles("midjourney.image.proxy")
async def image(call: Call) -> Reply:
    task = await call.state.tasks.get(call.params["id"])
    if task is None or task.family != models.FAMILY or not task.data.get("has_image"):
        return JsonReply({"error": "midjourney_task_not_found"}, status=400)
    upload = task.data.get("upload")
    if upload:  # describe shows the picture it was given
        found = DATA_URL.match(upload)
        if found:
            return BinaryReply(base64.b64decode(found.group(2)), media_type=f"image/{found.group(1).replace('jpg', 'jpeg')}")
    width, height = task.data.get("size", (1024, 1024))
    seed = task.data.get("seed_base", derived_int(task.id))
    if task.kind in models.GRID_ACTIONS:
        return BinaryReply(media.grid(width, height, seed=seed), media_type="image/png")
    return BinaryReply(media.png(width, height, seed=seed, label=task.kind), media_type="image/png")
