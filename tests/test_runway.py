"""Runway through the gptnb fixture: the v1 (DuoMi) generate + feed, and the official /runwayml/v1 API."""

from __future__ import annotations

import io
import re
import uuid

import httpx
import pytest
import runwayml
from PIL import Image

from mockserver.media import media_type_of

BASE = "https://goapi.gptnb.ai"
OFFICIAL_DONE = ("SUCCEEDED", "FAILED", "CANCELLED")
FRAMES = [{"uri": "https://img.example-mock.test/start.jpg", "position": "first"}, {"uri": "https://img.example-mock.test/end.jpg", "position": "last"}]


@pytest.fixture
def runway(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test", "X-Runway-Version": "2024-11-06"}) as client:
        yield client


def submit_v1(client: httpx.Client, body: dict, path: str = "/runway/pro/generate") -> str:
    answer = client.post(path, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["code"] == 200
    return str(uuid.UUID(answer.json()["data"]["task_id"]))


def feed_until_done(client: httpx.Client, task_id: str, path: str = "/runway/feed", limit: int = 10) -> tuple[dict, list[str]]:
    seen = []
    for _ in range(limit):
        data = client.post(path, json={"task_id": task_id}).json()["data"]
        seen.append(data["status"])
        if data["status"] in ("2", "3"):
            return data, seen
    raise AssertionError(f"task {task_id} did not finish: {seen}")


def image_at(client: httpx.Client, url: str) -> Image.Image:
    return Image.open(io.BytesIO(client.get(url).content))


@pytest.mark.gptnb(clock="step")
def test_v1_text_flow_yields_mp4_and_first_and_last_frames(runway) -> None:
    task_id = submit_v1(runway, {"prompt": "一只在月光下奔跑的白马", "ratio": "16:9", "model": "gen3", "options": {"seconds": 5}})
    task, seen = feed_until_done(runway, task_id)
    assert seen == ["0", "1", "3"] and task["state"] == "succeeded" and task["prompt_en"]
    assert media_type_of(runway.get(task["video_url"]).content) == "video/mp4"
    first, last = image_at(runway, task["poster"]), image_at(runway, task["last_frame"])
    assert first.format == last.format == "PNG" and first.size == last.size and first.size[0] > first.size[1]


@pytest.mark.gptnb(clock="step")
def test_v1_image_mode_is_the_variant_and_flip_gives_portrait(runway, gptnb) -> None:
    body = {"image": "https://img.example-mock.test/portrait.jpg", "prompt": "she smiles", "model": "gen3", "options": {"flip": True}}
    task_id = submit_v1(runway, body, path="/runway/v1/pro/generate")
    assert gptnb.calls.last.contract_id == "runway.v1.generate.image"
    task, _ = feed_until_done(runway, task_id, path="/runway/v1/feed")
    poster = image_at(runway, task["poster"])
    assert poster.size[0] < poster.size[1]
    lost_image = runway.post("/runway/pro/generate", json={"prompt": "she smiles", "options": {"image_as_end_frame": True}})
    assert lost_image.status_code == 400 and lost_image.json()["msg"] == "image is required"


@pytest.mark.gptnb(clock="step")
def test_v1_failure_is_refunded_and_unknown_ids_are_task_not_exist(runway) -> None:
    task, _ = feed_until_done(runway, submit_v1(runway, {"prompt": "mock-fail please"}))
    assert (task["status"], task["refund"], task["video_url"]) == ("2", "1", None) and task["msg"]
    unknown = runway.post("/runway/feed", json={"task_id": str(uuid.uuid4())})
    assert unknown.status_code == 400 and unknown.json()["code"] == "task_not_exist"


@pytest.mark.gptnb(clock="step")
def test_official_image_to_video_flow(runway) -> None:
    created = runway.post("/runwayml/v1/image_to_video", json={"promptImage": FRAMES, "model": "gen4_turbo", "ratio": "1280:720", "promptText": "dolly-in", "duration": 5})
    assert created.status_code == 200, created.text
    task_id = str(uuid.UUID(created.json()["id"]))
    seen, task = [], {}
    for path in ["/runwayml/v1/tasks/{}", "/runway/v1/tasks/{}", "/v1/runway/tasks/{}"] * 4:
        task = runway.get(path.format(task_id)).json()
        seen.append(task["status"])
        if task["status"] == "RUNNING":
            assert 0 < task["progress"] < 1
        if task["status"] in OFFICIAL_DONE:
            break
    assert seen[0] == "PENDING" and "RUNNING" in seen and seen[-1] == "SUCCEEDED"
    assert task["cost"] == {"credits": 25} and "estimatedCost" not in task  # 5 s at 5 credits a second
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", task["createdAt"]) and "progress" not in task
    (output,) = task["output"]
    assert media_type_of(runway.get(output).content) == "video/mp4"


@pytest.mark.gptnb(clock="manual", task_concurrency=1)
def test_official_tasks_beyond_the_concurrency_limit_are_throttled(runway, gptnb) -> None:
    ids = [runway.post("/runwayml/v1/image_to_video", json={"promptImage": "https://img.example-mock.test/a.jpg", "model": "gen3a_turbo"}).json()["id"] for _ in range(2)]
    assert [runway.get(f"/runwayml/v1/tasks/{i}").json()["status"] for i in ids] == ["PENDING", "THROTTLED"]
    gptnb.clock.advance(60)
    assert [runway.get(f"/runwayml/v1/tasks/{i}").json()["status"] for i in ids] == ["SUCCEEDED", "SUCCEEDED"]


@pytest.mark.gptnb(clock="step")
def test_official_failure_carries_failure_and_code(runway) -> None:
    task_id = runway.post("/runwayml/v1/image_to_video", json={"promptImage": "https://img.example-mock.test/a.jpg", "model": "gen3a_turbo", "promptText": "mock-fail"}).json()["id"]
    for _ in range(6):
        task = runway.get(f"/runwayml/v1/tasks/{task_id}").json()
        if task["status"] == "FAILED":
            break
    assert task["status"] == "FAILED" and task["failure"] and task["failureCode"] and "output" not in task
    assert task["cost"] == {"credits": 0}  # refunded


@pytest.mark.gptnb(clock="step")
def test_runways_own_sdk_creates_and_waits_for_a_task(gptnb, monkeypatch) -> None:
    """runwayml (Runway's SDK) against the relay prefix: it sends X-Runway-Version 2024-11-06 itself, reads the id, and its
    wait_for_task_output polls tasks/{id} until a terminal status, with estimatedCost while in flight."""
    monkeypatch.setattr("runwayml.lib.polling.POLL_TIME", 0)  # the step clock moves the task; no need to wait 6 s a poll
    monkeypatch.setattr("runwayml.lib.polling.POLL_JITTER", 0)
    client = runwayml.RunwayML(api_key="sk-test", base_url=BASE + "/runwayml", max_retries=0)
    created = client.image_to_video.create(model="gen4_turbo", prompt_image=FRAMES[0]["uri"], ratio="1280:720", prompt_text="dolly-in", duration=5)
    pending = client.tasks.retrieve(created.id)
    assert pending.status in ("PENDING", "RUNNING") and pending.estimated_cost.credits == 25
    done = created.wait_for_task_output(timeout=None)
    assert done.status == "SUCCEEDED" and done.cost.credits == 25
    (output,) = done.output
    assert media_type_of(httpx.get(output).content) == "video/mp4"


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"),
    [
        ("POST", "/runwayml/v1/image_to_video", {"promptImage": FRAMES, "model": "gen3a_turbo", "ratio": "1280:720"}, {}, 400),
        ("POST", "/runwayml/v1/image_to_video", {"promptImage": [FRAMES[0], FRAMES[0]], "model": "gen4_turbo"}, {}, 400),
        ("POST", "/runwayml/v1/image_to_video", {"promptImage": FRAMES, "model": "gen4_turbo"}, {"X-Runway-Version": "2023-01-01"}, 400),
        ("POST", "/runwayml/v1/image_to_video", {"model": "gen4_turbo"}, {}, 400),
        ("GET", "/runwayml/v1/tasks/00000000-0000-4000-8000-000000000000", None, {}, 404),
    ],
)
def test_official_errors_are_runways_error_string(runway, method, path, body, headers, status) -> None:
    response = runway.request(method, path, json=body, headers=headers)
    assert response.status_code == status and isinstance(response.json()["error"], str) and response.json()["error"]
