"""What the inspector reads from the admin API: journal filters and brief listings, one entry by its
number, a stream's events and a WebSocket session's frames with their timing, callback deliveries
tied to their task, a task in its family's words, contracts with their examples, and the page itself.

What lives in the store is read back from both stores (the in-memory one and a real redis-server),
and from a served mock whose workers share Redis, so the inspector shows the same either way."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from starlette.testclient import TestClient
from websockets.sync.client import connect

from callback_listener import CallbackListener
from processes import running_server
from mockserver import journal as journal_module
from mockserver.admin import task_summary
from mockserver.app import MockApp
from mockserver.cli import _url_host
from mockserver.config import Settings
from mockserver.examples import examples_of
from mockserver.state import MockState, limits_of
from mockserver.store import Limits, MemoryStore
from mockserver.store.memory import run_sync
from mockserver.store.redis import RedisStore
from mockserver.tasks import Rendering, Step, Task
from mockserver.ui import ASSETS

KEY = {"Authorization": "Bearer sk-inspector"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "灯塔 lighthouse"}]}


Client = Callable[..., TestClient]


@pytest.fixture(params=["memory", "redis"])
def client_for(request: pytest.FixtureRequest) -> Client:
    """A mock over the in-memory store, then over a real redis-server: ``client_for(settings)``."""
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None

    def make(settings: Settings | None = None) -> TestClient:
        settings = settings or Settings(strict=True, clock="manual")
        store = RedisStore(redis_url, limits_of(settings), settings.clock, settings.clock_speed) if redis_url else None
        return TestClient(MockApp(state=MockState(settings, store=store)), headers=KEY)

    return make


@pytest.fixture
def mock(client_for: Client) -> Iterator[TestClient]:
    with client_for() as client:
        yield client


@pytest.fixture
def site() -> Iterator[TestClient]:
    """For what no store keeps (the page, contracts, example files)."""
    with TestClient(MockApp(state=MockState(Settings(strict=True))), headers=KEY) as client:
        yield client


def calls(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/__mock/journal", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["calls"]


def test_journal_filters_by_family_status_kind_verdict_and_text(mock: TestClient) -> None:
    assert mock.post("/v1/chat/completions", json=CHAT).status_code == 200
    assert mock.post("/v1/chat/completions", json={**CHAT, "model": "no-such-model"}).status_code == 503
    assert mock.post("/mj/submit/imagine", json={"prompt": "a quiet harbour"}).status_code == 200
    mock.post("/__mock/rules", json={"contract": "openai.models.list", "body": {"object": "list", "data": "none"}, "times": 1})
    assert mock.get("/v1/models").status_code == 200

    assert [c["contract"] for c in calls(mock, family="midjourney")] == ["midjourney.submit.imagine"]
    assert [c["status"] for c in calls(mock, status="5xx")] == [503]
    assert [c["status"] for c in calls(mock, status="200", family="openai")] == [200, 200]
    broken = calls(mock, broken="true")
    assert [c["contract"] for c in broken] == ["openai.models.list"] and broken[0]["violations"]
    assert [c["path"] for c in calls(mock, q="LIGHTHOUSE")] == ["/v1/chat/completions", "/v1/chat/completions"]
    assert [c["path"] for c in calls(mock, q="灯塔", status="2xx")] == ["/v1/chat/completions"]
    assert [c["path"] for c in calls(mock, q="quiet harbour")] == ["/mj/submit/imagine"]
    assert calls(mock, kind="callback") == []
    assert len(calls(mock)) == 4


@pytest.mark.parametrize("params", [{"status": "abc"}, {"status": "4x"}, {"status": "6xx"}, {"broken": "maybe"}])
def test_journal_refuses_filters_it_cannot_read(site: TestClient, params: dict[str, str]) -> None:
    answer = site.get("/__mock/journal", params=params)
    assert answer.status_code == 400 and answer.json()["error"]["type"] == "mock_admin_error"


def test_brief_listing_leaves_out_bodies_and_one_entry_has_them_all(mock: TestClient) -> None:
    mock.post("/v1/chat/completions", json=CHAT)
    [brief] = calls(mock, brief="1")
    assert {"body", "response", "query"}.isdisjoint(brief)
    assert brief["contract"] == "openai.chat.completions" and brief["violation_count"] == 0 and brief["outcome"] is None
    whole = mock.get(f"/__mock/journal/{brief['seq']}").json()
    assert whole["body"] == CHAT and whole["response"]["object"] == "chat.completion"
    assert whole == calls(mock)[0]
    missing = mock.get("/__mock/journal/999999")
    assert missing.status_code == 404 and "999999" in missing.json()["error"]["message"]


def test_a_stream_keeps_every_event_with_its_time(mock: TestClient) -> None:
    with mock.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as answer:
        text = "".join(answer.iter_text())
    sent = [block.removeprefix("data: ") for block in text.strip().split("\n\n")]
    [brief] = calls(mock, brief="1")
    assert brief["events"] == len(sent) and brief["outcome"] == "(event stream)"
    events = mock.get(f"/__mock/journal/{brief['seq']}").json()["events"]
    assert [e["data"] for e in events[:-1]] == [json.loads(s) for s in sent[:-1]]
    assert events[-1]["data"] == "[DONE]" and sent[-1] == "[DONE]"
    times = [e["at_ms"] for e in events]
    assert times == sorted(times) and times[0] >= 0


def test_named_events_keep_their_names(mock: TestClient) -> None:
    body = {"model": "claude-sonnet-4-20250514", "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    with mock.stream("POST", "/v1/messages", json=body, headers={"anthropic-version": "2023-06-01"}) as answer:
        answer.read()
    events = calls(mock)[0]["events"]
    assert events[0]["event"] == "message_start" and events[-1]["event"] == "message_stop"
    assert all(e["event"] == e["data"]["type"] for e in events)


def test_a_long_stream_is_bounded_in_items_and_bytes(client_for: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "MAX_TIMELINE_ITEMS", 12)
    with client_for(Settings(strict=True, clock="manual", journal_entry_bytes=1024)) as mock:
        with mock.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True, "max_tokens": 200}) as answer:
            sent = [b for b in "".join(answer.iter_text()).split("\n\n") if b]
        events = calls(mock)[0]["events"]
    assert len(sent) > 12
    assert len(events) == 13 and events[-1] == {"at_ms": events[-1]["at_ms"], "omitted": len(sent) - 12}
    kept = [e for e in events[:-1] if "data" in e]
    dropped = [e for e in events[:-1] if "data" not in e]
    assert kept and dropped, "the first events keep their data, the ones past the byte budget only their size"
    whole = [json.loads(b.removeprefix("data: ")) for b in sent[: len(kept)]]
    assert events[: len(kept)] == kept and [e["data"] for e in kept[:-1]] == whole[:-1]
    assert "gptnb-mock:truncated" in json.dumps(kept[-1]["data"]), "the event that crosses the budget is cut with a marker"
    assert [e["size"] for e in dropped] == [len(b.encode()) + 2 for b in sent[len(kept) : 12]]  # bytes, with the blank line
    assert len(json.dumps(events)) < 1024 + 13 * 120


def test_a_realtime_session_keeps_both_sides_frames(client_for: Client) -> None:
    with client_for() as mock:
        with mock.websocket_connect("/v1/realtime?model=gpt-4o-realtime-preview", headers={"OpenAI-Beta": "realtime=v1"}) as socket:
            assert json.loads(socket.receive_text())["type"] == "session.created"
            socket.receive_text()  # conversation.created
            socket.send_text(json.dumps({"type": "input_audio_buffer.clear", "event_id": "evt_mine"}))
            assert json.loads(socket.receive_text())["type"] == "input_audio_buffer.cleared"
            socket.send_text("not json")
            assert json.loads(socket.receive_text())["type"] == "error"
        [session] = calls(mock)
    frames = session["frames"]
    assert [(f["from"], f["data"]["type"] if isinstance(f["data"], dict) else f["data"]) for f in frames] == [
        ("server", "session.created"),
        ("server", "conversation.created"),
        ("client", "input_audio_buffer.clear"),
        ("server", "input_audio_buffer.cleared"),
        ("client", "not json"),
        ("server", "error"),
    ]
    assert frames[2]["data"]["event_id"] == "evt_mine"
    assert [f["at_ms"] for f in frames] == sorted(f["at_ms"] for f in frames)


def test_callback_deliveries_name_their_task(client_for: Client) -> None:
    with CallbackListener(lambda body: body.get("status") == "SUCCESS") as listener, client_for(Settings(strict=True, clock="step")) as mock:
        task_id = mock.post("/mj/submit/imagine", json={"prompt": "a fox", "notifyHook": listener.url}).json()["result"]
        while mock.get(f"/mj/task/{task_id}/fetch").json()["status"] != "SUCCESS":
            pass
        assert listener.arrived.wait(20)
        deadline = time.monotonic() + 10
        while len(calls(mock, task=task_id)) < len(listener.received) and time.monotonic() < deadline:
            time.sleep(0.05)
        delivered = calls(mock, task=task_id, brief="1")
        assert delivered and all(c["kind"] == "callback" and c["task"] == task_id for c in delivered)
        assert all(c["outcome"].startswith("attempt 1: HTTP 200") for c in delivered)
        assert calls(mock, kind="callback") == calls(mock, task=task_id)


def test_a_task_shows_its_timeline_and_its_familys_own_answer(mock: TestClient) -> None:
    task_id = mock.post("/mj/submit/imagine", json={"prompt": "a lighthouse"}).json()["result"]
    mock.post("/__mock/clock", json={"advance": 600})
    fetched = mock.get(f"/mj/task/{task_id}/fetch").json()
    summary = mock.get(f"/__mock/tasks/{task_id}").json()
    assert summary["answer"] == fetched and fetched["status"] == "SUCCESS" and fetched["imageUrl"].endswith(f"/mj/image/{task_id}")
    assert summary["progress"] == 100 and summary["steps"][-1]["entered_at"] <= summary["created_at"] + 600
    entered = [step["entered_at"] for step in summary["steps"]]
    assert entered == [summary["created_at"] + step["at"] for step in summary["steps"]]


def test_every_familys_tasks_answer_in_their_own_words_however_they_end(client_for: Client) -> None:
    """Each documented submit that makes a task, then half the tasks completed and half failed by the
    operator, then the clock past every plan: the listing answers, every task with its family's view."""
    with client_for(Settings(strict=False, clock="manual")) as mock:
        made = set()
        for contract in mock.app.state.registry:
            if contract.kind != "task-submit":
                continue
            for example in examples_of(contract):
                sent = example.request
                if sent.get("files"):
                    continue
                body = {"data": sent["form"]} if "form" in sent else {"json": sent.get("body")}
                answer = mock.request(sent["method"], sent["path"], params=sent.get("query"), headers=sent.get("headers"), **body)
                if answer.status_code < 300:
                    made.add(contract.family)
        tasks = mock.get("/__mock/tasks", params={"limit": 1000}).json()["tasks"]
        for index, task in enumerate(tasks):
            assert mock.post(f"/__mock/tasks/{task['id']}/{'complete' if index % 2 else 'fail'}", json={}).status_code == 200
        mock.post("/__mock/clock", json={"advance": 3600})
        listed = mock.get("/__mock/tasks", params={"limit": 1000})
    assert listed.status_code == 200 and len(made) >= 14, made
    assert all(isinstance(t["answer"], dict) and t["terminal"] for t in listed.json()["tasks"]), [t["family"] for t in listed.json()["tasks"] if not t["answer"]]
    assert {t["family"] for t in listed.json()["tasks"]} == made


def test_a_ppt_build_answers_with_its_download_link(mock: TestClient) -> None:
    built = mock.post("/docmee/v1/api/ppt/directGeneratePptx", json={"subject": "季度回顾", "stream": False, "length": "short"}).json()
    ppt_id = built["data"]["pptInfo"]["id"]
    summary = mock.get(f"/__mock/tasks/{ppt_id}").json()
    downloaded = mock.post("/docmee/v1/api/ppt/downloadPptx", json={"id": ppt_id}).json()["data"]
    assert summary["answer"]["fileUrl"].split("?")[0].endswith(f"/docmee-files/ppt/{ppt_id}.pptx")
    assert summary["answer"] == downloaded


def test_a_contract_lists_its_examples_and_links_its_schemas(site: TestClient) -> None:
    found = site.get("/__mock/contracts/openai.audio.transcriptions").json()
    assert found["docs"] == "/__mock/docs#openai.audio.transcriptions"
    assert found["auth"]["carriers"][0] == {"in": "header", "name": "Authorization", "prefix": "Bearer "}
    example = next(e for e in found["examples"] if e["request"].get("files"))
    upload = example["request"]["files"]["file"]
    served = site.get(f"/__mock/fixtures/{upload['fixture']}")
    assert served.status_code == 200 and served.headers["content-type"] == upload["content_type"] and served.content[:4] == b"RIFF"
    assert site.get("/__mock/docs").text.count(f'id="{found["id"]}"') == 1
    assert site.get("/__mock/contracts/no.such.contract").status_code == 404


@pytest.mark.parametrize("path", ["openai/chat.completions.basic.json", "../pyproject.toml", "media/../../pyproject.toml", "media/nothing.wav"])
def test_only_example_uploads_are_served(site: TestClient, path: str) -> None:
    assert site.get(f"/__mock/fixtures/{path}").status_code == 404


def test_the_page_and_its_assets_are_served_with_a_strict_policy(site: TestClient) -> None:
    page = site.get("/__mock/ui")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "img-src 'self' data: blob:" in policy and "media-src 'self' blob:" in policy and "*" not in policy
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    for asset in sorted(p.name for p in ASSETS.iterdir() if p.name != "index.html"):
        served = site.get(f"/__mock/ui/{asset}")
        assert served.status_code == 200 and served.content == (ASSETS / asset).read_bytes(), asset
        assert served.headers["content-type"].startswith("text/css" if asset.endswith(".css") else "text/javascript")
        assert "http://" not in served.text and "https://" not in served.text, f"{asset} must not load anything from elsewhere"
    assert site.get("/__mock/ui/nothing.js").status_code == 404
    moved = site.get("/__mock/ui/", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "../ui"


def test_the_page_needs_no_token_but_what_it_reads_does() -> None:
    with TestClient(MockApp(state=MockState(Settings(strict=True, admin_token="s3cret"))), headers=KEY) as mock:
        assert mock.get("/__mock/ui").status_code == 200 and mock.get("/__mock/ui/app.js").status_code == 200
        assert mock.get("/__mock/journal").status_code == 401
        assert mock.get("/__mock/journal", headers={"X-Mock-Admin-Token": "s3cret"}).status_code == 200
        assert mock.get("/__mock/fixtures/media/tone.wav").status_code == 401


@pytest.mark.parametrize(
    ("host", "link"), [("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("::", "127.0.0.1"), ("::1", "[::1]"), ("mock.internal", "mock.internal")]
)
def test_serve_links_the_inspector_where_a_browser_can_open_it(host: str, link: str) -> None:
    assert _url_host(host, browsable=True) == link


def test_a_task_render_may_not_keep_the_request() -> None:
    """A task, and so its render, outlives its request and is read by any worker: a render is a
    module-level function and JSON arguments, so it can hold neither the request's bodies nor its uploads."""

    class Request:
        base_url = "http://127.0.0.1:8000"

    call = Request()
    with pytest.raises(ValueError, match="module-level"):
        Rendering.of(lambda view: {"url": call.base_url})
    task = Task(id="t1", family="demo", kind="demo", params={}, steps=(Step("DONE", 0.0, 100),), created_at=0.0, render=Rendering.of(task_summary, call))
    with pytest.raises(TypeError, match="Request"):
        run_sync(MemoryStore(Limits()).create_task("default", task, None, 0.0))


def test_a_mock_over_redis_leaves_nothing_pending_when_it_stops(redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Its callback thread's loop ends every task (the store's round trips too) before it closes: a task
    left pending is destroyed later by the garbage collector, outside its loop (and hiredis may crash)."""
    settings = Settings(strict=True, clock="manual")
    for _ in range(3):
        with TestClient(MockApp(state=MockState(settings, store=RedisStore(redis_url, limits_of(settings), "manual"))), headers=KEY) as mock:
            assert mock.get("/__mock/journal").status_code == 200
        gc.collect()
    assert not [r for r in caplog.records if "destroyed but it is pending" in r.getMessage()]


def test_every_worker_of_a_mock_on_redis_shows_the_same_timelines_deliveries_and_answers(redis_url: str, tmp_path: Path) -> None:
    """Two workers on one Redis: a stream, a Realtime session and a task with callbacks, made through
    whichever worker took each connection, read back the same from each (fresh connections: the workers
    take turns accepting them)."""
    space = {**KEY, "X-Mock-Namespace": "inspector-workers"}
    with running_server(tmp_path / "mock.log", "--store", redis_url, "--workers", "2") as url, CallbackListener(lambda body: body.get("status") == "SUCCESS") as listener:
        assert requests.post(url + "/__mock/clock", json={"mode": "step"}, headers=space, timeout=30).status_code == 200
        with requests.post(url + "/v1/chat/completions", json={**CHAT, "stream": True}, headers=space, stream=True, timeout=30) as answer:
            sent = [block.removeprefix("data: ") for block in answer.text.strip().split("\n\n")]
        realtime = url.replace("http://", "ws://") + "/v1/realtime?model=gpt-4o-realtime-preview"
        with connect(realtime, additional_headers={**space, "OpenAI-Beta": "realtime=v1"}) as socket:
            socket.recv(timeout=30), socket.recv(timeout=30)  # session.created, conversation.created
            socket.send(json.dumps({"type": "input_audio_buffer.clear"}))
            assert json.loads(socket.recv(timeout=30))["type"] == "input_audio_buffer.cleared"
        task_id = requests.post(url + "/mj/submit/imagine", json={"prompt": "a fox", "notifyHook": listener.url}, headers=space, timeout=30).json()["result"]
        while requests.get(f"{url}/mj/task/{task_id}/fetch", headers=space, timeout=30).json()["status"] != "SUCCESS":
            pass
        assert listener.arrived.wait(30)

        def views() -> tuple[list[dict[str, Any]], dict[str, Any]]:
            listed = requests.get(url + "/__mock/journal", params={"limit": 1000}, headers=space, timeout=30).json()["calls"]
            task = requests.get(f"{url}/__mock/tasks/{task_id}", headers=space, timeout=30).json()
            return listed, {k: v for k, v in task.items() if k != "now"}  # the clock's reading goes on

        deadline = time.monotonic() + 30
        while len([c for c in views()[0] if c["kind"] == "callback"]) < len(listener.received) and time.monotonic() < deadline:
            time.sleep(0.05)  # the session and the last delivery are journalled as they end
        seen = [views() for _ in range(6)]
        listed, task = seen[0]
        one = requests.get(f"{url}/__mock/journal/{listed[0]['seq']}", headers=space, timeout=30).json()
    assert all(view == seen[0] for view in seen)
    stream, session = listed[0], listed[1]
    assert [e["data"] for e in stream["events"]] == [json.loads(s) for s in sent[:-1]] + ["[DONE]"] and one == stream
    assert [(f["from"], f["data"]["type"]) for f in session["frames"]][2:] == [("client", "input_audio_buffer.clear"), ("server", "input_audio_buffer.cleared")]
    delivered = [c for c in listed if c["kind"] == "callback"]
    assert len(delivered) == len(listener.received) and {c["task"] for c in delivered} == {task_id}
    assert [c["body"] for c in delivered] == listener.received
    assert task["answer"]["status"] == "SUCCESS" and task["answer"]["id"] == task_id and task["answer"]["imageUrl"].startswith(url)
