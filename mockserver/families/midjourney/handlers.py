"""Midjourney endpoints: turn requests into tasks and tasks into the relay's answers.

Two parties answer a Midjourney request. new-api checks what it reads itself first (its own 400s:
prompt_is_required, task_not_found, task_status_not_success, index_is_required, unknown_action) and
rewrites some upstream codes (22 queued becomes 1); the midjourney-proxy behind it answers the rest
in its submit envelope (codes 3, 4, 21, 23, 24 with HTTP 200). Sources: QuantumNous/new-api
relay/mjproxy_handler.go and service/midjourney.go; trueai-org/midjourney-proxy SubmitController.cs.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ... import media
from ...ids import derived_int
from ...media_routes import image_path
from ...replies import BinaryReply, JsonReply, Reply
from ...taskflow import find_task, planned_failure, start, task_for
from ...tasks import Task, TaskView
from .. import handles
from . import models
from .errors import envelope_error, relay_check, unreadable
from .models import Shape

if TYPE_CHECKING:
    from ...pipeline import Call

INSTANCE_ID = "1298877120440377344"  # the Discord account the mock "runs" tasks on
DATA_URL = re.compile(r"^data:image/(png|jpe?g|webp|gif);base64,([A-Za-z0-9+/=\s]+)$")
WEB_URL = re.compile(r"^https?://\S+$")
QUEUE_WAIT = 1.0  # seconds a queued task waits per task ahead of it
CUSTOM_ZOOM_DEFAULT = "--zoom 2"  # what Discord's Custom Zoom window is prefilled with
_SIMPLE = re.compile(r"^(\d{16})\s+([UVuv])([1-4])$|^(\d{16})\s+([Rr])$")
_ZOOM = re.compile(r"--zoom\s+(1(\.\d+)?|2(\.0+)?)\b")

async def _new_id(call: Call) -> str:
    """16 digits, ``<unix ms><3 digits>`` as the proxy makes them; strictly increasing across the mock."""
    candidate = int(call.state.clock.now() * 1000) * 1000 + derived_int(call.request_id) % 1000
    return str(await call.state.store.next_id("midjourney", candidate))


def _check_images(images: list[str]) -> None:
    for image in images:
        found = DATA_URL.match(image or "")
        try:
            if not found or not base64.b64decode(found.group(2), validate=False):
                raise ValueError
        except (binascii.Error, ValueError):
            raise envelope_error(4, "base64格式错误") from None


def _image_reference(value: str) -> str:
    """An image given by URL, data URL or bare base64 (trueai prefixes bare base64 as PNG)."""
    if WEB_URL.match(value):
        return value
    image = value if value.startswith("data:") else f"data:image/png;base64,{value.strip()}"
    _check_images([image])
    return image


def _banned(call: Call, prompt: str) -> str | None:
    words = set(re.findall(r"[\w-]+", prompt.lower()))
    return next((w for w in sorted(call.state.settings.banned_words) if w in words), None)


async def _submit(
    call: Call,
    action: str,
    *,
    shape: str,
    prompt: str,
    parent: Task | None = None,
    extra: dict[str, Any] | None = None,
    modal_prompt: str | None = None,
) -> Reply:
    """Create the task and answer as a new-api relay does; ``modal_prompt`` (the text the window is
    prefilled with) makes the task wait in MODAL for /submit/modal."""
    settings = call.state.settings
    running = await call.state.tasks.running(models.FAMILY)
    if running >= settings.task_concurrency + settings.task_queue_size:
        raise envelope_error(23, "队列已满，请稍后尝试", {"discordInstanceId": INSTANCE_ID})
    task_id = await _new_id(call)
    failure = planned_failure(call, task_id)
    modal = modal_prompt is not None
    steps = models.modal_plan() if modal else models.plan(shape, failure)
    waiting = max(0, running - settings.task_concurrency + 1)
    if waiting and not modal:  # queued tasks start once the ones ahead have finished
        steps = (steps[0], *(replace(s, at=s.at + waiting * QUEUE_WAIT) for s in steps[1:]))
    data = {"prompt": modal_prompt if modal else prompt, "base_url": call.base_url, "shape": shape, **(extra or {})}
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
    if modal:  # new-api passes code 21 through for Vary (Region) and Custom Zoom only
        code, description, properties = 21, "Waiting for window confirm", {"finalPrompt": modal_prompt, "remix": True}
    elif waiting:  # the proxy's code 22, which new-api rewrites to 1 keeping the queue description
        code, description, properties = 1, f"排队中，前面还有{waiting}个任务", {"numberOfQueues": waiting, "discordInstanceId": INSTANCE_ID}
    else:
        code, description, properties = 1, "Submit success", {"discordInstanceId": INSTANCE_ID, "discordChannelId": INSTANCE_ID}
    answer = {"code": code, "description": description, "result": task_id, "properties": properties}
    task.data["description"] = answer["description"]  # new-api keeps the submit description on the task
    await start(call, task, models.task_object, call.base_url)  # image URLs on the host the task was submitted to
    return JsonReply(answer)


def _prompt(call: Call, field: str = "prompt") -> str:
    prompt = call.body.get(field) or ""
    if not prompt.strip():
        raise relay_check(f"{field}_is_required")
    banned = _banned(call, prompt)
    if banned:
        raise envelope_error(24, "可能包含敏感词", {"promptEn": prompt, "bannedWord": banned})
    return prompt


async def _mine(call: Call, task_id: str) -> Task | None:
    task = await find_task(call, task_id)
    return task if task is not None and task.family == models.FAMILY else None


async def _relay_parent(call: Call, task_id: str) -> Task:
    """The task an action works on, as new-api checks it before the proxy sees the request."""
    parent = await _mine(call, task_id)
    if parent is None:
        raise relay_check("task_not_found")
    if not call.state.tasks.view(parent).succeeded:
        raise relay_check("task_status_not_success")
    return parent


async def _proxy_parent(call: Call, task_id: str) -> Task:
    """The same check where new-api does not make it (simple-change): the proxy's codes 3 and 4."""
    parent = await _mine(call, task_id)
    if parent is None:
        raise envelope_error(3, "关联任务不存在或已失效")
    if not call.state.tasks.view(parent).succeeded:
        raise envelope_error(4, "关联任务状态错误")
    return parent


async def _derived(call: Call, parent: Task, action: str, index: int, shape: str, *, modal: bool = False) -> Reply:
    """A task made from a parent's button: it inherits the prompt and the picture's shape."""
    width, height = parent.data.get("size", (1024, 1024))
    if shape == Shape.HD_UPSCALE:
        width, height = width * 2, height * 2
    extra = {"size": (width, height), "index": index, "has_image": True, "seed_base": derived_int(parent.id, action, index)}
    if shape == Shape.VIDEO:
        extra["videos"] = parent.data.get("videos", models.VIDEOS_PER_TASK)
    prompt = parent.data.get("prompt", "")
    modal_prompt = None
    if modal:
        modal_prompt = f"{prompt} {CUSTOM_ZOOM_DEFAULT}".strip() if action == "CUSTOM_ZOOM" else prompt
    return await _submit(call, action, shape=shape, prompt=prompt, parent=parent, extra=extra, modal_prompt=modal_prompt)


@handles("midjourney.submit.imagine")
def imagine(call: Call) -> Reply:
    prompt = _prompt(call)
    _check_images(call.body.get("base64Array") or [])
    size = models.image_size(prompt)
    final = prompt if "--v" in prompt or "--niji" in prompt else f"{prompt} --v 6.1"
    return _submit(call, "IMAGINE", shape=Shape.GRID, prompt=prompt, extra={"size": size, "has_image": True, "final_prompt": final})


@handles("midjourney.submit.blend")
def blend(call: Call) -> Reply:
    images = call.body["base64Array"]
    _check_images(images)
    size = models.image_size("", call.body.get("dimensions"))
    return _submit(call, "BLEND", shape=Shape.GRID, prompt="", extra={"size": size, "has_image": True, "images": len(images)})


@handles("midjourney.submit.describe")
def describe(call: Call) -> Reply:
    image = call.body.get("base64")
    if image:
        _check_images([image])
    elif not WEB_URL.match(call.body.get("link") or ""):
        raise envelope_error(4, "base64或link不能为空")
    text = models.describe_text(derived_int(image or call.body.get("link")))
    # The image proxy shows the upload back, when it is small enough for the task to keep.
    kept = image if image and len(image) <= call.state.settings.task_param_bytes else None
    extra = {"final_prompt": text, "has_image": True, "size": (512, 512), "upload": kept}
    return _submit(call, "DESCRIBE", shape=Shape.DESCRIBE, prompt="", extra=extra)


@handles("midjourney.submit.shorten")
def shorten(call: Call) -> Reply:
    prompt = _prompt(call)
    return _submit(call, "SHORTEN", shape=Shape.SHORTEN, prompt=prompt, extra={"final_prompt": models.shorten_text(prompt)})


@handles("midjourney.insight_face.swap")
def swap_face(call: Call) -> Reply:
    source, target = call.body.get("sourceBase64"), call.body.get("targetBase64")
    if not source or not target:
        raise relay_check("sour_base64_and_target_base64_is_required")
    _check_images([source, target])
    return _submit(call, "SWAP_FACE", shape=Shape.PLAIN, prompt="InsightFace", extra={"has_image": True, "size": (768, 768)})


@handles("midjourney.submit.edits")
def edits(call: Call) -> Reply:
    image, prompt = call.body.get("image") or "", call.body.get("prompt") or ""
    if not image.strip() or not prompt.strip():
        raise envelope_error(4, "image或prompt不能为空")
    _image_reference(image)
    banned = _banned(call, prompt)
    if banned:
        raise envelope_error(24, "可能包含敏感词", {"promptEn": prompt, "bannedWord": banned})
    extra = {"size": models.image_size(prompt), "has_image": True, "final_prompt": prompt}
    return _submit(call, "EDITS", shape=Shape.GRID, prompt=prompt, extra=extra)


def _video_source(call: Call) -> str | None:
    """The still a video starts from: ``image`` (trueai), ``base64`` (sent alongside by some web UIs),
    the first of ``base64Array``, or an image URL leading the prompt."""
    body = call.body
    for candidate in (body.get("image"), body.get("base64"), *(body.get("base64Array") or [])[:1]):
        if candidate:
            return _image_reference(candidate)
    leading = (body.get("prompt") or "").split(maxsplit=1)
    return leading[0] if leading and WEB_URL.match(leading[0]) else None


@handles("midjourney.submit.video")
async def video(call: Call) -> Reply:
    prompt = call.body.get("prompt") or ""
    task_id = call.body.get("taskId")
    parent = await _relay_parent(call, task_id) if task_id else None
    if not prompt.strip():
        raise envelope_error(4, "Prompt 不能为空")
    if parent is None and _video_source(call) is None:
        raise envelope_error(4, "image或taskId不能为空")
    size = parent.data.get("size", (1024, 1024)) if parent else (1024, 1024)
    videos = call.body.get("batchSize") or models.VIDEOS_PER_TASK
    extra = {"size": size, "has_image": True, "videos": videos, "final_prompt": prompt, "seed_base": derived_int(call.request_id, "video")}
    return await _submit(call, "VIDEO", shape=Shape.VIDEO, prompt=prompt, parent=parent, extra=extra)


@handles("midjourney.submit.upload_discord_images")
def upload_discord_images(call: Call) -> Reply:
    """Images put on Discord for use as prompt images; no task (trueai SubmitController
    ImagineDiscordImages). new-api passes the answer through: result is a list of URLs."""
    images = call.body.get("base64Array") or []
    if not images:
        raise envelope_error(4, "base64 参数错误")
    _check_images(images)
    urls = []
    for image in images:
        fmt = DATA_URL.match(image).group(1).replace("jpg", "jpeg").replace("gif", "png")  # type: ignore[union-attr]
        urls.append(call.url_for(image_path(1024, 1024, derived_int("mj-upload", image) % 10**12, fmt)))
    return JsonReply({"code": 1, "description": "提交成功", "result": urls, "properties": {}})


@handles("midjourney.submit.change")
async def change(call: Call) -> Reply:
    action, index = call.body["action"], call.body["index"]
    parent = await _relay_parent(call, call.body["taskId"])
    if parent.data.get("shape") != Shape.GRID:  # midjourney-proxy: only a grid can be changed by index
        raise envelope_error(4, "关联任务不允许执行变化")
    return await _derived(call, parent, action, index, Shape.UPSCALE if action == "UPSCALE" else Shape.GRID)


@handles("midjourney.submit.simple_change")
async def simple_change(call: Call) -> Reply:
    found = _SIMPLE.match((call.body.get("content") or "").strip())
    if not found:
        raise envelope_error(4, "content参数错误")
    task_id = found.group(1) or found.group(4)
    letter = (found.group(2) or found.group(5)).upper()
    parent = await _proxy_parent(call, task_id)  # new-api finds no taskId in the body, so the proxy checks
    if parent.data.get("shape") != Shape.GRID:
        raise envelope_error(4, "关联任务不允许执行变化")
    action = {"U": "UPSCALE", "V": "VARIATION", "R": "REROLL"}[letter]
    return await _derived(call, parent, action, int(found.group(3) or 1), Shape.UPSCALE if action == "UPSCALE" else Shape.GRID)


@handles("midjourney.submit.action")
async def action(call: Call) -> Reply:
    custom_id = call.body.get("customId") or ""
    if not custom_id:
        raise unreadable("custom_id_is_required")
    try:
        pressed = models.action_of(custom_id)
    except models.UnknownAction:
        raise unreadable(f"unknown_action:{custom_id}") from None
    task_id = call.body.get("taskId")
    if not task_id:  # new-api skips its task checks; the proxy refuses
        raise envelope_error(4, "参数错误")
    parent = await _relay_parent(call, task_id)
    if custom_id not in {b["customId"] for b in models.buttons(parent)}:
        raise envelope_error(4, "customId参数错误")
    shape = models.result_shape(parent, pressed)
    return await _derived(call, parent, pressed.action, pressed.index, shape, modal=pressed.action in models.NEEDS_MODAL)


@handles("midjourney.submit.modal")
async def modal(call: Call) -> Reply:
    task_id = call.body.get("taskId")
    if not task_id:
        raise envelope_error(4, "参数错误")
    task = await _mine(call, task_id)
    if task is None:
        raise relay_check("task_not_found")
    view = call.state.tasks.view(task)
    if view.status != "MODAL":
        raise envelope_error(4, "关联任务状态错误")
    if task.kind == "INPAINT":
        mask = call.body.get("maskBase64")
        if not mask:
            raise envelope_error(4, "maskBase64不能为空")
        _check_images([mask])
    prompt = call.body.get("prompt") or task.data.get("prompt", "")
    if task.kind == "CUSTOM_ZOOM" and not _ZOOM.search(prompt):
        raise envelope_error(4, "prompt参数错误: Custom Zoom needs --zoom between 1 and 2")
    await call.state.tasks.update(task, lambda waiting: waiting.data.update(prompt=prompt))
    await call.state.tasks.resume(task, models.confirmed_plan(task.data["shape"], planned_failure(call, task.id)))
    return JsonReply({"code": 1, "description": "Submit success", "result": task.id, "properties": {"discordInstanceId": INSTANCE_ID}})


async def _owned(call: Call, task_id: str) -> Task:
    task = await _mine(call, task_id)
    if task is None:
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
    found = [await find_task(call, i) for i in wanted]
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
    # Any key: image URLs are opened as they are, and the relay's proxy looks tasks up unscoped
    # (QuantumNous/new-api relay/mjproxy_handler.go, GetByOnlyMJId).
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
    if task.data.get("shape") == Shape.GRID:
        return BinaryReply(media.grid(width, height, seed=seed), media_type="image/png")
    return BinaryReply(media.png(width, height, seed=seed, label=task.kind), media_type="image/png")
