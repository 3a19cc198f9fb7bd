"""Docmee generation endpoints: token, account, file parsing, templates, outlines, content, PPTs.

Every answer is Docmee's envelope ``{code, message, data}``; errors are raised as business errors and
shaped by ``errors.docmee_error`` (HTTP 200, non-zero code). Streams are answered when the contract's
``streams_when`` says so, and errors found before a stream starts come as a JSON envelope.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from ...ids import derived_int
from ...replies import JsonReply, Reply, StreamReply
from ...streaming import wants_stream
from ...taskflow import planned_failure
from .. import handles
from . import models, outline, slides, templates
from .errors import AI_ERROR, BAD_PARAMETER, GENERIC, SENSITIVE, business_error, missing, not_found
from .streams import GENERATING, Event, markdown_events

if TYPE_CHECKING:
    from ...parsing import Upload
    from ...pipeline import Call

OK = "操作成功"
TEXT_EXTENSIONS = ("txt", "md", "csv", "html", "htm", "json")
SUBJECT_CHARS = 40  # a subject taken from a parsed document: its first line, cut here


def ok(data: Any = None, **beside: Any) -> JsonReply:
    """The success envelope; ``beside`` are top-level fields next to data (``total`` on lists)."""
    return JsonReply({"code": 0, "message": OK, **beside, "data": data})


def paging(body: dict[str, Any]) -> tuple[int, int]:
    """(page, size) as ints: JSON integers may arrive as floats (1e19), and page <= 0 reads as 1."""
    return max(1, int(body["page"])), int(body["size"])


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    return value.strip() if isinstance(value, str) else ""


def _check_words(call: Call, *texts: str) -> None:
    """Moderation: the instance's banned words are Docmee's 1006 sensitive content."""
    words = " ".join(texts).lower()
    if any(word in words for word in call.state.settings.banned_words):
        raise business_error(SENSITIVE, "内容包含敏感信息，请修改后重试")


async def _subject(call: Call) -> tuple[str, bool]:
    """The topic of a generation and whether a dataUrl is parsed for it (subject and/or dataUrl)."""
    subject, data_url = _text(call.body, "subject"), _text(call.body, "dataUrl")
    if data_url:
        document = await models.document_text(call, data_url)
        if document is None:
            raise not_found()
        first_line = next((line.strip() for line in document.splitlines() if line.strip()), "")
        subject = subject or first_line[:SUBJECT_CHARS]
    if not subject:
        raise missing("subject")
    _check_words(call, subject, _text(call.body, "prompt"))
    return subject, bool(data_url)


def _outline_text(call: Call) -> str:
    markdown = call.body.get("outlineMarkdown")
    if not isinstance(markdown, str) or not markdown.strip():
        raise missing("outlineMarkdown")
    _check_words(call, markdown, _text(call.body, "prompt"), _text(call.body, "question"))
    return markdown


def _template_id(call: Call) -> str:
    """The requested template, or a random system one when none is given (GPTNB page 生成大纲内容同时异步生成PPT)."""
    wanted = _text(call.body, "templateId")
    if not wanted:
        catalogue = templates.catalogue()
        return catalogue[derived_int("docmee-random-template", call.request_id) % len(catalogue)]["id"]
    if templates.find(wanted) is None:
        raise business_error(GENERIC, "模板不存在")
    return wanted


def _written(call: Call, markdown: str, failure: str | None, *, parsing: bool = False) -> Reply:
    """An outline or content answer: the stream, or (stream false) the whole text and its tree."""
    tree = outline.parse(markdown)
    if wants_stream(call) or call.contract.behavior.get("streams_when") is None:
        return StreamReply(markdown_events(markdown, lambda: tree, parsing=parsing, failure=failure))
    if failure:
        raise business_error(AI_ERROR, "AI服务异常")
    return ok({"text": markdown, "result": tree})


@handles("docmee.token.create")
async def create_token(call: Call) -> Reply:
    body = call.body or {}
    hours = int(body.get("timeOfHours") or 2)
    uid = body.get("uid") if isinstance(body.get("uid"), str) and body["uid"] else None
    token = await models.create_token(call, uid, body.get("limit"), hours)
    return ok({"token": token.id, "expireTime": hours * 3600})


@handles("docmee.account.api_info")
async def api_info(call: Call) -> Reply:
    used = await models.generations(call)
    return ok({"availableCount": max(0, models.QUOTA - used), "usedCount": used})


def _upload_text(upload: Upload) -> str:
    extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
    if extension in TEXT_EXTENSIONS:
        return upload.data.decode("utf-8", errors="replace")
    if extension == "pptx":
        try:
            deck = slides.from_pptx(upload.data)
        except slides.UnreadableDeck:
            raise business_error(GENERIC, f"文件解析失败：{upload.filename}") from None
        return "\n".join(str(n.get("text") or "") for page in deck["pages"] for n in page["children"])
    # Binary formats the mock cannot read (docx, pdf …) stand for a document named like the file.
    return upload.filename.rsplit(".", 1)[0]


@handles("docmee.file.parse")
async def parse_file(call: Call) -> Reply:
    await models.scope(call)
    parts = [_upload_text(upload) for upload in call.files.get("file", [])]
    parts += [_text(call.body, name) for name in ("content", "fileUrl", "website", "websearch")]
    text = "\n".join(part for part in parts if part.strip())
    if not text:
        raise business_error(BAD_PARAMETER, "参数错误：file、content、fileUrl、website、websearch不能都为空")
    return ok({"dataUrl": await models.remember_document(call, text)})


@handles("docmee.templates.random")
async def random_templates(call: Call) -> Reply:
    await models.scope(call)
    pool = templates.matching(call.body["filters"])
    picked = random.Random(derived_int("docmee-random", call.request_id)).sample(pool, min(int(call.body["size"]), len(pool)))
    return ok([templates.with_cover(t, call.url_for) for t in picked], total=len(picked))


@handles("docmee.templates.list")
async def list_templates(call: Call) -> Reply:
    await models.scope(call)
    pool = templates.matching(call.body["filters"])
    page, size = paging(call.body)
    start = min((page - 1) * size, len(pool))
    return ok([templates.with_cover(t, call.url_for) for t in pool[start : start + size]], total=len(pool))


@handles("docmee.outline.generate")
async def generate_outline(call: Call) -> Reply:
    await models.scope(call)
    subject, parsing = await _subject(call)
    markdown = outline.outline_markdown(subject, call.body.get("length"), call.body.get("lang"))
    return _written(call, markdown, planned_failure(call, call.request_id), parsing=parsing)


@handles("docmee.outline.update")
async def update_outline(call: Call) -> Reply:
    await models.scope(call)
    source = _outline_text(call)
    tree = outline.parse(source)
    chapters = [c["name"] for c in tree.get("children") or [] if c["level"] == 2]
    subject = tree["name"] or (chapters[0] if chapters else source.strip().splitlines()[0])
    markdown = outline.outline_markdown(subject, call.body.get("length"), outline.language_of(source), keep=chapters)
    return _written(call, markdown, planned_failure(call, call.request_id))


@handles("docmee.content.generate")
async def generate_content(call: Call) -> Reply:
    await models.scope(call)
    source = _outline_text(call)
    markdown = outline.content_markdown(source, call.body.get("lang") or outline.language_of(source))
    return _written(call, markdown, planned_failure(call, call.request_id))


@handles("docmee.content.generate_async")
async def generate_content_async(call: Call) -> Reply:
    """Content stream plus a PPT build that goes on after it; asyncPptInfo follows the build."""
    who = await models.scope(call)
    source = _outline_text(call)
    template_id = _template_id(call)
    await models.spend_generation(call, who)
    markdown = outline.content_markdown(source, call.body.get("lang") or outline.language_of(source))
    tree = outline.parse(markdown)
    failure = planned_failure(call, call.request_id)
    task = await models.create_ppt(call, who, subject=tree["name"] or "未命名", prop=slides.deck(tree), template_id=template_id, asynchronous=True, failure=failure)

    def progress() -> Event:
        view = call.state.tasks.view(task)
        return {"text": "", "status": GENERATING, "pptId": task.id, "total": models.total_pages(task), "current": models.rendered_pages(view)}

    return StreamReply(markdown_events(markdown, lambda: tree, failure=failure, after_chapter=progress))


@handles("docmee.pptx.direct_generate")
async def direct_generate(call: Call) -> Reply:
    """Subject to finished PPT in one call; the stream ends with the pptInfo as its result."""
    who = await models.scope(call)
    subject, parsing = await _subject(call)
    template_id = _template_id(call)
    lang = call.body.get("lang")
    markdown = outline.content_markdown(outline.outline_markdown(subject, call.body.get("length"), lang), lang)
    failure = planned_failure(call, call.request_id)
    streaming = wants_stream(call)
    if failure:  # the model fails before a PPT exists: nothing is built or counted
        if not streaming:
            raise business_error(AI_ERROR, "AI服务异常")
        return StreamReply(markdown_events(markdown, dict, parsing=parsing, failure=failure))
    await models.spend_generation(call, who)
    task = await models.create_ppt(call, who, subject=subject, prop=slides.deck(outline.parse(markdown)), template_id=template_id, asynchronous=False)
    with_property = call.body.get("pptxProperty") is True
    if not streaming:
        return ok({"pptInfo": models.info(call, task, with_file=True, with_property=with_property)})
    announced: Event = {"text": "", "status": GENERATING, "pptId": task.id}

    def result() -> dict[str, Any]:
        return models.info(call, task, with_file=True, with_property=with_property)

    return StreamReply(markdown_events(markdown, result, parsing=parsing, closing=lambda: announced))
