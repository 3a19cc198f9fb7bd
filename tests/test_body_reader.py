"""The event-stream reader and the body judge as the proxy uses them: pieces of any size, cut anywhere
(inside a line, between \\r and \\n, inside a UTF-8 character), give the same events and the same verdict
as the whole stream read at once."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import sse
from mockserver.contracts import default_registry
from mockserver.responses import BodyReader, ResponseJudge

CHAT = ResponseJudge(default_registry()["openai.chat.completions"], default_registry())
CLAUDE = ResponseJudge(default_registry()["claude.messages.create"], default_registry())


def chunk(content: str, index: int = 0, **extra) -> dict:
    return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}], **extra}


STREAM = (
    ": keep-alive comment\r\n\r\n"
    + "".join(f"data: {json.dumps(chunk(text), ensure_ascii=False)}\r\n\r\n" for text in ("你好", "wörld", "🙂"))
    + f"data: {json.dumps({'broken': True})}\n\n"
    + "data: [DONE]\n\n"
).encode()


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({0, len(data), *(p % (len(data) + 1) for p in points)})
    return [data[a:b] for a, b in zip(edges, edges[1:])]


@settings(max_examples=200, deadline=None)
@given(points=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40))
def test_any_cut_gives_the_same_events_and_verdict(points: list[int]) -> None:
    reader = BodyReader(CHAT, 200, "text/event-stream")
    events = [e for piece in cut(STREAM, points) for e in reader.feed(piece)]
    assert [(e.data, e.event) for e in events] == [(e.data, e.event) for e in sse.parse(STREAM.decode())]
    assert reader.finish() == CHAT.stream_violations(200, STREAM.decode())
    assert len(reader.violations) == 1 and reader.violations[0].startswith("event 3 ")


def test_a_stream_cut_short_is_a_framing_violation() -> None:
    reader = BodyReader(CHAT, 200, "text/event-stream")
    reader.feed(STREAM[:-3])
    assert reader.finish()[-2:] == ["framing: the stream does not end with a newline: the last event is incomplete", "the stream does not end with data: [DONE]"]


def test_events_after_the_terminator_are_named() -> None:
    text = f"data: [DONE]\n\ndata: {json.dumps(chunk('late'))}\n\ndata: [DONE]\n\n"
    assert CHAT.stream_violations(200, text) == ["event 0: [DONE] before the end of the stream"]


def test_named_events_are_judged_by_their_names() -> None:
    start = {"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-20241022", "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 0}}}
    reader = BodyReader(CLAUDE, 200, "text/event-stream; charset=utf-8")
    reader.feed(f"event: message_start\ndata: {json.dumps(start)}\n\nevent: ping\ndata: {json.dumps({'type': 'message_stop'})}\n\n".encode())
    assert reader.finish() == ["event 1: event name 'ping', its payload's type is 'message_stop'"]


def test_json_binary_and_undeclared_bodies() -> None:
    reader = BodyReader(CHAT, 200, "application/json")
    for piece in (b'{"object": "chat.com', b'pletion"}'):
        assert reader.feed(piece) == []
    assert any("required" in v for v in reader.finish())
    broken = BodyReader(CHAT, 200, "application/json")
    broken.feed(b"{not json")
    assert broken.finish()[0].startswith("body is not JSON")
    undeclared = BodyReader(CHAT, 200, "image/png")
    assert not undeclared.needs_body and undeclared.finish() == ["status 200: content type image/png is not one of application/json, text/event-stream"]
