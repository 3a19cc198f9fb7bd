"""The validating proxy against a local stand-in upstream (the mock with planted differences), over real
sockets: streams pass unbuffered, verdicts are right, uploads, downloads and WebSocket frames pass both
ways, the guard refuses what costs money or exceeds the budget, and the operator's key stays in memory."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import httpx
import pytest
import websockets

from mockserver.contracts import default_registry
from mockserver.guard import served_hosts
from mockserver.media import wav
from mockserver.responses import ResponseJudge

from proxy_helpers import CHAT, SPEECH, STREAM, proxy_to

AUTH = {"Authorization": "Bearer sk-client-key-0001"}


@pytest.fixture
def upstream(standin):
    standin.hold_after_first_event = False
    standin.release.clear()
    standin.seen.clear()
    return standin


def journal(proxy_url: str) -> list[dict]:
    return httpx.get(proxy_url + "/__proxy/journal").json()["calls"]


def test_a_stream_reaches_the_client_before_the_upstream_has_finished(upstream) -> None:
    upstream.hold_after_first_event = True  # the upstream sends one event, then waits for the test
    finished_before = upstream.finished_streams
    with proxy_to(upstream.url) as (_, url), httpx.Client(timeout=httpx.Timeout(10.0)) as client:
        with client.stream("POST", url + "/v1/chat/completions", json=STREAM, headers=AUTH) as answer:
            lines = answer.iter_lines()
            first = next(line for line in lines if line.startswith("data:"))
            # A buffering proxy would still be waiting here (and time out): the upstream has not finished.
            assert upstream.finished_streams == finished_before
            assert json.loads(first.removeprefix("data: "))["choices"][0]["delta"]["content"] == "part 0 "
            upstream.release.set()
            rest = [line for line in lines if line.startswith("data:")]
        assert rest[-1] == "data: [DONE]" and len(rest) == 3
        assert upstream.finished_streams == finished_before + 1
        assert answer.headers["x-gptnb-verdict"].startswith("pending; contract=openai.chat.completions")
        (entry,) = journal(url)
    # The stream's events were judged as they passed: event 1 carries the planted string `created`.
    (violation,) = entry["violations"]
    assert violation.startswith("event 1 ") and '"created":"1732531500"' in violation


def test_verdicts_say_what_broke_in_the_header_and_the_journal(upstream) -> None:
    with proxy_to(upstream.url) as (_, url), httpx.Client(base_url=url, headers=AUTH) as client:
        good = client.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "hello"})
        planted = client.post("/v1/chat/completions", json=CHAT)
        bad_request = client.post("/v1/chat/completions", json={"model": "gpt-4o-mini"})
        entries = journal(url)
    assert good.status_code == 200 and good.headers["x-gptnb-verdict"] == "conforms; contract=openai.embeddings.create; violations=0; entry=1"
    assert "x-gptnb-violation" not in good.headers
    assert planted.headers["x-gptnb-verdict"] == "violates; contract=openai.chat.completions; violations=3; entry=2"
    assert planted.headers["x-gptnb-violation"].startswith("body choices/0/finish_reason")
    assert sorted(entries[1]["violations"]) == sorted(
        [
            'body choices/0/finish_reason: "eos" is not one of "stop", "length" or 3 other candidates [enum]',
            'body usage/total_tokens: "2" is not of type "integer" [type]',
            'body created: "created" is a required property [required]',
        ]
    )
    # The request itself broke its contract (no messages); the upstream answered anyway.
    assert bad_request.status_code == 200
    assert entries[2]["violations"][0] == 'request body messages: "messages" is a required property [required]'
    # The answer itself came back exactly as the upstream sent it.
    assert planted.json()["provider"] == "standin"


def test_an_answer_too_big_to_hold_passes_through_and_is_judged_after(upstream) -> None:
    with proxy_to(upstream.url, max_buffer_bytes=64) as (_, url):
        answer = httpx.post(url + "/v1/chat/completions", json=CHAT, headers=AUTH)
        (entry,) = journal(url)
    assert answer.json()["provider"] == "standin"
    assert answer.headers["x-gptnb-verdict"].startswith("pending; contract=openai.chat.completions")
    assert len(entry["violations"]) == 3  # judged once whole, as a held answer would have been


def test_the_same_verdict_as_the_checks_give(upstream) -> None:
    with proxy_to(upstream.url) as (_, url), httpx.Client(base_url=url, headers=AUTH) as client:
        answer = client.post("/v1/chat/completions", json=CHAT)
        (entry,) = journal(url)
    judge = ResponseJudge(default_registry()["openai.chat.completions"], default_registry())
    assert entry["violations"] == judge.body_violations(200, "application/json", answer.json())


def test_claude_and_gemini_streams_are_judged_event_by_event(upstream) -> None:
    claude_stream = {"model": "claude-3-5-haiku-20241022", "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    with proxy_to(upstream.url) as (_, url), httpx.Client(base_url=url) as client:
        claude = client.post("/v1/messages", json=claude_stream, headers={"x-api-key": "sk-ant-client", "anthropic-version": "2023-06-01"})
        gemini = client.post("/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", json={"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}, headers={"x-goog-api-key": "g-key"})
        misnamed = client.post("/v1/messages", json={**claude_stream, "metadata": {"user_id": "misnamed"}}, headers={"x-api-key": "sk-ant-client", "anthropic-version": "2023-06-01"})
        entries = journal(url)
    assert claude.text.startswith("event: message_start\n") and "event: content_block_delta" in claude.text
    assert gemini.headers["content-type"].startswith("text/event-stream") and gemini.text.startswith("data: {")
    assert [(e["contract"], e["violations"]) for e in entries[:2]] == [("claude.messages.create", []), ("gemini.models.stream_generate_content", [])]
    assert entries[2]["violations"] == ["event 0: event name 'ping', its payload's type is 'message_start'"]
    assert misnamed.headers["x-gptnb-verdict"].startswith("pending; contract=claude.messages.create")


def test_uploads_reach_the_upstream_byte_for_byte_and_are_judged(upstream) -> None:
    audio = wav(1.0, seed=3)
    with proxy_to(upstream.url, record=None) as (_, url), httpx.Client(base_url=url, headers=AUTH) as client:
        answer = client.post("/v1/audio/transcriptions", data={"model": "whisper-1", "response_format": "json"}, files={"file": ("hello.wav", audio, "audio/wav")})
        (entry,) = journal(url)
    assert answer.status_code == 200 and answer.headers["x-gptnb-verdict"].startswith("conforms; contract=openai.audio.transcriptions")
    upstream_call = next(c for c in upstream.journal() if c.path == "/v1/audio/transcriptions")
    assert upstream_call.body["file"][0]["size"] == len(audio)
    assert entry["body"]["file"][0]["size"] == len(audio) and entry["body"]["model"] == "whisper-1"


def test_binary_downloads_come_back_unchanged(upstream) -> None:
    direct = httpx.post(upstream.url + "/v1/audio/speech", json=SPEECH, headers=AUTH)
    with proxy_to(upstream.url) as (_, url):
        proxied = httpx.post(url + "/v1/audio/speech", json=SPEECH, headers=AUTH)
    assert proxied.content == direct.content and len(proxied.content) > 1000
    assert proxied.headers["content-type"] == direct.headers["content-type"] == "audio/mpeg"
    assert proxied.headers["content-length"] == str(len(direct.content))
    assert proxied.headers["x-gptnb-verdict"].startswith("conforms; contract=openai.audio.speech")


def test_realtime_frames_pass_both_ways_and_each_is_judged(upstream) -> None:
    async def session(url: str) -> list[dict]:
        seen = []
        subprotocols = ["realtime", "openai-insecure-api-key.sk-browser-key-0002"]
        async with websockets.connect(url + "/v1/realtime?model=gpt-4o-realtime-preview", subprotocols=subprotocols) as ws:
            assert ws.subprotocol == "realtime"
            await ws.send(json.dumps({"type": "session.update"}))  # no session: breaks the client event schema
            await ws.send(json.dumps({"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}}))
            await ws.send(json.dumps({"type": "response.create", "response": {"modalities": ["text"]}}))
            async for raw in ws:
                seen.append(json.loads(raw))
                if seen[-1]["type"] == "response.done":
                    return seen
        return seen

    with proxy_to(upstream.url) as (_, url):
        frames = asyncio.run(session(url.replace("http://", "ws://")))
        (entry,) = journal(url)
    kinds = [f["type"] for f in frames]
    assert kinds[0] == "session.created" and "error" in kinds and kinds[-1] == "response.done"
    assert "".join(f["delta"] for f in frames if f["type"].endswith("text.delta")).startswith("You said")
    assert entry["status"] == 101 and entry["contract"] == "openai.realtime.session"
    assert entry["response"] == f"3 client frames, {len(frames)} server frames"
    assert [v for v in entry["violations"]] == ["client frame 0 session: \"session\" is a required property [required]"]
    # The key offered as a subprotocol reached the upstream, and the upstream accepted the session.
    offered = next(h for m, p, h in upstream.seen if p == "/v1/realtime")["sec-websocket-protocol"]
    assert "openai-insecure-api-key.sk-browser-key-0002" in offered


def test_a_refused_websocket_handshake_is_passed_back(upstream) -> None:
    async def status(url: str) -> int:
        try:
            async with websockets.connect(url + "/v1/realtime?model=gpt-4o-realtime-preview"):
                return 101
        except websockets.InvalidStatus as exc:
            return exc.response.status_code

    with proxy_to(upstream.url) as (_, url):
        assert asyncio.run(status(url.replace("http://", "ws://"))) == 401  # no key: the upstream's own refusal
        (entry,) = journal(url)
    assert entry["status"] == 401 and "未提供令牌" in entry["response"]


def test_paid_routes_and_requests_past_the_budget_are_refused(upstream) -> None:
    with proxy_to(upstream.url, allow_paid=False, max_requests=2) as (_, url), httpx.Client(base_url=url, headers=AUTH) as client:
        paid = client.post("/v1/chat/completions", json=CHAT)
        free = [client.get("/v1/models"), client.get("/v1/models/gpt-4o-mini"), client.get("/v1/models")]
        unknown_write = client.post("/v1/made-up", json={})
    assert paid.status_code == 403 and paid.headers["x-gptnb-proxy"] == "refused"
    assert "openai.chat.completions is a paid route upstream" in paid.json()["error"]["message"]
    assert [a.status_code for a in free] == [200, 200, 403]
    assert "request budget of 2 is used up" in free[2].json()["error"]["message"]
    assert unknown_write.status_code == 403 and "may cost money" in unknown_write.json()["error"]["message"]
    assert [path for _, path, _ in upstream.seen] == ["/v1/models", "/v1/models/gpt-4o-mini"]


def test_a_refusal_is_in_the_familys_own_error_shape(upstream) -> None:
    with proxy_to(upstream.url, allow_paid=False) as (_, url):
        answer = httpx.post(url + "/mj/submit/imagine", json={"prompt": "a cat"}, headers={"mj-api-secret": "sk-x"})
    judge = ResponseJudge(default_registry()["midjourney.submit.imagine"], default_registry())
    assert answer.status_code == 403 and judge.body_violations(403, "application/json", answer.json()) == []


def test_the_operators_key_replaces_the_clients_and_never_reaches_the_log(upstream, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with proxy_to(upstream.url, api_key="sk-operator-secret-0003") as (_, url):
        answer = httpx.get(url + "/v1/models", headers={"Authorization": "Bearer sk-placeholder"})
        entries = journal(url)
    assert answer.status_code == 200
    (_, _, headers) = upstream.seen[-1]
    assert headers["authorization"] == "Bearer sk-operator-secret-0003"
    assert "sk-operator-secret-0003" not in caplog.text + json.dumps(entries)
    assert "GET /v1/models -> 200 openai.models.list conforms" in caplog.text


def test_query_keys_are_kept_out_of_the_journal(upstream) -> None:
    with proxy_to(upstream.url) as (_, url):
        httpx.get(url + "/v1/models?key=sk-query-secret-0004&limit=3", headers=AUTH)
        (entry,) = journal(url)
    assert entry["query"] == {"key": "<redacted>", "limit": "3"}


def test_an_unreachable_upstream_is_a_502_in_the_familys_shape() -> None:
    with proxy_to("http://127.0.0.1:9") as (_, url):
        answer = httpx.post(url + "/v1/chat/completions", json=CHAT, headers=AUTH)
        (entry,) = journal(url)
    assert answer.status_code == 502 and "did not answer" in answer.json()["error"]["message"]
    assert entry["status"] == 502


def test_a_client_that_leaves_mid_stream_stops_the_relay(upstream) -> None:
    upstream.hold_after_first_event = True
    with proxy_to(upstream.url) as (_, url):
        with httpx.stream("POST", url + "/v1/chat/completions", json=STREAM, headers=AUTH, timeout=10) as answer:
            next(line for line in answer.iter_lines() if line.startswith("data:"))
        upstream.release.set()
        done = threading.Event()
        for _ in range(100):
            entries = journal(url)
            if entries and "the client left early" in str(entries[0]["response"]):
                done.set()
                break
            threading.Event().wait(0.05)
    assert done.is_set(), entries


def test_a_proxy_holding_a_key_refuses_web_pages_and_other_host_names(upstream) -> None:
    """With the operator's key in every forwarded request, any web page the user opens could spend it:
    a cross-origin page directly, or a DNS-rebinding page under its own host name."""
    options = {"api_key": "sk-operator-secret-0005", "allowed_hosts": served_hosts("127.0.0.1"), "allowed_origins": frozenset({"http://localhost:3000"})}
    with proxy_to(upstream.url, **options) as (_, url), httpx.Client(base_url=url) as client:
        page = client.get("/v1/models", headers={"Origin": "https://evil.example"})
        allowed_page = client.get("/v1/models", headers={"Origin": "http://localhost:3000"})
        rebinding = client.get("/v1/models", headers={"Host": "evil.example:8010"})
        no_browser = client.get("/v1/models")
        admin_from_page = client.delete("/__proxy/journal", headers={"Origin": "https://evil.example"})

        async def socket_from_page() -> int:
            try:
                async with websockets.connect(url.replace("http://", "ws://") + "/v1/realtime?model=gpt-4o-realtime-preview", origin="https://evil.example"):
                    return 101
            except websockets.InvalidStatus as exc:
                return exc.response.status_code

        socket_status = asyncio.run(socket_from_page())
    assert page.status_code == 403 and "--allow-origin https://evil.example" in page.json()["error"]["message"]
    assert rebinding.status_code == 403 and "DNS-rebinding" in rebinding.json()["error"]["message"]
    assert admin_from_page.status_code == 403 and socket_status == 403
    assert allowed_page.status_code == no_browser.status_code == 200
    assert [path for _, path, _ in upstream.seen] == ["/v1/models", "/v1/models"]  # only the two let through
