"""The Realtime API over WebSocket: a session of JSON events, beta names or GA names.

The session keeps the conversation (items in order) and the input audio buffer, answers each client
event with the events the reference lists, and streams responses (text, audio, transcript deltas)
as a task so ``response.cancel`` can stop one midway. A malformed or unknown event gets an ``error``
event; the socket stays open.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from ... import media
from ... import text as texts
from ...ids import random_alnum
from ...journal import JournalEntry
from ...responses import ResponseJudge
from .. import handles

if TYPE_CHECKING:
    from ...pipeline import Call

BETA_SUBPROTOCOL = "openai-beta.realtime-v1"
AUDIO_CHUNK_SECONDS = 0.2
SESSION_SECONDS = 30 * 60


def _id(prefix: str) -> str:
    return f"{prefix}_{random_alnum(21)}"


TURN_DETECTION = {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 200, "create_response": True, "interrupt_response": True}


class Names:
    """Event and part names that differ between the beta protocol and GA."""

    def __init__(self, beta: bool) -> None:
        self.beta = beta
        self.text = "response.text" if beta else "response.output_text"
        self.audio = "response.audio" if beta else "response.output_audio"
        self.transcript = "response.audio_transcript" if beta else "response.output_audio_transcript"
        self.text_part = "text" if beta else "output_text"
        self.audio_part = "audio" if beta else "output_audio"


class RealtimeSession:
    def __init__(self, call: Call, socket: WebSocket, entry: JournalEntry) -> None:
        self.call = call
        self.socket = socket
        self.entry = entry
        offered = [p.strip() for p in call.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        self.offered = offered
        self.names = Names(call.headers.get("openai-beta", "").startswith("realtime=v1") or BETA_SUBPROTOCOL in offered)
        self.judge = ResponseJudge(call.contract, call.state.registry)
        self.strict = call.state.settings.strict
        self.session = self._initial_session(call.query["model"])
        self.items: list[dict[str, Any]] = []
        self.audio = bytearray()
        self.responding: asyncio.Task[None] | None = None
        self.sent = 0

    def _initial_session(self, model: str) -> dict[str, Any]:
        common = {
            "id": _id("sess"),
            "object": "realtime.session",
            "model": model,
            "expires_at": int(self.call.state.clock.now()) + SESSION_SECONDS,
            "instructions": "You are a helpful assistant.",
            "tools": [],
            "tool_choice": "auto",
        }
        if not self.names.beta:  # GA: RealtimeSessionCreateResponseGA of OpenAI's OpenAPI document
            pcm = {"type": "audio/pcm", "rate": 24_000}
            audio = {
                "input": {"format": pcm, "transcription": None, "noise_reduction": None, "turn_detection": {**TURN_DETECTION, "idle_timeout_ms": None}},
                "output": {"format": pcm, "voice": "alloy", "speed": 1.0},
            }
            return {"type": "realtime", **common, "output_modalities": ["audio"], "audio": audio, "max_output_tokens": "inf", "tracing": None, "prompt": None}
        return {
            **common,
            "modalities": ["text", "audio"],
            "voice": "alloy",
            "input_audio_format": "pcm16",
            "output_audio_format": "pcm16",
            "input_audio_transcription": None,
            "turn_detection": TURN_DETECTION,
            "temperature": 0.8,
            "max_response_output_tokens": "inf",
        }

    async def send(self, event_type: str, **fields: Any) -> None:
        event = {"type": event_type, "event_id": _id("event"), **fields}
        if self.strict:
            self.entry.violations += self.judge.frame_violations(101, event, self.sent)
        self.sent += 1
        self.entry.response = f"{self.sent} server events"
        await self.socket.send_text(json.dumps(event, ensure_ascii=False))

    async def error(self, message: str, *, code: str, param: str | None = None, client_event: str | None = None) -> None:
        await self.send("error", error={"type": "invalid_request_error", "code": code, "message": message, "param": param, "event_id": client_event})

    async def run(self) -> None:
        await self.socket.accept(subprotocol="realtime" if self.offered else None)
        await self.send("session.created", session=self.session)
        if self.names.beta:
            await self.send("conversation.created", conversation={"id": _id("conv"), "object": "realtime.conversation"})
        try:
            while True:
                message = await self.socket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("text") is None:
                    await self.error("Binary frames are not supported; send JSON text frames.", code="invalid_frame")
                    continue
                await self.dispatch(message["text"])
        except WebSocketDisconnect:
            pass
        finally:
            if self.responding is not None:
                self.responding.cancel()

    async def dispatch(self, raw: str) -> None:
        try:
            event = json.loads(raw)
        except ValueError as exc:
            await self.error(f"The event is not valid JSON: {exc}", code="invalid_json")
            return
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            await self.error("An event is a JSON object with a string 'type'.", code="invalid_event", param="type")
            return
        client_event = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        violations = self.judge.frame_violations(101, event, 0, side="client_event")
        if violations:
            detail = violations[0].removeprefix("frame 0 ")
            await self.error(f"Invalid '{event['type']}' event: {detail}", code="invalid_value" if "enum" in detail or "const" in detail else "invalid_event", client_event=client_event)
            return
        handler = getattr(self, "on_" + event["type"].replace(".", "_"), None)
        if handler is None:
            await self.error(f"Event type '{event['type']}' is not supported by this session.", code="unknown_event", param="type", client_event=client_event)
            return
        await handler(event, client_event)

    async def on_session_update(self, event: dict[str, Any], client_event: str | None) -> None:
        update = event["session"]
        self.session.update({k: v for k, v in update.items() if k in self.session and k not in ("id", "object", "expires_at")})
        await self.send("session.updated", session=self.session)

    async def on_input_audio_buffer_append(self, event: dict[str, Any], client_event: str | None) -> None:
        try:
            audio = base64.b64decode(event["audio"], validate=True)
        except (binascii.Error, ValueError):
            await self.error("Invalid 'audio': not base64.", code="invalid_value", param="audio", client_event=client_event)
            return
        limit = self.call.state.settings.realtime_audio_bytes
        if len(self.audio) + len(audio) > limit:  # bounded memory per session (gptnb-mock serve --realtime-audio-bytes)
            message = f"Invalid 'audio': the input audio buffer would exceed {limit} bytes; commit or clear it first."
            await self.error(message, code="input_audio_buffer_too_large", param="audio", client_event=client_event)
            return
        self.audio += audio

    async def on_input_audio_buffer_commit(self, event: dict[str, Any], client_event: str | None) -> None:
        if not self.audio:
            await self.error("Error committing input audio buffer: the buffer is empty.", code="input_audio_buffer_commit_empty", client_event=client_event)
            return
        self.audio = bytearray()
        # No transcription is configured: beta says transcript null, GA leaves it out (its document types it a string).
        heard = {"type": "input_audio", "transcript": None} if self.names.beta else {"type": "input_audio"}
        item = {"id": _id("item"), "object": "realtime.item", "type": "message", "status": "completed", "role": "user", "content": [heard]}
        previous = self._append(item)
        await self.send("input_audio_buffer.committed", previous_item_id=previous, item_id=item["id"])
        await self._announce(item, previous)

    async def on_input_audio_buffer_clear(self, event: dict[str, Any], client_event: str | None) -> None:
        self.audio = bytearray()
        await self.send("input_audio_buffer.cleared")

    async def on_conversation_item_create(self, event: dict[str, Any], client_event: str | None) -> None:
        item = {"id": event["item"].get("id") or _id("item"), "object": "realtime.item", "status": "completed", **{k: v for k, v in event["item"].items() if k != "id"}}
        previous = self._append(item, after=event.get("previous_item_id"))
        await self._announce(item, previous)

    async def on_conversation_item_retrieve(self, event: dict[str, Any], client_event: str | None) -> None:
        item = self._find(event["item_id"])
        if item is None:
            await self.error(f"Item '{event['item_id']}' does not exist.", code="item_not_found", param="item_id", client_event=client_event)
            return
        await self.send("conversation.item.retrieved", item=item)

    async def on_conversation_item_delete(self, event: dict[str, Any], client_event: str | None) -> None:
        item = self._find(event["item_id"])
        if item is None:
            await self.error(f"Item '{event['item_id']}' does not exist.", code="item_not_found", param="item_id", client_event=client_event)
            return
        self.items.remove(item)
        await self.send("conversation.item.deleted", item_id=item["id"])

    async def on_conversation_item_truncate(self, event: dict[str, Any], client_event: str | None) -> None:
        if self._find(event["item_id"]) is None:
            await self.error(f"Item '{event['item_id']}' does not exist.", code="item_not_found", param="item_id", client_event=client_event)
            return
        await self.send("conversation.item.truncated", item_id=event["item_id"], content_index=event["content_index"], audio_end_ms=event["audio_end_ms"])

    async def on_response_create(self, event: dict[str, Any], client_event: str | None) -> None:
        if self.responding is not None and not self.responding.done():
            await self.error("Conversation already has an active response.", code="conversation_already_has_active_response", client_event=client_event)
            return
        overrides = event.get("response") or {}
        modalities = overrides.get("modalities") or overrides.get("output_modalities") or self.session.get("modalities") or self.session["output_modalities"]
        self.responding = asyncio.create_task(Responder(self, modalities).run())

    async def on_response_cancel(self, event: dict[str, Any], client_event: str | None) -> None:
        if self.responding is None or self.responding.done():
            await self.error("There is no active response to cancel.", code="response_cancel_not_active", client_event=client_event)
            return
        self.responding.cancel()

    def _append(self, item: dict[str, Any], after: str | None = None) -> str | None:
        """Add ``item`` (after ``after`` when given); the id of the item before it."""
        index = next((i + 1 for i, it in enumerate(self.items) if it["id"] == after), len(self.items))
        self.items.insert(index, item)
        return self.items[index - 1]["id"] if index else None

    async def _announce(self, item: dict[str, Any], previous: str | None) -> None:
        if self.names.beta:
            await self.send("conversation.item.created", previous_item_id=previous, item=item)
        else:
            await self.send("conversation.item.added", previous_item_id=previous, item=item)
            await self.send("conversation.item.done", previous_item_id=previous, item=item)

    def _find(self, item_id: str) -> dict[str, Any] | None:
        return next((item for item in self.items if item["id"] == item_id), None)


class Responder:
    """One response: the full event sequence, in order, with usage at the end."""

    def __init__(self, session: RealtimeSession, modalities: list[str]) -> None:
        self.session = session
        self.audio = "audio" in modalities
        self.response_id = _id("resp")
        self.item = {"id": _id("item"), "object": "realtime.item", "type": "message", "status": "in_progress", "role": "assistant", "content": []}
        question = next((texts.excerpt(p.get("text") or p.get("transcript") or "", 200) for it in reversed(session.items) if it.get("role") == "user" for p in it.get("content", [])), "")
        self.text = texts.reply_text(question or "(audio input)", session.session["model"], session.call.seed)
        self.input_tokens = sum(texts.count_tokens(json.dumps(it.get("content", []))) for it in session.items) + texts.count_tokens(session.session["instructions"])

    def _response(self, status: str, output: list[dict[str, Any]], usage: dict[str, Any] | None) -> dict[str, Any]:
        details = {"type": "cancelled", "reason": "client_cancelled"} if status == "cancelled" else None
        return {"id": self.response_id, "object": "realtime.response", "status": status, "status_details": details, "output": output, "usage": usage}

    async def run(self) -> None:
        session, names = self.session, self.session.names
        sent_tokens: list[str] = []
        audio_bytes = 0
        await session.send("response.created", response=self._response("in_progress", [], None))
        await session.send("rate_limits.updated", rate_limits=[{"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012}, {"name": "tokens", "limit": 400000, "remaining": 399000, "reset_seconds": 0.15}])
        ids = {"response_id": self.response_id, "item_id": self.item["id"], "output_index": 0, "content_index": 0}
        try:
            await session.send("response.output_item.added", response_id=self.response_id, output_index=0, item=self.item)
            previous = session._append(self.item)
            await session._announce(self.item, previous)
            # Content-part events name parts "text" / "audio" in both protocols; GA items say output_text / output_audio.
            await session.send("response.content_part.added", **ids, part={"type": "audio", "transcript": ""} if self.audio else {"type": "text", "text": ""})
            tokens = texts.tokenize(self.text)
            pcm = media.pcm(max(0.5, len(tokens) / 4), seed=session.call.seed) if self.audio else b""
            step = int(24_000 * 2 * AUDIO_CHUNK_SECONDS)
            for position, token in enumerate(tokens):
                await session.send((names.transcript if self.audio else names.text) + ".delta", **ids, delta=token)
                sent_tokens.append(token)
                if self.audio and position * step < len(pcm):
                    chunk = pcm[position * step : (position + 1) * step]
                    audio_bytes += len(chunk)
                    await session.send(names.audio + ".delta", **ids, delta=base64.b64encode(chunk).decode())
                await asyncio.sleep(0)  # lets a response.cancel in between tokens (pacing is the socket's physics)
            await self._finish(ids, "completed", sent_tokens, audio_bytes)
        except asyncio.CancelledError:
            await self._finish(ids, "cancelled", sent_tokens, audio_bytes)

    async def _finish(self, ids: dict[str, Any], status: str, tokens: list[str], audio_bytes: int) -> None:
        session, names = self.session, self.session.names
        said = "".join(tokens)
        if self.audio:
            await session.send(names.audio + ".done", **ids)
            await session.send(names.transcript + ".done", **ids, transcript=said)
            part, content = {"type": "audio", "transcript": said}, {"type": names.audio_part, "transcript": said}
        else:
            await session.send(names.text + ".done", **ids, text=said)
            part, content = {"type": "text", "text": said}, {"type": names.text_part, "text": said}
        await session.send("response.content_part.done", **ids, part=part)
        self.item.update(status="completed" if status == "completed" else "incomplete", content=[content])
        await session.send("response.output_item.done", response_id=self.response_id, output_index=0, item=self.item)
        audio_tokens = audio_bytes // 4800  # about one token per 100 ms of 24 kHz PCM16
        usage = {
            "total_tokens": self.input_tokens + len(tokens) + audio_tokens,
            "input_tokens": self.input_tokens,
            "output_tokens": len(tokens) + audio_tokens,
            "input_token_details": {"cached_tokens": 0, "text_tokens": self.input_tokens, "audio_tokens": 0},
            "output_token_details": {"text_tokens": len(tokens), "audio_tokens": audio_tokens},
        }
        await session.send("response.done", response=self._response(status, [self.item], usage))


@handles("openai.realtime.session")
async def realtime_session(call: Call, socket: WebSocket, entry: JournalEntry) -> None:
    await RealtimeSession(call, socket, entry).run()
