"""The relay's unified video routes: OpenAI's /v1/videos through the SDK, new-api's /v1/video/generations raw.

Tasks move on the clocks like every other family's; a finished video downloads as a real MP4 (its
``ftyp`` box and media type are checked), an unfinished one is refused with the relay's message.
"""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from openai_helpers import AUTH, BASE, CLIENT_MODULES, sdk

from mockserver import media

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API is scheduled:DeprecationWarning")


@pytest.fixture
def client(gptnb: Any) -> openai.OpenAI:
    return sdk(gptnb)


def is_mp4(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and media.media_type_of(data) == "video/mp4"


@pytest.mark.gptnb(clock="manual")
def test_a_video_job_runs_on_the_clock_and_downloads_as_mp4(gptnb: Any, client: openai.OpenAI) -> None:
    video = client.videos.create(prompt="A calico cat playing a piano", model="sora-2", seconds="8", size="1280x720")
    assert video.id.startswith("task_") and video.status == "queued" and video.progress == 0
    assert (video.model, video.seconds, video.size) == ("sora-2", "8", "1280x720")
    with pytest.raises(openai.BadRequestError) as early:
        client.videos.download_content(video.id)
    assert "not completed" in early.value.message
    seen = []
    for _ in range(5):
        gptnb.clock.advance(2)
        current = client.videos.retrieve(video.id)
        seen.append((current.status, current.progress))
    assert seen == [("in_progress", 10), ("in_progress", 45), ("in_progress", 80), ("completed", 100), ("completed", 100)]
    assert current.completed_at > current.created_at and current.expires_at > current.completed_at
    assert current.prompt == "A calico cat playing a piano" and current.error is None
    download = client.videos.download_content(video.id)
    assert is_mp4(download.read())


@pytest.mark.gptnb(clock="step")
def test_create_and_poll_finishes_without_sleeping(client: openai.OpenAI) -> None:
    done = client.videos.create_and_poll(prompt="Waves at dusk", poll_interval_ms=1)
    assert done.status == "completed" and done.model == "sora-2" and done.size == "720x1280" and done.seconds == "4"


@pytest.mark.gptnb(clock="step")
def test_a_failing_video_says_why_everywhere(gptnb: Any, client: openai.OpenAI) -> None:
    video = client.videos.create(prompt="mock-fail please")
    final = client.videos.poll(video.id, poll_interval_ms=1)
    assert final.status == "failed" and "mock-fail" in final.error.message
    task = httpx.get(f"{BASE}/v1/video/generations/{video.id}", headers=AUTH).json()["data"]
    assert task["status"] == "FAILURE" and "mock-fail" in task["fail_reason"] and task["result_url"] == ""
    with pytest.raises(openai.BadRequestError):
        client.videos.download_content(video.id)


def test_an_input_reference_must_be_an_image_of_the_asked_size(client: openai.OpenAI) -> None:
    fitting = ("first-frame.png", media.png(720, 1280, seed=4), "image/png")
    assert client.videos.create(prompt="Animate this", input_reference=fitting, size="720x1280").status == "queued"
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.create(prompt="Animate this", input_reference=("small.png", media.png(64, 64), "image/png"), size="720x1280")
    assert caught.value.body["code"] == "invalid_request" and "720x1280" in caught.value.body["message"]


def test_list_remix_and_delete(gptnb: Any, client: openai.OpenAI) -> None:
    first = client.videos.create(prompt="One")
    second = client.videos.create(prompt="Two")
    other_key = openai.OpenAI(base_url=gptnb.openai_base_url, api_key="sk-someone-else", max_retries=0)
    other_key.videos.create(prompt="Not yours")
    assert [v.id for v in client.videos.list().data] == [second.id, first.id]
    page = client.videos.list(order="asc", limit=1)
    assert [v.id for v in page.data] == [first.id] and page.has_more
    assert [v.id for v in client.videos.list(order="asc", after=first.id).data] == [second.id]
    remixed = client.videos.remix(first.id, prompt="One, but at night")
    assert remixed.remixed_from_video_id == first.id and remixed.id not in (first.id, second.id)
    with pytest.raises(openai.BadRequestError):
        client.videos.delete(first.id)  # still rendering
    gptnb.tasks.complete(first.id)
    assert client.videos.delete(first.id).deleted is True
    assert first.id not in [v.id for v in client.videos.list().data]
    with pytest.raises(openai.BadRequestError) as gone:
        client.videos.retrieve(first.id)
    assert gone.value.body == {"code": "task_not_exist", "message": "task_not_exist", "data": None}
    with pytest.raises(openai.NotFoundError):
        client.videos.delete(first.id)
    with pytest.raises(openai.BadRequestError) as unknown:
        client.videos.remix("task_nope", prompt="x")
    assert unknown.value.body["code"] == "task_not_exist"


@pytest.mark.gptnb(clock="step")
@CLIENT_MODULES
def test_the_unified_route_answers_in_new_api_task_shapes(gptnb: Any, client_module: Any) -> None:
    with client_module.Client(headers=AUTH) as http:
        body = {"model": "kling-v1", "prompt": "A fox running through snow", "duration": 5, "width": 1280, "height": 720}
        submitted = http.post(f"{BASE}/v1/video/generations", json=body).json()
        assert submitted["id"] == submitted["task_id"] and submitted["object"] == "video" and submitted["status"] == "queued"
        polls = [http.get(f"{BASE}/v1/video/generations/{submitted['task_id']}").json() for _ in range(6)]
        assert all(p["code"] == "success" for p in polls)
        tasks = [p["data"] for p in polls]
        assert [t["status"] for t in tasks] == ["SUBMITTED", "IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "SUCCESS", "SUCCESS"]
        assert [t["progress"] for t in tasks[:5]] == ["0%", "10%", "45%", "80%", "100%"]
        done = tasks[-1]
        assert done["finish_time"] >= done["start_time"] >= done["submit_time"] > 0 and done["data"]["size"] == "1280x720" and done["data"]["seconds"] == "5"
        assert done["result_url"].endswith(f"/v1/videos/{done['task_id']}/content")
        downloaded = http.get(done["result_url"])
        assert downloaded.headers["content-type"] == "video/mp4" and is_mp4(downloaded.content)
        assert http.get(f"{BASE}/v1/videos/{done['task_id']}").json()["status"] == "completed"
        missing = http.get(f"{BASE}/v1/video/generations/task_unknown")
        assert missing.status_code == 400 and missing.json() == {"code": "task_not_exist", "message": "task_not_exist", "data": None}
        refused = http.post(f"{BASE}/v1/video/generations", json={"model": "kling-v1"})
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_request" and "prompt" in refused.json()["message"]


def test_steering_and_the_journal_work_on_video_routes(gptnb: Any, client: openai.OpenAI) -> None:
    gptnb.route("openai.videos.create").fail(429, times=1)
    with pytest.raises(openai.RateLimitError):
        client.videos.create(prompt="Busy")
    video = client.videos.create(prompt="Now")
    assert gptnb.calls.last.contract_id == "openai.videos.create" and gptnb.calls.last.body["prompt"] == "Now"
    assert gptnb.tasks.get(video.id).status == "SUBMITTED"
    gptnb.tasks.fail(video.id, "content policy")
    assert client.videos.retrieve(video.id).error.message == "content policy"
    with pytest.raises(openai.InternalServerError) as no_channel:
        client.videos.create(prompt="x", model="sora-9")
    assert no_channel.value.status_code == 503


def test_the_sdk_drives_videos_against_the_live_server(gptnb_server: Any) -> None:
    client = openai.OpenAI(base_url=f"{gptnb_server.url}/v1", api_key="sk-live", max_retries=0)
    video = client.videos.create(prompt="Over a socket")
    gptnb_server.tasks.complete(video.id)
    assert client.videos.retrieve(video.id).status == "completed"
    assert is_mp4(client.videos.download_content(video.id).read())


def test_the_unified_route_reads_go_zero_values_as_not_given(gptnb: Any) -> None:
    body = {"model": "kling-v1", "prompt": "A lantern", "image": "", "duration": 0, "width": 0, "height": 0, "metadata": None}
    answer = httpx.post(f"{BASE}/v1/video/generations", json=body, headers=AUTH)
    assert answer.status_code == 200 and (answer.json()["seconds"], answer.json()["size"]) == ("4", "720x1280")
    assert httpx.post(f"{BASE}/v1/video/generations", json={**body, "prompt": ""}, headers=AUTH).json()["code"] == "invalid_request"
