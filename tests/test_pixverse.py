"""Pixverse (DuoMi-style relay format) through the gptnb fixture: generate, feed, callbacks, errors."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
from PIL import Image

from mockserver.media import media_type_of
from callback_listener import CallbackListener

BASE = "https://goapi.gptnb.ai"
TEXT = {"prompt": "a glass city at sunrise, drone shot", "ratio": "16:9", "model": "v4.5", "style": "3d_animation", "seed": 1234}
IMAGE = {"prompt": "turn into black venom", "image": "https://img.example-mock.test/hero.png", "model": "v3.5", "template_id": 302325299692608}


@pytest.fixture
def pix(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}) as client:
        yield client


def submit(client: httpx.Client, body: dict, path: str = "/pixverse/pro/generate") -> str:
    answer = client.post(path, json=body)
    assert answer.status_code == 200 and answer.json()["code"] == 200, answer.text
    return str(uuid.UUID(answer.json()["data"]["task_id"]))


def poll_until_done(client: httpx.Client, task_id: str, path: str = "/pixverse/feed", limit: int = 10) -> tuple[dict, list[str]]:
    seen = []
    for _ in range(limit):
        data = client.get(path, params={"task_id": task_id}).json()["data"]
        seen.append(data["status"])
        if data["status"] in ("2", "3"):
            return data, seen
    raise AssertionError(f"task {task_id} did not finish: {seen}")


@pytest.mark.gptnb(clock="step")
@pytest.mark.parametrize(("body", "generate", "feed"), [(TEXT, "/pixverse/pro/generate", "/pixverse/feed"), (IMAGE, "/pix/pro/generate", "/pixverse/v1/pro/feed"), (IMAGE, "/pixverse/v1/pro/generate", "/pix/feed")])
def test_generate_and_feed_end_with_video_preview_and_poster(pix, body, generate, feed) -> None:
    task, seen = poll_until_done(pix, submit(pix, body, generate), feed)
    assert seen == ["0", "1", "3"] and (task["state"], task["prompt"], task["refund"]) == ("succeeded", body["prompt"], "0")
    assert media_type_of(pix.get(task["video_url"]).content) == "video/mp4"
    assert Image.open(io.BytesIO(pix.get(task["image_url"]).content)).format == "WEBP"
    assert Image.open(io.BytesIO(pix.get(task["poster"]).content)).format == "JPEG"


@pytest.fixture
def listener():
    with CallbackListener(done=lambda body: body["status"] in ("2", "3")) as received:
        yield received.url, received


@pytest.mark.gptnb(clock="manual")
def test_callbacks_post_the_bare_task_object_on_every_change(pix, gptnb, listener) -> None:
    url, received = listener
    task_id = submit(pix, {**TEXT, "callback_url": url})
    gptnb.clock.advance(60)
    assert received.arrived.wait(10), received.received
    assert [b["status"] for b in received.received] == ["0", "1", "3"]
    assert all(b["task_id"] == task_id and "code" not in b and "data" not in b for b in received.received)
    assert media_type_of(pix.get(received.received[-1]["video_url"]).content) == "video/mp4"
    assert all(c.status == 200 and not c.violations for c in gptnb.callbacks)


@pytest.mark.gptnb(clock="manual")
def test_a_failing_task_calls_back_with_status_2_and_a_refund(pix, gptnb, listener) -> None:
    url, received = listener
    submit(pix, {**IMAGE, "prompt": "mock-fail venom", "callback_url": url})
    gptnb.clock.advance(60)
    assert received.arrived.wait(10), received.received
    last = received.received[-1]
    assert (last["status"], last["state"], last["refund"], last["video_url"]) == ("2", "error", "1", None) and last["msg"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/pixverse/pro/generate", {"prompt": "x", "ratio": "16:9"}, "model is required"),
        ("/pixverse/pro/generate", {"prompt": "x", "model": "v4.5"}, "ratio is required"),
        ("/pixverse/pro/generate", {"image": "https://img.example-mock.test/a.png", "model": "v4.5"}, "prompt is required"),
    ],
)
def test_refused_bodies(pix, path, body, message) -> None:
    response = pix.post(path, json=body)
    assert response.status_code == 400 and response.json() == {**response.json(), "code": 400, "msg": message, "data": None}


def test_unknown_task(pix) -> None:
    response = pix.get("/pixverse/feed", params={"task_id": str(uuid.uuid4())})
    assert (response.status_code, response.json()) == (400, {"code": "task_not_exist", "message": "task_not_exist", "data": None})
