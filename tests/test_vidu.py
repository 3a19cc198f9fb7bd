"""Vidu (官方格式) through the gptnb fixture: create, poll, upscale a creation, the SSE state stream, errors."""

from __future__ import annotations

import io
import threading
from datetime import datetime

import httpx
import pytest
from PIL import Image

from mockserver.media import media_type_of
from mockserver.sse import parse

BASE = "https://goapi.gptnb.ai"
DONE = ("success", "failed")
SETTINGS = {"style": "general", "aspect_ratio": "16:9", "duration": 4, "model": "vidu-1"}


@pytest.fixture
def vidu(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}) as client:
        yield client


def text_task(prompt: str = "a red kite climbing over green hills", **settings) -> dict:
    return {"input": {"prompts": [{"type": "text", "content": prompt, "enhance": True}]}, "type": "text2video", "settings": {**SETTINGS, **settings}}


def create(client: httpx.Client, body: dict) -> dict:
    response = client.post("/vidu/v1/tasks", json=body)
    assert response.status_code == 200, response.text
    task = response.json()
    assert task["state"] == "queueing" and task["creations"] == [] and task["err_code"] == ""
    assert len(task["id"]) == 16 and task["id"].isdigit()
    assert datetime.strptime(task["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")  # ISO with microseconds and Z
    return task


def poll_until_done(client: httpx.Client, task_id: str, limit: int = 10) -> tuple[dict, list[str]]:
    """A client's polling loop, without sleeps: under the step clock every query moves the task."""
    seen = []
    for _ in range(limit):
        task = client.get(f"/vidu/v1/tasks/{task_id}").json()
        seen.append(task["state"])
        if task["state"] in DONE:
            return task, seen
    raise AssertionError(f"task {task_id} did not finish: {seen}")


def read_state_stream(client: httpx.Client, task_id: str) -> list[dict]:
    with client.stream("GET", "/vidu/v1/tasks/state", params={"id": task_id}, headers={"Accept": "text/event-stream"}) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = parse(text)
    assert all(e.event is None and e.id is None for e in events) and "[DONE]" not in text
    return [e.json() for e in events]


@pytest.mark.gptnb(clock="step")
def test_img2video_flow_then_upscale_of_its_creation(vidu) -> None:
    body = {
        "input": {"prompts": [{"type": "text", "content": "a red kite", "enhance": True}, {"type": "image", "content": "https://example.com/img/kite.png", "enhance": True}]},
        "type": "img2video",
        "settings": SETTINGS,
    }
    created = create(vidu, body)
    assert created["input"]["creation_id"] == "0" and created["input"]["lang"] == "en"
    rehosted = created["input"]["prompts"][1]["content"]
    assert rehosted != "https://example.com/img/kite.png" and Image.open(io.BytesIO(vidu.get(rehosted).content)).format == "PNG"

    task, seen = poll_until_done(vidu, created["id"])
    assert seen == ["queueing", "processing", "success"]
    (made,) = task["creations"]
    assert made["task_id"] == created["id"] and made["id"] != created["id"] and made["grade"] == "draft"
    assert media_type_of(vidu.get(made["uri"]).content) == "video/mp4"
    cover = Image.open(io.BytesIO(vidu.get(made["cover_uri"]).content))
    assert cover.format == "JPEG" and cover.size == (made["resolution"]["width"], made["resolution"]["height"])
    assert made["video"]["duration"] < 4 and made["created_at"] >= task["created_at"]

    upscale = create(vidu, {"input": {"creation_id": made["id"]}, "type": "upscale", "settings": {"model": "stable", "duration": 4}})
    assert upscale["type"] == "upscale" and upscale["input"]["creation_id"] == made["id"] and upscale["settings"]["model"] == "stable"
    upscaled, _ = poll_until_done(vidu, upscale["id"])
    (bigger,) = upscaled["creations"]
    assert bigger["resolution"]["width"] > made["resolution"]["width"] and bigger["src_video_duration"] == made["video"]["duration"]
    assert media_type_of(vidu.get(bigger["uri"]).content) == "video/mp4"


@pytest.mark.gptnb(clock="step")
def test_state_stream_follows_the_task_to_its_end(vidu) -> None:
    created = create(vidu, text_task("一只红色风筝"))
    assert created["input"]["lang"] == "zh"
    events = read_state_stream(vidu, created["id"])
    assert [e["state"] for e in events] == ["queueing", "processing", "success"]
    assert all(e["estimated_time_left"] == 0 and e["err_code"] == "" for e in events)
    assert vidu.get(f"/vidu/v1/tasks/{created['id']}").json()["state"] == "success"


@pytest.mark.gptnb(clock="step")
def test_a_failing_task_ends_its_stream_with_an_err_code(vidu, gptnb) -> None:
    gptnb.route("vidu.tasks.create").fail_task("AuditSubmitIllegal", times=1)
    created = create(vidu, text_task())
    events = read_state_stream(vidu, created["id"])
    assert events[-1] == {"state": "failed", "estimated_time_left": 0, "err_code": "AuditSubmitIllegal"}
    task = vidu.get(f"/vidu/v1/tasks/{created['id']}").json()
    assert task["state"] == "failed" and task["creations"] == [] and task["err_code"] == "AuditSubmitIllegal"


@pytest.mark.gptnb(clock="real")
def test_state_stream_under_the_real_clock_waits_for_the_task(vidu, gptnb) -> None:
    created = create(vidu, text_task())
    streaming = threading.Event()
    finished = threading.Event()

    def move_time() -> None:  # the clock runs faster than the test wants to wait
        streaming.wait(5)
        while not finished.wait(0.05):
            gptnb.clock.advance(0.5)

    mover = threading.Thread(target=move_time, daemon=True)
    mover.start()
    try:
        streaming.set()
        events = read_state_stream(vidu, created["id"])
    finally:
        finished.set()
        mover.join()
    states = [e["state"] for e in events]
    assert states[0] == "queueing" and states[-1] == "success"
    assert states == sorted(states, key=["queueing", "processing", "success"].index)  # repeats allowed, never backwards


@pytest.mark.gptnb(clock="step")
def test_upscale_needs_a_finished_creation_not_a_task_id(vidu) -> None:
    created = create(vidu, text_task())
    poll_until_done(vidu, created["id"])
    by_task_id = vidu.post("/vidu/v1/tasks", json={"input": {"creation_id": created["id"]}, "type": "upscale", "settings": {"model": "stable", "duration": 4}})
    assert by_task_id.status_code == 400 and "creations[].id" in by_task_id.json()["error"]["message"]
    unknown = vidu.post("/vidu/v1/tasks", json={"input": {"creation_id": "2401870000000000"}, "type": "upscale", "settings": {"model": "stable", "duration": 4}})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"input": {"prompts": [{"type": "text", "content": "x"}]}, "settings": SETTINGS}, "type"),
        ({**text_task(), "type": "img2video"}, "input.prompts"),
        ({**text_task(), "settings": {**SETTINGS, "duration": 5}}, "duration"),
        ({**text_task(), "settings": {**SETTINGS, "style": "anime"}, "type": "img2video", "input": {"prompts": [{"type": "image", "content": "https://e.x/a.png"}]}}, "settings.style"),
        ({"input": {}, "type": "upscale", "settings": {"model": "stable", "duration": 4}}, "creation_id"),
    ],
)
def test_bad_bodies_get_the_relay_envelope_400(vidu, body, field) -> None:
    response = vidu.post("/vidu/v1/tasks", json=body)
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == "invalid_request" and error["type"] == "invalid_request_error"
    assert field in error["param"] and error["message"].startswith("invalid request: ")


def test_unknown_ids_are_404(vidu) -> None:
    for response in (vidu.get("/vidu/v1/tasks/2401870000000000"), vidu.get("/vidu/v1/tasks/state", params={"id": "2401870000000000"})):
        assert response.status_code == 404 and response.json()["error"]["code"] == "task_not_found"
    assert vidu.get("/vidu/v1/tasks/state").status_code == 400
