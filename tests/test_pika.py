"""Pika (DuoMi-style relay format) through the gptnb fixture: the three generate modes, feed, errors."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
from PIL import Image

from mockserver.media import media_type_of

BASE = "https://goapi.gptnb.ai"
DONE = ("2", "3")
OPTIONS = {"frameRate": 24, "parameters": {"guidanceScale": 12, "motion": 1}}


@pytest.fixture
def pika(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}) as client:
        yield client


def submit(client: httpx.Client, body: dict, path: str = "/pika/pro/generate") -> str:
    answer = client.post(path, json=body)
    assert answer.status_code == 200, answer.text
    envelope = answer.json()
    assert (envelope["code"], envelope["msg"]) == (200, "成功") and isinstance(envelope["exec_time"], float)
    return str(uuid.UUID(envelope["data"]["task_id"]))


def poll_until_done(client: httpx.Client, task_id: str, limit: int = 10) -> tuple[dict, list[str]]:
    """A client's polling loop, without sleeps: under the step clock every feed moves the task."""
    seen = []
    for _ in range(limit):
        envelope = client.get("/pika/feed", params={"task_id": task_id}).json()
        seen.append(envelope["data"]["status"])
        if envelope["data"]["status"] in DONE:
            return envelope["data"], seen
    raise AssertionError(f"task {task_id} did not finish: {seen}")


@pytest.mark.gptnb(clock="step")
@pytest.mark.parametrize(
    ("mode", "body"),
    [
        ("text", {"prompt": "a red fox running through fresh snow", "ratio": "9:16", "model": 1.5, "options": OPTIONS}),
        ("image", {"prompt": "the teapot melts slowly", "image": "https://img.example-mock.test/teapot.png", "style": "Melt"}),
        ("video", {"prompt": "keep flying forward", "video": "https://cdn.example-mock.test/a.mp4", "sfx": False, "style": "", "options": OPTIONS}),
    ],
)
def test_each_mode_ends_with_a_downloadable_mp4(pika, gptnb, mode, body) -> None:
    task_id = submit(pika, body)
    assert gptnb.calls.last.contract_id == f"pika.generate.{mode}"
    task, seen = poll_until_done(pika, task_id)
    assert seen == ["0", "1", "3"] and task["state"] == "succeeded"
    assert (task["task_id"], task["prompt"], task["msg"], task["refund"]) == (task_id, body["prompt"], None, "0")
    assert task["point"].isdigit() and task["update_time"] >= task["create_time"] and len(task["create_time"]) == 10  # seconds
    assert media_type_of(pika.get(task["video_url"]).content) == "video/mp4"
    poster = Image.open(io.BytesIO(pika.get(task["poster"]).content))
    assert poster.format == "JPEG"
    if mode == "text":
        assert poster.size[0] < poster.size[1]  # 9:16


@pytest.mark.gptnb(clock="step")
def test_feed_aliases_and_a_failing_task(pika) -> None:
    task_id = submit(pika, {"prompt": "a lantern mock-fail", "ratio": "1:1"}, path="/pika/v1/pro/generate")
    first = pika.get(f"/pika/feed/{task_id}").json()["data"]
    assert (first["status"], first["state"], first["video_url"]) == ("0", "pending", None)
    assert pika.get("/pika/v1/feed", params={"task_id": task_id}).json()["data"]["status"] == "1"
    failed, _ = poll_until_done(pika, task_id)
    assert (failed["status"], failed["state"], failed["refund"], failed["video_url"]) == ("2", "error", "1", None)
    assert "mock-fail" in failed["msg"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "expected"),
    [
        ("GET", "/pika/feed", {"params": {"task_id": "00000000-0000-4000-8000-000000000000"}}, {"code": "task_not_exist", "message": "task_not_exist", "data": None}),
        ("GET", "/pika/feed", {}, {"code": 400, "msg": "task_id is required", "data": None}),
        ("POST", "/pika/pro/generate", {"json": {"prompt": "a fox"}}, {"code": 400, "msg": "ratio is required", "data": None}),
        ("POST", "/pika/pro/generate", {"json": {"image": "https://img.example-mock.test/a.png"}}, {"code": 400, "msg": "prompt is required", "data": None}),
        ("POST", "/pika/pro/generate", {"json": {"prompt": "a fox", "ratio": "2:1"}}, None),
    ],
)
def test_documented_errors(pika, method, path, kwargs, expected) -> None:
    response = pika.request(method, path, **kwargs)
    body = response.json()
    assert response.status_code == 400
    if expected is None:
        assert body["code"] == 400 and "ratio" in body["msg"]
    else:
        assert {k: body[k] for k in expected} == expected


def test_a_bad_key_gets_the_relay_envelope(gptnb) -> None:
    response = httpx.post(f"{BASE}/pika/pro/generate", json={"prompt": "x", "ratio": "1:1"})
    assert response.status_code == 401 and "message" in response.json()["error"]
