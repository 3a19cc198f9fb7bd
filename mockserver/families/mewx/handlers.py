"""MewXAI endpoints: generations become img_uuid tasks; detail, lists and the result pictures."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from ... import media
from ...ids import derived_int
from ...media_routes import image_path
from ...replies import BinaryReply, JsonReply, Reply
from ...taskflow import find_task, outcome_url, planned_failure, start, task_for
from ...tasks import Task, TaskView
from .. import handles
from . import catalog, models, qr
from .errors import bad_parameter, not_found

if TYPE_CHECKING:
    from ...pipeline import Call

RESULT_PREFIX = "/mewx/cdn/images/result/"
AUDIT_REFUSAL = "内容审核未通过"


def _result_url(base_url: str, task: Task) -> str:
    return outcome_url(task, "images", 0, f"{base_url}{RESULT_PREFIX}{task.id}.png")


def callback_body(view: TaskView, base_url: str) -> dict[str, Any]:
    return models.callback(view, _result_url(base_url, view.task))


def _flags(prompt: str | None) -> models.Flags:
    try:
        return models.flags(prompt)
    except models.BadFlag as exc:
        raise bad_parameter(str(exc)) from None


def _template(call: Call) -> dict[str, Any] | None:
    if "template_id" not in call.body:
        return None
    found = catalog.template(call.body["template_id"])
    if found is None:
        raise not_found("模板不存在")
    return found


def _check_model(call: Call) -> None:
    if "model" in call.body and "template_id" not in call.body and not catalog.has_model(call.body["model"]):
        raise not_found("模型不存在")


async def _submit(call: Call, kind: str, picture: dict[str, Any], cost: int, refusal: str | None = None) -> Reply:
    img_uuid = models.new_img_uuid(call.request_id)
    failure = planned_failure(call, img_uuid) or refusal
    task = task_for(
        call,
        id=img_uuid,
        family=models.FAMILY,
        kind=kind,
        steps=models.plan(failure),
        data={"picture": picture, "cost": cost},
        fail_reason=failure,
        success=models.SUCCESS_STEP,
        failure=models.FAILURE_STEP,
    )
    await start(call, task, callback_body, call.base_url)
    return JsonReply({"code": 0, "message": "success", "data": {"img_uuid": img_uuid}})


@handles("mewx.qrcode.generate")
def qrcode(call: Call) -> Reply:
    body = call.body
    template = _template(call)
    _check_model(call)
    found = _flags(body.get("prompt"))
    if "qr_content" in body:
        mask_source = {"content": body["qr_content"]}
    else:
        try:
            raw = base64.b64decode(body["qr_image"].split(",")[-1], validate=True)
            qr.uploaded_modules(raw)
        except (binascii.Error, ValueError):
            raise bad_parameter("qr_image 不是有效的图片") from None
        mask_source = {"image": base64.b64encode(raw).decode()}
    strength = found.strength if found.strength is not None else (template or {}).get("iw", 0.95)
    width, height = models.fit(found.aspect)
    picture = {**mask_source, "size": (width, height), "strength": strength, "version": found.version, "shape": found.shape}
    return _submit(call, "qrcode", picture, (template or {}).get("points", catalog.CUSTOM_POINTS))


@handles("mewx.arttext.generate")
def arttext(call: Call) -> Reply:
    template = _template(call)
    _check_model(call)
    width, height = models.fit(_flags(call.body.get("prompt")).aspect)
    return _submit(call, "arttext", {"size": (width, height)}, (template or {}).get("points", catalog.CUSTOM_POINTS))


@handles("mewx.fusion.generate")
def fusion(call: Call) -> Reply:
    template = _template(call)
    width, height = models.fit(_flags(call.body.get("prompt")).aspect)
    return _submit(call, "fusion", {"size": (width, height)}, (template or {}).get("points", catalog.CUSTOM_POINTS))


@handles("mewx.cute.generate")
def cute(call: Call) -> Reply:
    args = call.body["args"]
    if args.get("negative_type") == 2 and not args.get("negative_prompt"):
        raise bad_parameter("negative_type 为 2 时 negative_prompt 不能为空")
    upscaler = args.get("upscaler", 1)
    if "width" in args and "height" in args:
        size = (args["width"], args["height"])
    else:
        size = models.fit(models.CUTE_RATIOS[args["ratio"]], models.UPSCALER_SIDES[upscaler])
    prompt_words = set(args["prompt"].lower().replace(",", " ").split())
    refused = args.get("audit") == 1 and bool(prompt_words & call.state.settings.banned_words)
    return _submit(call, "cute", {"size": size}, catalog.UPSCALER_POINTS[upscaler], AUDIT_REFUSAL if refused else None)


@handles("mewx.detail.get")
async def detail(call: Call) -> Reply:
    task = await find_task(call, call.query["img_uuid"])
    if task is None or task.family != models.FAMILY:
        raise not_found("图片不存在")
    view = await call.state.tasks.poll(task)
    return JsonReply({"code": 0, "message": "success", "data": models.detail(view, _result_url(call.base_url, task))})


def _with_previews(call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Preview pictures the client can load: real JPEGs from the mock's media routes."""
    return [{**item, "preview_img": call.url_for(image_path(512, 512, derived_int("mewx-preview", item["id"]), "jpeg"))} for item in items]


@handles("mewx.template.list")
def template_list(call: Call) -> Reply:
    return JsonReply({"code": 0, "message": "success", "data": _with_previews(call, catalog.templates(call.query.get("type", "qrcode")))})


@handles("mewx.model.list")
def model_list(call: Call) -> Reply:
    return JsonReply({"code": 0, "message": "success", "data": _with_previews(call, catalog.models(call.query.get("type", "qrcode")))})


@handles("mewx.cdn.image")
async def result_picture(call: Call) -> Reply:
    task = await call.state.tasks.get(call.params["name"].removesuffix(".png"))
    if task is None or task.family != models.FAMILY or not call.state.tasks.view(task).succeeded:
        raise not_found("图片不存在", status=404)
    picture = task.data["picture"]
    width, height = picture["size"]
    seed = derived_int("mewx", task.id)
    if task.kind != "qrcode":
        return BinaryReply(media.png(width, height, seed=seed, label=task.kind), media_type="image/png")
    mask = qr.modules(picture["content"]) if "content" in picture else qr.uploaded_modules(base64.b64decode(picture["image"]))
    return BinaryReply(qr.art_qr(mask, width, height, seed=seed, strength=picture["strength"]), media_type="image/png")
