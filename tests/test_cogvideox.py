"""CogVideoX (官方格式) through the gptnb fixture: generate, poll async-result, download, errors."""

from __future__ import annotations

import io

import httpx
import pytest
import zhipuai
from PIL import Image

from mockserver.media import media_type_of

BASE = "https://goapi.gptnb.ai"
DONE = ("SUCCESS", "FAIL")


@pytest.fixture
def cog(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}) as client:
        yield client


def generate(client: httpx.Client, body: dict) -> dict:
    response = client.post("/cogvideox/v4/videos/generations", json=body)
    assert response.status_code == 200, response.text
    task = response.json()
    assert task["task_status"] == "PROCESSING" and task["model"] == body["model"]
    assert task["id"].isdigit() and len(task["id"]) >= 30 and task["id"] != task["request_id"]
    return task


def poll_until_done(client: httpx.Client, task_id: str, limit: int = 10) -> tuple[dict, list[str]]:
    """A client's polling loop, without sleeps: under the step clock every query moves the task."""
    seen = []
    for _ in range(limit):
        result = client.get(f"/cogvideox/v4/async-result/{task_id}").json()
        seen.append(result["task_status"])
        if result["task_status"] in DONE:
            return result, seen
    raise AssertionError(f"task {task_id} did not finish: {seen}")


@pytest.mark.gptnb(clock="step")
def test_generate_then_poll_until_a_downloadable_mp4(cog) -> None:
    task = generate(cog, {"model": "cogvideox-2", "prompt": "A paper lantern drifting over a night river", "size": "1280x720", "duration": 5})
    assert task["request_id"].isdigit()
    result, seen = poll_until_done(cog, task["id"])
    assert seen[0] == "PROCESSING" and seen[-1] == "SUCCESS" and set(seen[:-1]) == {"PROCESSING"}
    assert "id" not in result and result["request_id"] == task["request_id"] and result["model"] == "cogvideox-2"
    (video,) = result["video_result"]
    assert media_type_of(cog.get(video["url"]).content) == "video/mp4"
    cover = Image.open(io.BytesIO(cog.get(video["cover_image_url"]).content))
    assert cover.format == "PNG" and cover.size == (1280, 720)


@pytest.mark.gptnb(clock="step")
def test_image_to_video_echoes_the_clients_request_id(cog) -> None:
    task = generate(cog, {"model": "cogvideox", "image_url": ["https://example.com/first.png", "https://example.com/last.png"], "request_id": "my-req-1"})
    assert task["request_id"] == "my-req-1"
    result, _ = poll_until_done(cog, task["id"])
    assert result["task_status"] == "SUCCESS" and result["request_id"] == "my-req-1"


@pytest.mark.gptnb(clock="step")
def test_a_failed_task_carries_only_its_status(cog) -> None:
    task = generate(cog, {"model": "cogvideox-flash", "prompt": "a cat mock-fail"})
    result, seen = poll_until_done(cog, task["id"])
    assert seen[-1] == "FAIL" and "video_result" not in result


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"model": "cogvideox-2"}, "1213"),  # neither prompt nor image_url
        ({"prompt": "no model"}, "1213"),
        ({"model": "cogvideox-2", "prompt": "x" * 513}, "1214"),
        ({"model": "cogvideox-2", "prompt": "x", "fps": 24}, "1214"),
        ({"model": "cogvideox-2", "prompt": "x", "duration": "5"}, "1214"),
    ],
)
def test_invalid_bodies_get_zhipu_codes_as_strings(cog, body, code) -> None:
    response = cog.post("/cogvideox/v4/videos/generations", json=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == code and response.json()["error"]["message"]


def test_unreadable_body_unknown_id_and_unknown_model(cog) -> None:
    unreadable = cog.post("/cogvideox/v4/videos/generations", content=b"{", headers={"Content-Type": "application/json"})
    assert (unreadable.status_code, unreadable.json()["error"]["code"]) == (400, "1210")
    unknown = cog.get("/cogvideox/v4/async-result/270918341550126300000000000000000000")
    assert unknown.status_code == 404 and unknown.json() == {"error": {"code": "1214", "message": "id 参数非法。请检查文档"}}
    no_channel = cog.post("/cogvideox/v4/videos/generations", json={"model": "cogvideox-9", "prompt": "x"})
    assert no_channel.status_code == 503 and "cogvideox-9" in no_channel.json()["error"]["message"]


@pytest.mark.gptnb(clock="step")
def test_zhipus_own_sdk_sends_unset_options_as_null_and_reads_the_result(gptnb) -> None:
    """zhipuai (Zhipu's SDK) puts every keyword in the body, so the options left unset go out as null; the
    contract reads null as not given, so the call is accepted and the SDK's VideoObject is filled."""
    client = zhipuai.ZhipuAI(api_key="sk-test", base_url=BASE + "/cogvideox/v4", max_retries=0)
    created = client.videos.generations(model="cogvideox", prompt="a hummingbird over a red flower")
    sent = gptnb.calls.last.body
    assert sent["image_url"] is None and sent["fps"] is None and sent["model"] == "cogvideox"
    assert created.task_status == "PROCESSING" and created.id.isdigit()
    for _ in range(10):
        result = client.videos.retrieve_videos_result(id=created.id)
        if result.task_status in DONE:
            break
    assert result.task_status == "SUCCESS" and result.model == "cogvideox"
    (video,) = result.video_result
    assert media_type_of(httpx.get(video.url).content) == "video/mp4"
    assert media_type_of(httpx.get(video.cover_image_url).content) in ("image/png", "image/jpeg")
