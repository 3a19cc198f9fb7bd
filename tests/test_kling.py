"""Kling (可灵, official format) through the gptnb fixture: task flows, downloads, callbacks, errors."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
from PIL import Image

from mockserver.media import media_type_of
from callback_listener import CallbackListener

BASE = "https://goapi.gptnb.ai"
DONE = ("succeed", "failed")


@pytest.fixture
def kling(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}) as client:
        yield client


def submit(client: httpx.Client, endpoint: str, body: dict) -> dict:
    answer = client.post(f"/kling/v1/{endpoint}", json=body)
    assert answer.status_code == 200, answer.text
    envelope = answer.json()
    assert (envelope["code"], envelope["message"]) == (0, "SUCCEED") and uuid.UUID(envelope["request_id"])
    data = envelope["data"]
    assert data["task_status"] == "submitted" and data["task_id"].isdigit() and len(data["task_id"]) >= 18
    assert data["created_at"] == data["updated_at"] > 1_600_000_000_000  # milliseconds
    return data


def poll_until_done(client: httpx.Client, endpoint: str, task_id: str, limit: int = 10) -> tuple[dict, list[str]]:
    """A client's polling loop, without sleeps: under the step clock every query moves the task."""
    seen = []
    for _ in range(limit):
        envelope = client.get(f"/kling/v1/{endpoint}/{task_id}").json()
        seen.append(envelope["data"]["task_status"])
        if envelope["data"]["task_status"] in DONE:
            return envelope["data"], seen
    raise AssertionError(f"task {task_id} did not finish: {seen}")


@pytest.mark.gptnb(clock="step")
def test_text2video_flow_ends_with_a_downloadable_mp4(kling) -> None:
    created = submit(kling, "videos/text2video", {"model_name": "kling-v1-6", "prompt": "a glass jellyfish", "duration": "10", "external_task_id": "t2v-1"})
    assert created["task_info"] == {"external_task_id": "t2v-1"}
    task, seen = poll_until_done(kling, "videos/text2video", created["task_id"])
    assert seen == ["submitted", "processing", "succeed"]
    assert task["task_status_msg"] == "" and task["updated_at"] >= task["created_at"] == created["created_at"]
    (video,) = task["task_result"]["videos"]
    assert video["duration"].startswith("10") and isinstance(video["duration"], str) and uuid.UUID(video["id"])
    download = kling.get(video["url"])
    assert download.status_code == 200 and media_type_of(download.content) == "video/mp4"
    by_external = kling.get("/kling/v1/videos/text2video/t2v-1").json()["data"]
    assert by_external["task_id"] == created["task_id"]


@pytest.mark.gptnb(clock="step")
def test_image2video_flow_through_the_template_query_path(kling) -> None:
    created = submit(kling, "videos/image2video", {"model": "kling-v1", "image": "https://example.com/img/portrait.jpg", "image_tail": "https://example.com/img/end.jpg"})
    task, _ = poll_until_done(kling, "videos/image2video", created["task_id"])
    assert task["task_status"] == "succeed"
    assert media_type_of(kling.get(task["task_result"]["videos"][0]["url"]).content) == "video/mp4"


@pytest.mark.gptnb(clock="step")
def test_image_generation_yields_n_png_images_in_the_requested_shape(kling) -> None:
    created = submit(kling, "images/generations", {"model_name": "kling-v1-5", "prompt": "isometric tiny bakery", "n": 2, "aspect_ratio": "3:2"})
    task, _ = poll_until_done(kling, "images/generations", created["task_id"])
    images = task["task_result"]["images"]
    assert [image["index"] for image in images] == [0, 1] and len({image["url"] for image in images}) == 2
    for image in images:
        picture = Image.open(io.BytesIO(kling.get(image["url"]).content))
        assert picture.format == "PNG" and picture.width / picture.height == pytest.approx(3 / 2, abs=0.01)


@pytest.mark.gptnb(clock="step")
def test_tasks_fail_with_a_status_message(kling, gptnb) -> None:
    marked = submit(kling, "videos/text2video", {"prompt": "a cat mock-fail"})
    task, seen = poll_until_done(kling, "videos/text2video", marked["task_id"])
    assert seen[-1] == "failed" and task["task_status_msg"] and task["task_result"] == {}
    gptnb.route("kling.images.generate").fail_task("Failure to pass the risk control system", times=1)
    steered = submit(kling, "images/generations", {"prompt": "a dog"})
    assert poll_until_done(kling, "images/generations", steered["task_id"])[0]["task_status_msg"] == "Failure to pass the risk control system"


@pytest.mark.gptnb(clock="step")
def test_a_task_is_found_only_under_the_endpoint_it_was_created_on(kling) -> None:
    created = submit(kling, "videos/text2video", {"prompt": "a kite"})
    response = kling.get(f"/kling/v1/images/generations/{created['task_id']}")
    assert response.status_code == 404 and response.json()["code"] == 1203


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("videos/text2video", {"prompt": "x", "duration": 5}, 400, 1201),  # duration is a string
        ("videos/text2video", {"prompt": "x", "camera_control": {"type": "simple", "config": {"pan": 1, "zoom": 2}}}, 400, 1201),
        ("videos/text2video", {"negative_prompt": "no prompt"}, 400, 1201),
        ("videos/image2video", {"image": "data:image/png;base64,iVBORw0KGgo="}, 400, 1201),  # no data: prefix allowed
        ("videos/image2video", {"prompt": "no image at all"}, 400, 1201),
        ("images/generations", {"prompt": "x", "n": 10}, 400, 1201),
        ("images/generations", {"prompt": "x", "image": "https://example.com/a.png", "negative_prompt": "blur"}, 400, 1201),
    ],
)
def test_invalid_parameters_get_code_1201(kling, path, body, status, code) -> None:
    response = kling.post(f"/kling/v1/{path}", json=body)
    error = response.json()
    assert (response.status_code, error["code"]) == (status, code)
    assert set(error) == {"code", "message", "request_id"} and error["message"]


def test_unreadable_body_unknown_task_and_unknown_route(kling) -> None:
    unreadable = kling.post("/kling/v1/videos/text2video", content=b"{", headers={"Content-Type": "application/json"})
    assert (unreadable.status_code, unreadable.json()["code"]) == (400, 1200)
    unknown = kling.get("/kling/v1/videos/text2video/871000000000000000")
    assert (unknown.status_code, unknown.json()["code"], unknown.json()["message"]) == (404, 1203, "task not found")
    no_route = kling.get("/kling/v1/videos/lip-sync/871000000000000000")
    assert (no_route.status_code, no_route.json()["code"]) == (404, 1202)


def test_duplicate_external_task_id_is_refused(kling) -> None:
    submit(kling, "videos/text2video", {"prompt": "one", "external_task_id": "dup"})
    again = kling.post("/kling/v1/videos/text2video", json={"prompt": "two", "external_task_id": "dup"})
    assert (again.status_code, again.json()["code"]) == (400, 1201)


def test_relay_errors_use_the_relay_envelope(gptnb) -> None:
    with httpx.Client(base_url=BASE) as anonymous:
        response = anonymous.post("/kling/v1/videos/text2video", json={"prompt": "x"})
    assert response.status_code == 401 and "error" in response.json()


@pytest.fixture
def listener():
    with CallbackListener(done=lambda body: body["task_status"] in DONE) as received:
        yield received.url, received


@pytest.mark.gptnb(clock="step")
def test_callback_url_receives_the_task_object_on_every_status_change(kling, gptnb, listener) -> None:
    url, received = listener
    created = submit(kling, "videos/text2video", {"prompt": "a harbour", "callback_url": url, "external_task_id": "cb-1"})
    task, _ = poll_until_done(kling, "videos/text2video", created["task_id"])
    assert received.arrived.wait(10), received.received
    assert [b["task_status"] for b in received.received] == ["submitted", "processing", "succeed"]
    assert all(b["task_id"] == created["task_id"] and b["task_info"] == {"external_task_id": "cb-1"} for b in received.received)
    assert all("code" not in b and "data" not in b for b in received.received)  # no envelope around callbacks
    assert received.received[-1]["task_result"] == task["task_result"]
    assert [b["updated_at"] for b in received.received] == sorted(b["updated_at"] for b in received.received)
    assert all(c.status == 200 and not c.violations for c in gptnb.callbacks)
