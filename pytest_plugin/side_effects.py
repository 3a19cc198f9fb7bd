"""What a ``gptnb.route(...).mock(side_effect=fn)`` function may return, as the mock's reply.

``fn`` gets the request as the mock read it (a ``mockserver.pipeline.Call``) and returns one of:
``None`` (the fake answers as usual), a JSON-able value (answered as JSON with status 200), a reply
from ``mockserver.replies``, or an ``httpx.Response`` / ``httpx2.Response`` as a respx side effect
would build it: status, headers and body are kept; a body given as a (sync or async) iterator is sent
as it comes, so an event stream reaches the client event by event. ``fn`` may be ``async``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from mockserver.replies import BinaryReply, JsonReply, Reply, TextReply

SideEffect = Callable[[Any], Any]
# Framing headers describe the bytes as they were built; the mock frames what it sends itself.
_FRAMING = frozenset({"content-length", "transfer-encoding", "content-encoding", "connection", "content-type"})


def answering(side_effect: SideEffect) -> SideEffect:
    """``side_effect`` with its httpx / httpx2 responses turned into replies the pipeline sends."""

    async def answer(call: Any) -> Any:
        result = side_effect(call)
        if inspect.isawaitable(result):
            result = await result
        return reply_from_response(result) if is_http_response(result) else result

    return answer


def is_http_response(value: Any) -> bool:
    """An ``httpx.Response`` or ``httpx2.Response`` (both libraries share the shape, not a base class)."""
    return type(value).__name__ == "Response" and type(value).__module__.split(".")[0] in ("httpx", "httpx2")


def reply_from_response(response: Any) -> Reply:
    media = response.headers.get("content-type", "application/octet-stream")
    base = media.split(";", 1)[0].strip().lower()
    headers = {name: value for name, value in response.headers.items() if name.lower() not in _FRAMING}
    status = response.status_code
    if not response.is_closed:  # built from an iterator: not read yet, and not to be read ahead of the client
        return BinaryReply(_chunks(response), media_type=media, status=status, headers=headers)
    if base == "application/json" or base.endswith("+json"):
        try:
            return JsonReply(json.loads(response.content), status=status, headers=headers, media_type=base)
        except ValueError:
            pass  # not JSON after all: the bytes go out as they are
    if base.startswith("text/") and base != "text/event-stream":
        return TextReply(response.text, status=status, media_type=base, headers=headers)
    return BinaryReply(response.content, media_type=media, status=status, headers=headers)


async def _chunks(response: Any) -> AsyncIterator[bytes]:
    if hasattr(response.stream, "__aiter__"):
        async for chunk in response.aiter_raw():
            yield chunk
    else:
        for chunk in response.iter_raw():
            yield chunk
