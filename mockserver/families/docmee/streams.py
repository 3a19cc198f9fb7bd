"""Docmee's event streams: ``data:{"text","status"}`` events, no ``event:`` line, no ``[DONE]``.

A stream is the Markdown a client would see, one line per event, framed by Docmee's status words:
1 while a dataUrl is parsed, 3 while generating, 4 with the result, or -1 with an error and nothing
after it (Docmee's demo veasion/aippt-api-python-demo api.py reads text and stops on -1 with error).
Progress of an async build rides on the same stream, read from the task's view at the moment each
event is sent, so it follows the mock clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from .outline import chunks

GENERATING, FINISHED, PARSING, FAILED = 3, 4, 1, -1
MODEL_FAILURE = "AI模型执行异常"

Event = dict[str, Any]


async def markdown_events(
    markdown: str,
    result: Callable[[], dict[str, Any]],
    *,
    parsing: bool = False,
    failure: str | None = None,
    after_chapter: Callable[[], Event] | None = None,
    closing: Callable[[], Event] | None = None,
) -> AsyncIterator[Event]:
    """Text deltas, then the finishing event whose ``result`` is computed when it is sent.

    ``after_chapter`` adds an event after the topic line and each ``##`` line (build progress, so the
    first one reveals the pptId early); ``closing`` comes just before the result (direct generation's
    pptId event); ``failure`` cuts the stream halfway with a status -1 event, as Docmee reports a
    model failure mid-stream."""
    if parsing:
        yield {"text": "", "status": PARSING}
    yield {"text": "", "status": GENERATING}
    lines = chunks(markdown)
    for index, line in enumerate(lines):
        if failure and index == len(lines) // 2:
            yield {"status": FAILED, "error": MODEL_FAILURE}
            return
        yield {"text": line, "status": GENERATING}
        if after_chapter is not None and (index == 0 or line.startswith("## ")):
            yield after_chapter()
    if closing is not None:
        yield closing()
    yield {"text": "", "status": FINISHED, "result": result()}
