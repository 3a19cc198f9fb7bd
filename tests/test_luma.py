"""Luma through the gptnb fixture: submit -> get on three account pools, extend chains, downloads, callbacks, errors."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image

from mockserver.media import media_type_of
from callback_listener import CallbackListener

BASE = "https://goapi.gptnb.ai"
PROMPT = {"user_prompt": "a paper boat drifting down a rain-soaked street at dusk", "aspect_ratio": "16:9", "expand_prompt": True}
RELAY_STATES = ["pending", "processing", "completed"]


@pytest.fixture
def luma(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}) as client:
        yield client


def submit(client: httpx.Client, path: str = "/luma/generations", body: dict = PROMPT) -> dict:
    response = client.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    generation = response.json()
    assert generation["state"] == "pending" and generation["video"] is None and generation["id"]
    return generation


def poll_until_done(client: httpx.Client, generation_id: str, prefix: str = "/luma/generations", limit: int = 20) -> tuple[dict, list[str]]:
    """A client's polling loop, without sleeps: under the step clock every get moves the generation on."""
    seen = []
    for _ in range(limit):
        generation = client.get(f"{prefix}/{generation_id}").json()
        seen.append(generation["state"])
        if generation["state"] in ("completed", "failed"):
            return generation, seen
    raise AssertionError(f"generation {generation_id} did not finish: {seen}")


def download(client: httpx.Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content


@pytest.mark.gptnb(clock="step")
def test_official_flow_submit_poll_download(luma) -> None:
    created = submit(luma)
    assert created["prompt"] == "" and created["created_at"].endswith("Z")
    done, seen = poll_until_done(luma, created["id"])
    assert seen == RELAY_STATES
    assert done["prompt"].startswith(PROMPT["user_prompt"]) and done["failure_reason"] is None
    video = done["video"]
    assert (video["width"], video["height"]) == (1360, 752)  # 16:9
    assert media_type_of(download(luma, video["url"])) == "video/mp4"
    assert media_type_of(download(luma, done["video_raw"]["url"])) == "video/mp4"
    frame = Image.open(io.BytesIO(download(luma, done["last_frame"]["url"])))
    assert frame.format == "JPEG" and frame.size == (video["width"], video["height"])
    assert done["artifact"]["video"] == video and done["request"]["aspect_ratio"] == "16:9"
    link = luma.get(f"/luma/generations/{created['id']}/download_video_url").json()["url"]
    assert parse_qs(urlsplit(link).query)["X-Amz-Expires"] == ["3600"]
    assert media_type_of(download(luma, link)) == "video/mp4"


@pytest.mark.gptnb(clock="step")
def test_extend_chains_onto_a_finished_generation(luma) -> None:
    source, _ = poll_until_done(luma, submit(luma, body={**PROMPT, "aspect_ratio": "9:16"})["id"])
    first = luma.post(f"/luma/generations/{source['id']}/extend", json={"user_prompt": "a cat peers into the storm drain"})
    assert first.status_code in (200, 201)
    extension = first.json()
    assert extension["id"] != source["id"] and extension["state"] == "pending"
    extended, seen = poll_until_done(luma, extension["id"])
    assert seen == RELAY_STATES and extended["prompt"] == "a cat peers into the storm drain"
    assert (extended["video"]["width"], extended["video"]["height"]) == (752, 1360)  # the source's frame
    assert extended["video_raw"]["duration"] > source["video_raw"]["duration"]
    again, _ = poll_until_done(luma, luma.post(f"/luma/generations/{extended['id']}/extend", json={"user_prompt": "it jumps"}).json()["id"])
    assert again["video_raw"]["duration"] > extended["video_raw"]["duration"]
    assert media_type_of(download(luma, again["video"]["url"])) == "video/mp4"
    running = submit(luma)["id"]
    early = luma.post(f"/luma/generations/{running}/extend", json={"user_prompt": "too soon"})
    assert early.status_code == 400 and early.json() == {"detail": "generation not completed"}


@pytest.mark.gptnb(clock="step")
def test_free_and_paid_pools(luma) -> None:
    free_id = submit(luma, "/luma/v1/generations")["id"]
    free, seen = poll_until_done(luma, free_id, "/luma/v1/generations")
    assert seen == RELAY_STATES
    assert free["video"]["download_url"] == "" and free["video"]["url"] != free["video_raw"]["url"]  # watermarked
    paid_id = submit(luma, "/pro/luma/v1/generations")["id"]
    paid, _ = poll_until_done(luma, paid_id, "/pro/luma/v1/generations")
    assert paid["video"]["url"] == paid["video"]["download_url"] == paid["video_raw"]["url"]  # no watermark
    assert media_type_of(download(luma, paid["video"]["download_url"])) == "video/mp4"
    assert luma.get(f"/luma/generations/{paid_id}").status_code == 404  # paid ids live in the paid pool
    assert luma.get(f"/pro/luma/v1/generations/{free_id}").status_code == 404
    assert luma.get(f"/luma/generations/{free_id}").json()["state"] == "completed"
    for submit_path, get_prefix in (("/vip/luma/v1/generations", "/vip/luma/v1/generations"), ("/luma/pro/generations", "/luma/pro/generations"), ("/pro/luma/generations", "/pro/luma/generations")):
        generation_id = submit(luma, submit_path)["id"]
        assert poll_until_done(luma, generation_id, get_prefix)[0]["state"] == "completed"
    extension = luma.post(f"/luma/generations/{paid_id}/extend", json={"user_prompt": "more"}).json()
    assert poll_until_done(luma, extension["id"], "/luma/pro/generations")[0]["video"]["download_url"]


@pytest.mark.gptnb(clock="step")
def test_failed_generations_say_why(luma, gptnb) -> None:
    failed, seen = poll_until_done(luma, submit(luma, body={"user_prompt": "a storm mock-fail"})["id"])
    assert seen[-1] == "failed" and failed["video"] is None and failed["failure_reason"]
    assert luma.get(f"/luma/generations/{failed['id']}/download_video_url").status_code == 400
    gptnb.route("luma.official.submit").fail_task("prompt flagged by moderation", times=1)
    steered, _ = poll_until_done(luma, submit(luma)["id"])
    assert steered["failure_reason"] == "prompt flagged by moderation"
    by_test = submit(luma)["id"]
    gptnb.tasks.complete(by_test)
    assert luma.get(f"/luma/generations/{by_test}").json()["state"] == "completed"


@pytest.mark.gptnb(clock="manual")
def test_manual_clock_moves_only_when_the_test_advances_it(luma, gptnb) -> None:
    generation_id = submit(luma)["id"]
    assert luma.get(f"/luma/generations/{generation_id}").json()["state"] == "pending"
    gptnb.clock.advance(2)
    assert luma.get(f"/luma/generations/{generation_id}").json()["state"] == "processing"
    gptnb.clock.advance(60)
    assert luma.get(f"/luma/generations/{generation_id}").json()["state"] == "completed"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "expected"),
    [
        ("POST", "/luma/generations", {"user_prompt": "   "}, 400, {"detail": "user_prompt is required"}),
        ("POST", "/luma/generations", {"aspect_ratio": "16:9"}, 400, {"detail": "user_prompt is required"}),
        ("GET", "/luma/generations/nope", None, 404, {"detail": "generation not found"}),
        ("GET", "/luma/v1/generations/nope", None, 404, {"detail": "generation not found"}),
        ("POST", "/luma/generations/nope/extend", {"user_prompt": "more"}, 404, {"detail": "generation not found"}),
        ("GET", "/luma/generations/nope/download_video_url", None, 404, {"detail": "generation not found"}),
    ],
)
def test_documented_errors(luma, method, path, body, status, expected) -> None:
    response = luma.request(method, path, json=body)
    assert (response.status_code, response.json()) == (status, expected)


def test_bad_bodies_and_keys(luma) -> None:
    image_only = luma.post("/luma/generations", json={"user_prompt": "", "image_url": "https://files.example.org/start.png"})
    assert image_only.status_code in (200, 201)  # a keyframe alone is enough
    wrong_ratio = luma.post("/luma/generations", json={**PROMPT, "aspect_ratio": "5:4"})
    assert wrong_ratio.status_code == 400 and "aspect_ratio" in wrong_ratio.json()["detail"]
    broken = luma.post("/luma/generations", content=b'{"user_prompt": ', headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["detail"]["code"] == 1 and broken.json()["detail"]["reason"]
    no_key = httpx.post(f"{BASE}/luma/generations", json=PROMPT)
    assert no_key.status_code == 401 and no_key.json()["error"]["message"]


@pytest.fixture
def listener():
    with CallbackListener(done=lambda body: body["state"] in ("completed", "failed")) as received:
        yield received.url, received


@pytest.mark.gptnb(clock="manual")
def test_notify_hook_receives_the_generation(luma, gptnb, listener) -> None:
    url, received = listener
    generation_id = submit(luma, body={**PROMPT, "notify_hook": url})["id"]
    gptnb.clock.advance(60)
    assert received.arrived.wait(10), received.received
    assert [b["state"] for b in received.received] == RELAY_STATES[-1:]  # once, when it finishes
    assert all(b["id"] == generation_id for b in received.received)
    assert received.received[-1]["video"]["url"]
    assert all(c.status == 200 for c in gptnb.callbacks)
