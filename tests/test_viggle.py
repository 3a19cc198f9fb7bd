"""Viggle (reverse web API) through the gptnb fixture: assets, templates, Mix / Multi / Move tasks, credits."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from mockserver import media

BASE = "https://goapi.gptnb.ai"


@pytest.fixture
def viggle(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}) as client:
        yield client


def ok(response: httpx.Response):
    assert response.status_code == 200, response.text
    envelope = response.json()
    assert (envelope["code"], envelope["message"]) == (0, "ok")
    return envelope["data"]


def upload_image(client: httpx.Client, width: int = 60, height: int = 80) -> dict:
    return ok(client.post("/viggle/asset/image", files={"file": ("hero.png", media.png(width, height, seed=3), "image/png")}))


def upload_video(client: httpx.Client, image_id: str) -> dict:
    return ok(client.post(f"/pro/viggle/asset/video/{image_id}", files={"file": ("dance.mp4", media.mp4(), "video/mp4")}))


def poll_until_done(client: httpx.Client, task_id: str, limit: int = 10) -> tuple[dict, list[int]]:
    seen = []
    for _ in range(limit):
        (task,) = ok(client.post("/viggle/video-task/by-ids", json={"ids": [task_id, "ignored"]}))
        seen.append(task["status"])
        if task["status"] in (0, 3):  # 0 is done (what real clients poll for), 3 failed
            return task, seen
    raise AssertionError(f"task {task_id} did not finish: {seen}")


def test_asset_uploads_report_what_was_uploaded(viggle) -> None:
    image = upload_image(viggle, 60, 80)
    assert (image["name"], image["width"], image["height"]) == ("hero", 60, 80)
    stored = Image.open(io.BytesIO(viggle.get(image["url"]).content))
    assert stored.format == "JPEG" and stored.size == (60, 80)
    video = upload_video(viggle, image["id"])
    assert video["name"] == "dance" and video["width"] > 0 and video["height"] > 0
    assert media.media_type_of(viggle.get(video["url"]).content) == "video/mp4"
    assert Image.open(io.BytesIO(viggle.get(video["coverURL"]).content)).size == (video["width"], video["height"])


@pytest.mark.gptnb(clock="step")
def test_mix_with_an_uploaded_video_ends_with_a_downloadable_mp4(viggle) -> None:
    image = upload_image(viggle)
    video = upload_video(viggle, image["id"])
    created = ok(viggle.post("/viggle/video-task", json={"imageID": image["id"], "videoID": video["id"], "bgMode": 2, "modelInfoID": 3}))
    task, seen = poll_until_done(viggle, created["taskID"])
    assert seen[0] == 1 and set(seen[:-1]) == {1} and seen[-1] == 0
    assert task["image"] == image and task["name"].startswith("hero")
    assert media.media_type_of(viggle.get(task["result"]).content) == "video/mp4"
    assert Image.open(io.BytesIO(viggle.get(task["resultCover"]).content)).format == "JPEG"


@pytest.mark.gptnb(clock="step")
def test_templates_drive_mix_and_multi_and_move_takes_a_video(viggle) -> None:
    tags = ok(viggle.get("/viggle/template2/tag"))
    assert {"Featured", "Trending"} <= {t["name"] for t in tags}
    page = ok(viggle.get("/viggle/template2", params={"page": 1, "pageSize": 5, "searchKeyword": "", "type": 0}))
    assert len(page) == 5 and len({t["id"] for t in page}) == 5
    assert ok(viggle.get("/viggle/template2", params={"page": 2, "pageSize": 5}))[0]["id"] not in {t["id"] for t in page}
    assert all("walk" in t["webCommand"] for t in ok(viggle.get("/viggle/template2", params={"searchKeyword": "walk"})))
    image = upload_image(viggle)
    mix = ok(viggle.post("/viggle/video-task", json={"imageID": image["id"], "templateID": page[0]["id"], "bgMode": 2, "modelInfoID": 3}))
    assert poll_until_done(viggle, mix["taskID"])[0]["template"]["id"] == page[0]["id"]

    multi = ok(viggle.get("/viggle/multi/template"))[0]
    assert len(multi["segments"]) >= 2
    mapping = {segment["uuid"]: upload_image(viggle)["id"] for segment in multi["segments"]}
    created = ok(viggle.post("/viggle/multi/video-task", json={"templateID": multi["id"], "characterMapping": mapping, "modelInfoID": 3}))
    assert poll_until_done(viggle, created["taskID"])[0]["status"] == 0

    video = upload_video(viggle, image["id"])
    move = ok(viggle.post("/viggle/move/video-task", json={"imageID": image["id"], "videoID": video["id"], "modelInfoID": 3}))
    assert poll_until_done(viggle, move["taskID"])[0]["result"]


@pytest.mark.gptnb(clock="step")
def test_failed_tasks_and_credits(viggle) -> None:
    before = ok(viggle.get("/viggle/credit"))
    image = upload_image(viggle)
    template = ok(viggle.get("/viggle/template2"))[0]["id"]
    created = ok(viggle.post("/viggle/video-task", json={"imageID": image["id"], "templateID": template, "bgMode": 2, "modelInfoID": 3, "note": "mock-fail"}))
    task, _ = poll_until_done(viggle, created["taskID"])
    assert task["status"] == 3 and task["result"] == ""
    after = ok(viggle.get("/pro/viggle/credit"))
    assert after["total"] == before["total"] and after["credit"] < before["credit"]


@pytest.mark.parametrize(
    ("path", "kwargs", "code"),
    [
        ("/viggle/video-task", {"json": {"imageID": "nope", "templateID": "nope", "bgMode": 2, "modelInfoID": 3}}, 40004),
        ("/viggle/video-task", {"json": {"imageID": "nope", "bgMode": 2, "modelInfoID": 3}}, 40001),
        ("/viggle/asset/image", {"files": {"file": ("a.png", b"not an image", "image/png")}}, 40001),
        ("/viggle/asset/video", {"files": {"file": ("a.mp4", media.png(8, 8), "video/mp4")}}, 40001),
        ("/viggle/asset/video/unknown-image", {"files": {"file": ("a.mp4", media.mp4(), "video/mp4")}}, 40004),
    ],
)
def test_errors_use_the_envelope_with_a_non_zero_code(viggle, path, kwargs, code) -> None:
    response = viggle.post(path, **kwargs)
    assert response.status_code == 400 and response.json()["code"] == code and response.json()["data"] is None


def test_by_ids_of_an_unknown_task_is_empty(viggle) -> None:
    assert ok(viggle.post("/viggle/video-task/by-ids", json={"ids": ["t0000001-1111-4222-8333-444455556666"]})) == []
