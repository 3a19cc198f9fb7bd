"""Docmee PPT records and files: list, load, download, rename, save, delete, re-template, async
progress, the signed .pptx link, and the ppt2json / json2ppt converters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...replies import BinaryReply, JsonReply, Reply
from .. import handles
from . import models, slides, templates
from .errors import AI_ERROR, BAD_PARAMETER, GENERIC, business_error
from .handlers import ok, paging

if TYPE_CHECKING:
    from ...pipeline import Call

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def _pptx(data: bytes, name: str) -> BinaryReply:
    return BinaryReply(data, media_type=PPTX, headers={"content-disposition": f'attachment; filename="{name}.pptx"'})


@handles("docmee.pptx.list")
async def list_ppts(call: Call) -> Reply:
    found = await models.owned_ppts(call, await models.scope(call))
    page, size = paging(call.body)
    start = min((page - 1) * size, len(found))
    return ok([models.row(call, t) for t in found[start : start + size]], total=len(found))


@handles("docmee.pptx.load")
async def load(call: Call) -> Reply:
    task = await models.ppt(call, call.query["id"])
    return ok({"pptInfo": models.info(call, task, with_file=False)})


@handles("docmee.pptx.download")
async def download(call: Call) -> Reply:
    task = await models.ppt(call, call.body["id"])
    return ok(models.download(call.state.tasks.view(task), call.base_url))


@handles("docmee.pptx.update_attr")
async def update_attributes(call: Call) -> Reply:
    task = await models.ppt(call, call.body["id"])
    changes = {name: call.body[name] for name in ("name", "subject") if isinstance(call.body.get(name), str) and call.body[name].strip()}
    if not changes:
        raise business_error(BAD_PARAMETER, "参数错误：name和subject不能都为空")
    await models.edit(call, task, **changes)
    return JsonReply({"code": 0, "message": "操作成功"})


@handles("docmee.pptx.save")
async def save(call: Call) -> Reply:
    task = await models.ppt(call, call.body["id"])
    edited = call.body.get("pptxProperty")
    await models.edit(call, task, **({"prop": edited} if isinstance(edited, dict) else {}))
    return ok({"pptInfo": models.info(call, task, with_file=True)})


@handles("docmee.pptx.delete")
async def delete(call: Call) -> Reply:
    task = await models.ppt(call, call.body["id"])
    # A deleted record stays in the store and answers 1001 from now on.
    await call.state.tasks.update(task, lambda ppt: ppt.data.update(deleted=True))
    return JsonReply({"code": 0, "message": "操作成功"})


@handles("docmee.pptx.update_template")
async def update_template(call: Call) -> Reply:
    task = await models.ppt(call, call.body["pptId"])
    template_id = call.body["templateId"]
    if templates.find(template_id) is None:
        raise business_error(GENERIC, "模板不存在")
    await models.edit(call, task, template_id=template_id)
    return ok({"pptId": task.id, "templateId": template_id, "pptxProperty": task.data["prop"]})


@handles("docmee.pptx.async_info")
async def async_info(call: Call) -> Reply:
    """One poll of the build: pages rendered so far, and those pages (step clock: one more each poll)."""
    task = await models.ppt(call, call.query["pptId"])
    view = await call.state.tasks.poll(task)
    if view.failed:
        raise business_error(AI_ERROR, f"AI服务异常：{task.fail_reason}")
    current = models.rendered_pages(view)
    return ok({"total": models.total_pages(task), "current": current, "pptxProperty": slides.packed(slides.first_pages(task.data["prop"], current))})


def _storage_error(status: int, code: str, message: str, ppt_id: str) -> JsonReply:
    return JsonReply({"Code": code, "Message": message, "Key": f"docmee/ppt/{ppt_id}.pptx"}, status=status)


@handles("docmee.pptx.file")
async def pptx_file(call: Call) -> Reply:
    """The signed link downloadPptx hands out: no API key, but a signature that must match and last."""
    name = call.params["file"]
    ppt_id = name.removesuffix(".pptx")  # links end in <pptId>.pptx, as upstream's do
    task = await call.state.tasks.get(ppt_id)
    if not name.endswith(".pptx") or task is None or task.family != models.FAMILY or task.kind != models.PPT or task.data["deleted"] or not call.state.tasks.view(task).succeeded:
        return _storage_error(404, "NoSuchKey", "The specified key does not exist.", ppt_id)
    expires = str(call.query.get("Expires", ""))
    signed = expires.isdigit() and call.query.get("Signature") == models.signature(ppt_id, int(expires))
    if not signed or int(expires) < call.state.clock.now():
        return _storage_error(403, "AccessDenied", "Request has expired or the signature does not match.", ppt_id)
    return _pptx(slides.to_pptx(task.data["prop"]), ppt_id)


@handles("docmee.convert.ppt2json")
async def ppt_to_json(call: Call) -> Reply:
    await models.scope(call)
    upload = call.files["file"][0]
    try:
        return JsonReply(slides.from_pptx(upload.data))
    except slides.UnreadableDeck:
        raise business_error(GENERIC, f"ppt解析失败：{upload.filename} 不是有效的pptx文件") from None


@handles("docmee.convert.json2ppt")
async def json_to_ppt(call: Call) -> Reply:
    await models.scope(call)
    return _pptx(slides.to_pptx(call.body), "presentation")
