"""One HTTP exchange through the proxy: read and judge the request, forward it, pass the answer back
unchanged while judging it, journal the verdict, record the cassette.

Event streams and binary bodies go back chunk by chunk as the upstream sends them (the verdict header
then says ``pending`` for a stream, whose events are judged as they pass); JSON and text bodies are
small and judged whole, so they are held until complete and their verdict rides in the header.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from starlette.types import Receive, Scope, Send

from .. import parsing
from ..errors import ApiError
from ..ids import request_id
from ..responses import BodyReader, ResponseJudge
from .cassette import encode_body, encode_chunk
from .tasks import task_note
from .upstream import HOP_BY_HOP
from .verdict import Incoming, RequestSeen, verdict_headers

if TYPE_CHECKING:
    from .app import ProxyCore

log = logging.getLogger("gptnb_mock.proxy")


class HttpRelay:
    def __init__(self, core: ProxyCore) -> None:
        self.core = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        core = self.core
        incoming = Incoming.from_scope(scope)
        method, path = scope["method"], incoming.path
        rid = request_id()
        try:
            raw = await parsing.read_body(receive, incoming.headers.get("content-length"), core.options.max_body_bytes)
        except ApiError as error:
            await core.send_json(send, core.refusal(None, error.status, error.kind, error.message, rid))
            return
        seen = await core.requests.judge(method, path, incoming.query, incoming.headers, raw)
        entry = core.journal_entry(method, incoming, seen)
        if core.replay is not None and seen.contract is not None:  # recorded already: costs nothing
            replayed = await core.replay.answer_seen(core.progress, seen, method, path, incoming.query)
            if replayed is not None:
                entry.status, entry.response = replayed.status, "(replayed)"
                await core.journal.record(entry)
                await core.send_reply(send, replayed)
                return
        refused = core.guard.refusal(seen.contract, method, path)
        if refused is not None:
            entry.status, entry.response = 403, refused
            await core.journal.record(entry)
            await core.send_json(send, core.refusal(seen.contract, 403, "proxy_refused", refused, rid))
            return
        number = core.writer.number() if core.writer else None
        upstream_request = core.client().build_request(
            method,
            core.upstream.url(incoming.raw_path, core.upstream.query(seen.contract, incoming.query_string)),
            headers=core.upstream.headers(seen.contract, incoming.received),
            content=raw,
        )
        try:
            answer = await core.client().send(upstream_request, stream=True)
        except httpx.HTTPError as exc:
            message = f"the upstream {core.upstream.base_url} did not answer: {type(exc).__name__}: {exc}"
            entry.status, entry.response = 502, message
            log.warning("%s %s -> 502: %s", method, path, message)
            await core.journal.record(entry)
            await core.send_json(send, core.refusal(seen.contract, 502, "upstream_unreachable", message, rid))
            return
        exchange = _Exchange(core, incoming, seen, entry, answer)
        try:
            await exchange.relay(receive, send)
        finally:
            await answer.aclose()
            await exchange.journal_once()  # the upstream broke off: what was seen so far
        log.info("%s %s -> %s %s %s (%.0f ms)", method, path, answer.status_code, seen.contract.id if seen.contract else "(no contract)", "conforms" if not entry.violations else f"{len(entry.violations)} violation(s)", entry.duration_ms)
        if number is not None:
            await core.record(number, core.cassette(incoming, method, seen.contract, _request_record(seen, raw, incoming.headers.get("content-type", "")), **exchange.recorded()))


class _Exchange:
    """The answer's side of one exchange: timing, chunks, verdicts, and what a cassette keeps of it."""

    def __init__(self, core: ProxyCore, incoming: Incoming, seen: RequestSeen, entry: Any, answer: httpx.Response) -> None:
        self.core = core
        self.incoming = incoming
        self.seen = seen
        self.entry = entry
        self.answer = answer
        self.time_to_headers = incoming.elapsed_ms()
        self.media = answer.headers.get("content-type", "")
        self.media_type = parsing.media_type_of(self.media)
        judge = ResponseJudge(seen.contract, core.registry) if seen.contract else None
        self.reader = BodyReader(judge, answer.status_code, self.media, entry.violations) if judge else None
        self.streamed = self.media_type == "text/event-stream" or not (self.media_type.endswith("json") or self.media_type.startswith("text/"))
        self.chunks: list[tuple[float, bytes]] = []
        self.size = 0
        self.event_times: list[float] = []
        self.client_left = False
        self.journalled = False

    async def relay(self, receive: Receive, send: Send) -> None:
        self.entry.status = self.answer.status_code
        chunks = self.answer.aiter_raw()
        if self.streamed:
            await self._send_start(send, pending=self.reader is not None and self.reader.needs_body)
        else:
            async for chunk in chunks:
                self._take(chunk)
                if self.size > self.core.options.max_buffer_bytes:
                    break
            else:
                await self._finish()
                await self._send_start(send, pending=False)
                await send({"type": "http.response.body", "body": self.body(), "more_body": False})
                return
            # Too big to hold for a verdict: pass on what is held and the rest as it comes; the
            # verdict follows in the journal.
            await self._send_start(send, pending=True)
            for _, held in self.chunks:
                await send({"type": "http.response.body", "body": held, "more_body": True})
        self.client_left = await _until_disconnect(receive, self._pump(send, chunks))
        if self.client_left:
            await self._finish()

    async def _pump(self, send: Send, chunks: AsyncIterator[bytes]) -> None:
        async for chunk in chunks:
            self._take(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await self._finish()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _take(self, chunk: bytes) -> None:
        now = self.incoming.elapsed_ms()
        self.chunks.append((now, chunk))
        self.size += len(chunk)
        if self.reader is not None:
            self.event_times += [now] * len(self.reader.feed(chunk))

    async def _finish(self) -> None:
        """The answer is all here (or the client left): the verdict is complete, and journalled before
        the client has the end of the answer, so what it asks the journal next includes this exchange."""
        if self.reader is not None and not self.client_left:
            self.reader.finish()
        self.entry.response = self._journal_response()
        await self.journal_once()

    async def journal_once(self) -> None:
        if not self.journalled:
            self.journalled = True
            self.entry.duration_ms = self.incoming.elapsed_ms()
            await self.core.journal.record(self.entry)

    def body(self) -> bytes:
        return b"".join(chunk for _, chunk in self.chunks)

    async def _send_start(self, send: Send, pending: bool) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.answer.headers.multi_items() if k.lower() not in HOP_BY_HOP - {"content-length"}]
        if not self.streamed and not pending:
            headers = [(k, v) for k, v in headers if k != b"content-length"] + [(b"content-length", str(len(self.body())).encode())]
        headers += verdict_headers(self.seen.contract, self.entry, pending)
        await send({"type": "http.response.start", "status": self.answer.status_code, "headers": headers})

    def _journal_response(self) -> Any:
        media = self.media_type
        if self.streamed:
            what = f"{len(self.event_times)} events" if media == "text/event-stream" else f"{self.size} bytes of {media or 'unknown type'}"
            return f"(streamed: {what}{', the client left early' if self.client_left else ''})"
        body = self.body()
        if media.endswith("json"):
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError:
                pass
        return body[:2000].decode("utf-8", errors="replace")

    def answer_json(self) -> Any:
        if self.streamed or not self.media_type.endswith("json"):
            return None
        try:
            return orjson.loads(self.body())
        except orjson.JSONDecodeError:
            return None

    def recorded(self) -> dict[str, Any]:
        """The answer, timing, verdict and task note, as a cassette keeps them."""
        if self.streamed:
            body: dict[str, Any] = {"stream": [encode_chunk(chunk, at - self.time_to_headers) for at, chunk in self.chunks]}
        else:
            body = encode_body(self.body(), self.media)
        recorded: dict[str, Any] = {
            "response": {"status": self.answer.status_code, "headers": self.core.redactor.headers(self.answer.headers.multi_items()), "body": body},
            "timing": {
                "started_at": round(self.incoming.started, 3),
                "time_to_headers_ms": round(self.time_to_headers, 1),
                "duration_ms": round(self.incoming.elapsed_ms(), 1),
                **({"events_ms": [round(t - self.time_to_headers, 1) for t in self.event_times]} if self.event_times else {}),
            },
            "verdict": {"conforms": not self.entry.violations, "violations": list(self.entry.violations)},
        }
        if self.client_left:
            recorded["client_left_early"] = True
        note = task_note(self.seen.contract, self.seen.params, dict(self.incoming.query), self.seen.body, self.answer_json())
        if note is not None:
            recorded["task"] = note
        return recorded


def _request_record(seen: RequestSeen, raw: bytes, content_type: str) -> dict[str, Any] | None:
    """A request body as a cassette keeps it: forms as their fields (files described), others as sent."""
    if parsing.media_type_of(content_type) in (parsing.MULTIPART, parsing.URLENCODED) and isinstance(seen.body, dict):
        return {"form": seen.body}
    return encode_body(raw, content_type or "application/json") if raw else None


async def _until_disconnect(receive: Receive, pumping: Any) -> bool:
    """Run ``pumping`` to its end unless the client leaves first; True when it left."""
    pump = asyncio.ensure_future(pumping)
    gone = asyncio.ensure_future(_disconnected(receive))
    done, _ = await asyncio.wait({pump, gone}, return_when=asyncio.FIRST_COMPLETED)
    if pump in done:
        gone.cancel()
        pump.result()
        return False
    pump.cancel()
    await asyncio.wait({pump})
    return True


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass

