"""Docmee's state, kept in the instance's task store as tasks of family ``docmee``.

Three kinds of record, all per MockApp instance and gone on reset, like every task:

- ``ppt``: a PPT record. The PPT *is* the task (Docmee has no separate task id): its plan is one step
  per rendered page, so asyncPptInfo follows the generic clocks (step clock: a page per poll). A PPT
  made in one go (directGeneratePptx) has a one-step plan that is already done.
- ``token``: a Docmee token from createApiToken, with its uid, generation limit and expiry.
- ``data``: text parsed by parseFileData, found again by its dataUrl.

Records belong to an owner: the GPTNB key plus the token's uid, so tokens of different uids see
disjoint PPT lists (the uid of createApiToken isolates data, https://docmee.cn/open-platform/api).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...ids import derived_alnum, derived_int
from ...media_routes import image_path
from ...tasks import Rendering, Step, Task, TaskView
from . import slides
from .errors import NO_PERMISSION, RESTRICTED, TOKEN_INVALID, business_error, not_found

if TYPE_CHECKING:
    from ...pipeline import Call

FAMILY = "docmee"
PPT, TOKEN, DATA = "ppt", "token", "data"
RUNNING, DONE, FAILED = "RUNNING", "DONE", "FAILED"
PAGE_SECONDS = 0.8  # how long the mock takes to render one page of an async build
COMPANY_ID = 1000
QUOTA = 1000  # generations the mock's Docmee account starts with
LINK_SECONDS = 7200  # fileUrl validity (the pptInfo of https://doc.302.ai/api-261401644: ~2 h)
TWITTER_EPOCH_MS = 1_288_834_974_657  # snowflake epoch that gives Docmee's 19-digit 2024 ids
DATA_URL_PREFIX = "https://docmee.cn/api/data/tmp/"

async def new_id(call: Call) -> str:
    """A 19-digit snowflake from the mock clock, strictly increasing across the mock (all workers)."""
    candidate = (int(call.state.clock.now() * 1000) - TWITTER_EPOCH_MS) << 22
    return str(await call.state.store.next_id("docmee", candidate))


def timestamp(seconds: float) -> str:
    """Docmee's yyyy-MM-dd HH:mm:ss, Beijing time."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds + 8 * 3600))


async def _record(
    call: Call,
    record_id: str,
    kind: str,
    data: dict[str, Any],
    steps: tuple[Step, ...] = (Step(DONE, 0.0, 100),),
    failure: str | None = None,
    render: Rendering | None = None,
) -> Task:
    task = Task(
        id=record_id, family=FAMILY, kind=kind, params={}, steps=steps, created_at=call.state.clock.now(), owner=call.api_key, data=data, fail_reason=failure, render=render
    )
    return await call.state.tasks.create(task)


async def _find(call: Call, record_id: Any, kind: str) -> Task | None:
    task = await call.state.tasks.get(record_id) if isinstance(record_id, str) else None
    return task if task is not None and task.family == FAMILY and task.kind == kind else None


# ---- tokens and owners ----


@dataclass(frozen=True)
class Scope:
    """Who is asking: the owner key of their records, the uid, and the token used (if any)."""

    owner: str
    uid: str | None
    token: Task | None


async def scope(call: Call) -> Scope:
    """The caller's scope; a ``token`` header that is unknown, revoked or expired is code 98."""
    sent = call.headers.get("token")
    if not sent:
        return Scope(f"{call.api_key}|", None, None)
    token = await _find(call, sent.strip(), TOKEN)
    if token is None or token.data["revoked"] or call.state.clock.now() >= token.data["expires_at"]:
        raise business_error(TOKEN_INVALID, "认证失败，请检查token是否过期")
    return Scope(f"{token.owner}|{token.data['uid'] or ''}", token.data["uid"], token)


async def create_token(call: Call, uid: str | None, limit: int | None, hours: int) -> Task:
    """A new token; the previous one of the same key and uid stops working (GPTNB page 创建接口token)."""
    for old in await call.state.tasks.tasks(FAMILY):
        if old.kind == TOKEN and old.owner == call.api_key and old.data["uid"] == uid:
            await call.state.tasks.update(old, lambda token: token.data.update(revoked=True))
    token = "sk_" + secrets.token_hex(16)
    expires = call.state.clock.now() + hours * 3600
    return await _record(call, token, TOKEN, {"uid": uid, "limit": limit, "revoked": False, "expires_at": expires})


async def spend_generation(call: Call, who: Scope) -> None:
    """Count one PPT generation against the token's limit (code 88 once it is used up)."""
    if who.token is None:
        return
    if await call.state.store.count(call.state.namespace, f"docmee-token-used:{who.token.id}", who.token.data["limit"]) is None:
        raise business_error(RESTRICTED, "功能受限，生成次数已用完")


async def generations(call: Call) -> int:
    return sum(1 for t in await call.state.tasks.tasks(FAMILY) if t.kind == PPT)


# ---- parsed documents ----


async def remember_document(call: Call, text: str) -> str:
    """Keep parsed text; its dataUrl is an opaque handle the generation routes understand."""
    key = derived_alnum(10, "docmee-data", call.request_id).lower()
    await _record(call, DATA_URL_PREFIX + key + ".json", DATA, {"text": text})
    return DATA_URL_PREFIX + key + ".json"


async def document_text(call: Call, data_url: Any) -> str | None:
    found = await _find(call, data_url, DATA)
    return found.data["text"] if found else None


# ---- PPT records ----


def build_plan(pages: int, failure: str | None) -> tuple[Step, ...]:
    """One step per rendered page; a failing build stops halfway."""
    steps = tuple(Step(RUNNING if n < pages else DONE, (n - 1) * PAGE_SECONDS, round(100 * n / pages)) for n in range(1, pages + 1))
    if failure:
        kept = steps[: max(1, pages // 2)]
        return (*(Step(RUNNING, s.at, s.progress) for s in kept), Step(FAILED, len(kept) * PAGE_SECONDS, kept[-1].progress, failed=True))
    return steps


async def create_ppt(call: Call, who: Scope, *, subject: str, prop: dict[str, Any], template_id: str, asynchronous: bool, failure: str | None = None) -> Task:
    pages = max(1, len(prop["pages"]))
    steps = build_plan(pages, failure) if asynchronous else (Step(DONE, 0.0, 100),)
    data = {"scope": who.owner, "uid": who.uid, "subject": subject, "name": subject, "template_id": template_id, "prop": prop, "updated": None, "deleted": False}
    return await _record(call, await new_id(call), PPT, data, steps, failure, render=Rendering.of(download, call.base_url))


async def ppt(call: Call, ppt_id: Any) -> Task:
    """The caller's PPT: 1001 when there is none (or it was deleted), 1003 when it is someone else's."""
    who = await scope(call)
    task = await _find(call, ppt_id, PPT)
    if task is None or task.data["deleted"]:
        raise not_found()
    if task.data["scope"] != who.owner:
        raise business_error(NO_PERMISSION, "无权限访问")
    return task


async def owned_ppts(call: Call, who: Scope) -> list[Task]:
    """The caller's PPTs, newest first."""
    found = [t for t in await call.state.tasks.tasks(FAMILY) if t.kind == PPT and not t.data["deleted"] and t.data["scope"] == who.owner]
    return sorted(found, key=lambda t: int(t.id), reverse=True)


def total_pages(task: Task) -> int:
    return max(1, len(task.data["prop"]["pages"]))


def rendered_pages(view: TaskView) -> int:
    """Pages rendered at this moment: a done build has them all, a failed one keeps what it had."""
    if view.succeeded:
        return total_pages(view.task)
    if view.failed:
        return view.index
    return view.index + 1


async def edit(call: Call, task: Task, **changes: Any) -> None:
    """Change a PPT record's data; it counts as updated now."""
    await call.state.tasks.update(task, lambda ppt: ppt.data.update(changes, updated=call.state.clock.now()))


# ---- renderings ----


def signature(ppt_id: str, expires: int) -> str:
    return derived_alnum(28, "docmee-signature", ppt_id, expires)


def file_url(view: TaskView, base_url: str) -> str | None:
    """A signed link to the .pptx, or None while the build runs (GPTNB page 下载 PPT)."""
    if not view.succeeded:
        return None
    expires = int(view.now) + LINK_SECONDS
    return f"{base_url}/docmee-files/ppt/{view.task.id}.pptx?Expires={expires}&Signature={signature(view.task.id, expires)}"


def cover_url(task: Task, base_url: str) -> str:
    return base_url + image_path(480, 270, derived_int("docmee-ppt-cover", task.id) % 1_000_000)


def download(view: TaskView, base_url: str) -> dict[str, Any]:
    """What the download route answers about a PPT (GPTNB page 下载 PPT); also the task's render."""
    task = view.task
    return {"id": task.id, "name": task.data["name"], "subject": task.data["subject"], "fileUrl": file_url(view, base_url), "coverUrl": cover_url(task, base_url)}


def row(call: Call, task: Task) -> dict[str, Any]:
    """A listPptx row: no fileUrl, no structure."""
    data = task.data
    owner = data["uid"] or "gptnb"
    updated = data["updated"]
    return {
        "id": task.id,
        "name": data["name"],
        "subject": data["subject"],
        "coverUrl": cover_url(task, call.base_url),
        "templateId": data["template_id"],
        "userId": owner,
        "userName": owner,
        "companyId": COMPANY_ID,
        "updateTime": timestamp(updated) if updated is not None else None,
        "createTime": timestamp(task.created_at),
    }


def info(call: Call, task: Task, *, with_file: bool, with_property: bool = True) -> dict[str, Any]:
    """The pptInfo object (the pptInfo of https://doc.302.ai/api-261401644)."""
    found = row(call, task)
    if with_file:
        found["fileUrl"] = file_url(call.state.tasks.view(task), call.base_url)
    found["pptxProperty"] = slides.packed(task.data["prop"]) if with_property else None
    found["totalPage"] = total_pages(task)
    return found
