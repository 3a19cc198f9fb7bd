"""A stand-in for the real upstream, for the proxy's tests: the mock itself, with differences from the
contracts planted on a few routes, and streams whose pace the test controls. Never the network.

Planted (each is something drift must find):
- chat completion: an unknown member ``provider``, ``finish_reason`` "eos" (not listed), ``usage.total_tokens``
  as a string (a type change), no ``created`` (a required member missing);
- chat stream: chunks with an unknown member ``x_trace``, the second with ``created`` as a string (a type
  change), three events ``STREAM_GAP`` apart, then [DONE];
- Responses stream: an event type the contract does not describe, ``response.audit.note``;
- ``GET /v1/models/broken-model``: HTTP 500 with ``{"code", "msg"}``, an error shape the contract does not know;
- Midjourney fetch: the second poll of a task says ``QUEUED``, a status word the lifecycle does not list;
- ``GET /v1/models/moved-model``: a 301 (no contract lists it), ``GET /v1/models/teapot``: a 418 in text/plain;
- a Claude message stream for ``metadata.user_id`` "misnamed": its first event named ``ping`` while its
  payload says ``message_start``.

A request with ``x-standin-echo: 1`` is answered with the headers and query the stand-in received, as an
upstream that quotes a key back in its answer would. ``seen`` lists every request's (method, path, headers).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from typing import Any

from mockserver.app import MockApp
from mockserver.config import Settings
from mockserver.journal import JournalEntry
from mockserver.state import MockState
from mockserver.steering import Rule
from mockserver.store import DEFAULT_NAMESPACE, run_sync

STREAM_GAP = 0.15
UNKNOWN_EVENT = "response.audit.note"


class StandIn:
    def __init__(self, clock: str = "step") -> None:
        # The step clock moves a task one state per poll, so a few polls see its whole life.
        self.mock = MockApp(state=MockState(Settings(strict=False, seed=7, clock=clock)))
        self.hold_after_first_event = False
        self.release = threading.Event()
        """Set by a test to let a held stream go on after its first event."""
        self.finished_streams = 0
        self.polls: Counter[str] = Counter()
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    def journal(self) -> list[JournalEntry]:
        """What the stand-in's mock answered."""
        return run_sync(self.mock.state.store.journal(DEFAULT_NAMESPACE))

    def add_rule(self, rule: Rule) -> None:
        run_sync(self.mock.state.store.add_rule(DEFAULT_NAMESPACE, rule))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}
        self.seen.append((scope.get("method", "WEBSOCKET"), scope["path"], headers))
        if scope["type"] != "http":
            await self.mock(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if headers.get("x-standin-echo") == "1":
            await _body(receive)
            await _json(send, 200, {"headers": headers, "query": scope.get("query_string", b"").decode("latin-1")})
        elif method == "POST" and path == "/v1/chat/completions":
            body = json.loads(await _body(receive) or b"{}")
            if body.get("stream"):
                await self._chat_stream(send)
            else:
                await _json(send, 200, _planted_completion(body))
        elif method == "POST" and path == "/v1/messages" and b'"misnamed"' in (peeked := await _body(receive)):
            await self._misnamed_stream(send)
        elif method == "POST" and path == "/v1/messages":
            await self.mock(scope, _replaying(peeked), send)
        elif method == "POST" and path == "/v1/responses":
            await _body(receive)
            await self._responses_stream(send)
        elif method == "GET" and path == "/v1/models/broken-model":
            await _json(send, 500, {"code": 50001, "msg": "upstream busy"})
        elif method == "GET" and path == "/v1/models/moved-model":
            await _json(send, 301, {"moved_to": "gpt-4o-mini"})
        elif method == "GET" and path == "/v1/models/teapot":
            await _start(send, 418, "text/plain")
            await send({"type": "http.response.body", "body": b"I'm a teapot"})
        elif method == "GET" and path.startswith("/mj/task/") and path.endswith("/fetch"):
            await self._fetch(scope, receive, send)
        else:
            await self.mock(scope, receive, send)

    async def _chat_stream(self, send: Any) -> None:
        await _start(send, 200, "text/event-stream")
        for index in range(3):
            chunk = {
                "id": "chatcmpl-standin",
                "object": "chat.completion.chunk",
                "created": "1732531500" if index == 1 else 1732531500,
                "model": "gpt-4o-mini",
                "x_trace": f"t{index}",
                "choices": [{"index": 0, "delta": {"content": f"part {index} "}, "finish_reason": "stop" if index == 2 else None}],
            }
            await send({"type": "http.response.body", "body": b"data: " + json.dumps(chunk).encode() + b"\n\n", "more_body": True})
            if index == 0 and self.hold_after_first_event:
                await asyncio.to_thread(self.release.wait, 30)
            await asyncio.sleep(STREAM_GAP)
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})
        self.finished_streams += 1

    async def _responses_stream(self, send: Any) -> None:
        await _start(send, 200, "text/event-stream")
        response = {"id": "resp_standin", "object": "response", "created_at": 1732531500, "status": "in_progress", "model": "gpt-4o-mini", "output": []}
        events = [
            {"type": "response.created", "sequence_number": 0, "response": response},
            {"type": UNKNOWN_EVENT, "sequence_number": 1, "note": "audited"},
            {"type": "response.completed", "sequence_number": 2, "response": {**response, "status": "completed"}},
        ]
        for event in events:
            line = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"
            await send({"type": "http.response.body", "body": line.encode(), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _misnamed_stream(self, send: Any) -> None:
        await _start(send, 200, "text/event-stream")
        message = {"id": "msg_standin", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-20241022", "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 0}}
        events = [("ping", {"type": "message_start", "message": message}), ("message_stop", {"type": "message_stop"})]
        for name, payload in events:
            await send({"type": "http.response.body", "body": f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode(), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _fetch(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        task_id = scope["path"].split("/")[3]
        self.polls[task_id] += 1
        answer: dict[str, Any] = {}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            else:
                answer["body"] = answer.get("body", b"") + message.get("body", b"")

        await self.mock(scope, receive, capture)
        task = json.loads(answer["body"])
        if self.polls[task_id] == 2 and isinstance(task, dict):
            task["status"] = "QUEUED"
        await _json(send, answer["status"], task)


def _planted_completion(request: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "model": request.get("model", "gpt-4o-mini"),
        "provider": "standin",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "planted"}, "finish_reason": "eos"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": "2"},
    }


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replaying(body: bytes) -> Any:
    """A receive() that gives ``body`` again, for a request the stand-in has read and passes on."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # nothing more: the client is still there
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _start(send: Any, status: int, media: str) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", media.encode())]})


async def _json(send: Any, status: int, body: Any) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
