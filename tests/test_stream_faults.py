"""Stream faults by event index, driven through the official openai SDK and raw httpx, in-process and
on a real socket, from every steering surface (scenario header, admin rule, fixture route)."""

from __future__ import annotations

import json
import time

import httpx
import httpx2
import openai
import pytest

from mockserver.sse import parse

BASE = "https://goapi.gptnb.ai"
AUTH = {"Authorization": "Bearer sk-test"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Tell me about lighthouses"}], "stream": True}
USAGE = {**CHAT, "stream_options": {"include_usage": True}}


def raw_stream(base: str, body: dict, scenario: str | None = None, path: str = "/v1/chat/completions") -> tuple[int, str]:
    headers = {**AUTH, **({"X-Mock-Scenario": scenario} if scenario else {})}
    with httpx.Client(base_url=base, timeout=10) as client, client.stream("POST", path, json=body, headers=headers) as response:
        return response.status_code, response.read().decode()


def datas(text: str) -> list[str]:
    return [event.data for event in parse(text)]


def sdk(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base + "/v1", api_key="sk-test", max_retries=0)


def test_a_clean_stream_is_the_baseline(gptnb) -> None:
    status, text = raw_stream(BASE, USAGE)
    events = datas(text)
    assert status == 200 and events[-1] == "[DONE]" and events.count("[DONE]") == 1
    assert json.loads(events[-2])["usage"]["total_tokens"] > 0


@pytest.mark.parametrize("where", ["in-process", "socket"])
def test_drop_after_cuts_the_connection_after_n_events_without_done(where, gptnb, gptnb_server) -> None:
    base = BASE if where == "in-process" else gptnb_server.url
    seen = []
    # Newer SDKs wrap an error met while reading a stream in APIConnectionError, older ones let it through.
    with pytest.raises((openai.APIConnectionError, httpx2.RemoteProtocolError)) as failure:
        for chunk in sdk(base).chat.completions.create(**{k: v for k, v in CHAT.items() if k != "stream"}, stream=True, extra_headers={"X-Mock-Scenario": "drop_after=3"}):
            seen.append(chunk)
    assert len(seen) == 3
    cause = failure.value.__cause__ if isinstance(failure.value, openai.APIConnectionError) else failure.value
    assert type(cause) is httpx2.RemoteProtocolError and "incomplete chunked read" in str(cause)
    mock = gptnb if where == "in-process" else gptnb_server
    assert mock.calls.last.fault == "drop_after=3"


def test_malformed_at_breaks_the_json_of_that_event_only(gptnb) -> None:
    status, text = raw_stream(BASE, CHAT, "malformed_at=2")
    events = datas(text)
    assert status == 200 and events[-1] == "[DONE]"
    bad = [i for i, data in enumerate(events[:-1]) if not _is_json(data)]
    assert bad == [2]
    with pytest.raises(json.JSONDecodeError):  # what the SDK's own decoder meets
        list(sdk(BASE).chat.completions.create(**{k: v for k, v in CHAT.items() if k != "stream"}, stream=True, extra_headers={"X-Mock-Scenario": "malformed_at=2"}))


def test_no_done_and_duplicate_done_change_only_the_terminator(gptnb) -> None:
    clean = datas(raw_stream(BASE, CHAT)[1])
    without = datas(raw_stream(BASE, CHAT, "no_done")[1])
    twice = datas(raw_stream(BASE, CHAT, "duplicate_done")[1])
    assert "[DONE]" not in without and len(without) == len(clean) - 1
    assert twice[-2:] == ["[DONE]", "[DONE]"] and len(twice) == len(clean) + 1
    # The SDK stops at the first [DONE] and simply ends without one: both reach the caller's loop.
    assert len(list(sdk(BASE).chat.completions.create(**{k: v for k, v in CHAT.items() if k != "stream"}, stream=True, extra_headers={"X-Mock-Scenario": "no_done"}))) == len(clean) - 1


def test_missing_usage_nulls_the_usage_chunk(gptnb) -> None:
    chunks = list(sdk(BASE).chat.completions.create(**{k: v for k, v in USAGE.items() if k != "stream"}, stream=True, extra_headers={"X-Mock-Scenario": "missing_usage"}))
    assert chunks[-1].choices == [] and chunks[-1].usage is None
    assert all(chunk.usage is None for chunk in chunks)


def test_id_change_at_switches_the_id_from_that_event_on(gptnb) -> None:
    chunks = list(sdk(BASE).chat.completions.create(**{k: v for k, v in CHAT.items() if k != "stream"}, stream=True, extra_headers={"X-Mock-Scenario": "id_change_at=2"}))
    ids = [chunk.id for chunk in chunks]
    assert ids[0] == ids[1] != ids[2] and len(set(ids[2:])) == 1
    assert ids[2].startswith("chatcmpl-") and len(ids[2]) == len(ids[0])


def test_stall_at_waits_before_that_event(gptnb) -> None:
    arrivals = []
    started = time.perf_counter()
    with httpx.Client(base_url=BASE, timeout=10) as client, client.stream("POST", "/v1/chat/completions", json=CHAT, headers={**AUTH, "X-Mock-Scenario": "stall_at=2:300"}) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                arrivals.append(time.perf_counter() - started)
    assert arrivals[2] >= 0.3  # the wait is before event 2 (events 0 and 1 come at once)


def test_a_client_read_timeout_meets_a_stall_as_on_a_socket(gptnb, gptnb_server) -> None:
    seen = {}
    for where, base in (("in-process", BASE), ("socket", gptnb_server.url)):
        with httpx.Client(base_url=base, timeout=httpx.Timeout(5, read=0.2)) as client:
            with pytest.raises(httpx.ReadTimeout):
                with client.stream("POST", "/v1/chat/completions", json=CHAT, headers={**AUTH, "X-Mock-Scenario": "stall_at=1:1500"}) as response:
                    seen[where] = sum(1 for line in response.iter_lines() if line.startswith("data: "))
    assert seen == {}  # both raised while reading, before the loop ended


def test_responses_streams_have_their_last_event_as_terminator(gptnb) -> None:
    body = {"model": "gpt-4o-mini", "input": "Say hello", "stream": True}
    clean = parse(raw_stream(BASE, body, path="/v1/responses")[1])
    assert clean[-1].event == "response.completed"
    cut = parse(raw_stream(BASE, body, "no_done", path="/v1/responses")[1])
    assert [e.event for e in cut] == [e.event for e in clean[:-1]]
    doubled = parse(raw_stream(BASE, body, "duplicate_done", path="/v1/responses")[1])
    assert [e.event for e in doubled[-2:]] == ["response.completed", "response.completed"]
    nulled = parse(raw_stream(BASE, body, "missing_usage", path="/v1/responses")[1])
    assert nulled[-1].json()["response"]["usage"] is None
    changed = parse(raw_stream(BASE, body, "id_change_at=1", path="/v1/responses")[1])
    assert changed[0].json()["response"]["id"] != changed[-1].json()["response"]["id"]
    stream = sdk(BASE).responses.create(model="gpt-4o-mini", input="Say hello", stream=True, extra_headers={"X-Mock-Scenario": "malformed_at=1"})
    with pytest.raises(json.JSONDecodeError):
        list(stream)


def test_legacy_completions_streams_take_the_same_faults(gptnb) -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": "Once upon a time", "stream": True}
    events = datas(raw_stream(BASE, body, "no_done; malformed_at=0", path="/v1/completions")[1])
    assert "[DONE]" not in events and not _is_json(events[0]) and all(_is_json(e) for e in events[1:])


def test_admin_rules_carry_faults_for_a_number_of_calls(gptnb) -> None:
    with httpx.Client(base_url=BASE) as admin:
        created = admin.post("/__mock/rules", json={"contract": "openai.chat.completions", "drop_after": 2, "times": 1})
    assert created.status_code == 201 and created.json()["drop_after"] == 2
    with pytest.raises(httpx.RemoteProtocolError):
        raw_stream(BASE, CHAT)
    assert raw_stream(BASE, CHAT)[0] == 200  # the rule is used up


def test_fixture_routes_carry_faults(gptnb) -> None:
    gptnb.route("openai.chat.completions").no_done(times=1)
    gptnb.route("openai.chat.completions").stall_at(1, 50, times=1)
    first = datas(raw_stream(BASE, CHAT)[1])  # newest rule first: the stall
    second = datas(raw_stream(BASE, CHAT)[1])
    assert first[-1] == "[DONE]" and "[DONE]" not in second
    assert [call.fault for call in gptnb.calls] == ["stall_at=1:50", "no_done"]
    gptnb.route("openai.chat.completions").fault("duplicate_done; missing_usage", times=1)
    assert datas(raw_stream(BASE, USAGE)[1])[-2:] == ["[DONE]", "[DONE]"]


@pytest.mark.parametrize(
    ("scenario", "key", "says"),
    [
        ("drop_after", "drop_after", "needs a whole number"),
        ("drop_after=-1", "drop_after", "between 0 and"),
        ("malformed_at=500", "malformed_at", "this stream has"),
        ("stall_at=2", "stall_at", "expected N:MS"),
        ("stall_at=2:900000", "stall_at", "milliseconds between 0 and 60000"),
        ("tps=0", "tps", "above 0"),
        ("no_done=yes", "no_done", "takes no value"),
        ("drop_faster=3", "drop_faster", "unknown scenario keys"),
        ("close_after=2:4000", "close_after", "WebSocket sessions only"),
        ("chaos=1.5", "chaos", "probability between 0 and 1"),
        ("truncate=999999", "truncate", "nothing would be cut"),
        ("missing_usage", "missing_usage", "stream_options.include_usage"),
    ],
)
def test_bad_steering_is_a_400_naming_the_key(gptnb, scenario, key, says) -> None:
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        response = client.post("/v1/chat/completions", json=CHAT, headers={"X-Mock-Scenario": scenario})
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert key in message and says in message


def test_stream_faults_on_an_answer_that_does_not_stream_are_refused(gptnb) -> None:
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        chat = client.post("/v1/chat/completions", json={**CHAT, "stream": False}, headers={"X-Mock-Scenario": "no_done"})
        embeddings = client.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "hi"}, headers={"X-Mock-Scenario": "malformed_at=0"})
    assert chat.status_code == 400 and "no_done" in chat.json()["error"]["message"] and '"stream": true' in chat.json()["error"]["message"]
    assert embeddings.status_code == 400 and "openai.embeddings.create never streams" in embeddings.json()["error"]["message"]


def test_bad_rules_are_refused_by_the_admin_api_and_the_fixture(gptnb) -> None:
    with httpx.Client(base_url=BASE) as admin:
        response = admin.post("/__mock/rules", json={"contract": "openai.*", "stall_at": "x:1"})
    assert response.status_code == 400 and "stall_at=x:1" in response.json()["error"]["message"]
    with pytest.raises(ValueError, match="drop_after=-2"):
        gptnb.route("openai.chat.completions").drop_after(-2)
    with pytest.raises(ValueError, match="reset and empty"):
        gptnb.route("openai.chat.completions").fault("reset; empty")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_claude_streams_take_the_faults_at_their_closing_event(gptnb) -> None:
    import anthropic

    body = {"model": "claude-3-5-sonnet-20241022", "max_tokens": 256, "messages": [{"role": "user", "content": "Hello"}], "stream": True}
    clean = parse(raw_stream(BASE, body, path="/v1/messages")[1])
    assert clean[-1].event == "message_stop"
    assert [e.event for e in parse(raw_stream(BASE, body, "no_done", path="/v1/messages")[1])] == [e.event for e in clean[:-1]]
    doubled = parse(raw_stream(BASE, body, "duplicate_done", path="/v1/messages")[1])
    assert [e.event for e in doubled[-2:]] == ["message_stop", "message_stop"]
    nulled = parse(raw_stream(BASE, body, "missing_usage", path="/v1/messages")[1])
    assert nulled[0].json()["message"]["usage"] is None and next(e for e in nulled if e.event == "message_delta").json()["usage"] is None
    status, refused = raw_stream(BASE, body, "id_change_at=1", path="/v1/messages")  # only message_start names the id
    assert status == 400 and "id_change_at=1" in refused and "no event from there on carries an id" in refused
    sdk = anthropic.Anthropic(base_url=BASE, api_key="sk-test", max_retries=0)
    with pytest.raises(anthropic.APIConnectionError):
        with sdk.messages.stream(model=body["model"], max_tokens=256, messages=body["messages"], extra_headers={"X-Mock-Scenario": "drop_after=3"}) as stream:
            list(stream)


def test_gemini_streams_take_the_faults(gptnb) -> None:
    path = "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
    body = {"contents": [{"role": "user", "parts": [{"text": "Hello there"}]}]}
    clean = parse(raw_stream(BASE, body, path=path)[1])
    assert "usageMetadata" in clean[-1].json()
    cut = parse(raw_stream(BASE, body, "no_done", path=path)[1])
    assert len(cut) == len(clean) - 1
    stripped = parse(raw_stream(BASE, body, "missing_usage", path=path)[1])
    assert all("usageMetadata" not in event.json() for event in stripped)
    with pytest.raises(httpx.RemoteProtocolError):
        raw_stream(BASE, body, "drop_after=1", path=path)


@pytest.mark.parametrize("where", ["in-process", "socket"])
def test_the_journal_keeps_a_faulted_stream_as_the_client_got_it(where, gptnb, gptnb_server) -> None:
    mock = gptnb if where == "in-process" else gptnb_server
    base = BASE if where == "in-process" else gptnb_server.url
    _, text = raw_stream(base, CHAT, "malformed_at=1; duplicate_done")
    sent = datas(text)
    kept = mock.calls.last.events
    assert [e["data"] if isinstance(e["data"], str) else json.dumps(e["data"]) for e in kept][-2:] == ["[DONE]", "[DONE]"]
    assert isinstance(kept[1]["data"], str) and kept[1]["data"].startswith("data: ") and sent[1] in kept[1]["data"]
    assert len(kept) == len(sent) and [e["at_ms"] for e in kept] == sorted(e["at_ms"] for e in kept)
