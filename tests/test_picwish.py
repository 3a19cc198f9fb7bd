"""PicWish (其他图像API1) through the gptnb fixture: multipart creates, integer states, results, errors."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import httpx
import pytest
from PIL import Image

from mockserver import media
from callback_listener import CallbackListener

BASE = "https://goapi.gptnb.ai"
RUNNING_STATES = {0, 2, 3, 4}
MASK_GROUP = "exactly one of mask_file, mask_url or rectangles is required"


@pytest.fixture
def pw(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}) as client:
        yield client


def upload(width: int = 640, height: int = 480, fmt: str = "png") -> dict:
    data = media.png(width, height, seed=7) if fmt == "png" else media.image(width, height, fmt, seed=7)
    return {"image_file": (f"photo.{fmt}", data, f"image/{fmt}")}


def create(client: httpx.Client, tool: str, form: dict, files: dict | None = None, kind: str = "visual") -> dict:
    response = client.post(f"/api/tasks/{kind}/{tool}", data=form, files=files)
    assert response.status_code == 200, response.text
    return response.json()


def poll_until_done(client: httpx.Client, tool: str, task_id: str, kind: str = "visual") -> tuple[dict, list[int]]:
    """The provider's polling loop (state 1 = done, < 0 = failed), without sleeps under the step clock."""
    states = []
    for _ in range(20):
        answer = client.get(f"/api/tasks/{kind}/{tool}/{task_id}").json()
        states.append(answer["data"]["state"])
        if answer["data"]["state"] == 1 or answer["data"]["state"] < 0:
            return answer["data"], states
    raise AssertionError(f"{tool} task {task_id} never finished: {states}")


def picture(client: httpx.Client, url: str) -> Image.Image:
    response = client.get(url)
    assert response.status_code == 200
    return Image.open(io.BytesIO(response.content))


@pytest.mark.gptnb(clock="step")
def test_segmentation_upload_flow_states_timestamps_and_links(pw) -> None:
    created = create(pw, "segmentation", {"output_type": "1", "crop": "1"}, upload(640, 480))
    assert created["status"] == 200 and created["message"] == "success"
    task_id = created["data"]["task_id"]
    assert len(task_id) == 36 and task_id[14] == "4"  # UUID v4
    data, states = poll_until_done(pw, "segmentation", task_id)
    assert set(states[:-1]) <= RUNNING_STATES and states[-1] == 1 and data["progress"] == 100
    assert data["created_at"] <= data["processed_at"] <= data["completed_at"] and data["state_detail"] == "Complete"
    assert data["created_at"] < 10**10  # Unix seconds, not milliseconds
    rect = data["foreground_rect"]
    assert 0 < rect["width"] <= 640 and 0 < rect["height"] <= 480
    cut, mask = picture(pw, data["image"]), picture(pw, data["mask"])
    assert cut.format == mask.format == "PNG" and cut.size == mask.size == (rect["width"], rect["height"])
    assert cut.size == (data["image_width"], data["image_height"])
    expires = int(httpx.URL(data["image"]).params["Expires"])
    assert expires == data["completed_at"] + 3600  # signed links live one hour


@pytest.mark.gptnb(clock="step")
@pytest.mark.parametrize(
    ("tool", "form", "size", "fmt"),
    [
        ("scale", {"scale_factor": "2", "type": "face"}, (640, 480), "PNG"),
        ("scale", {}, (1280, 960), "PNG"),  # auto factor: a side <= 512 px is enlarged 4x
        ("inpaint", {"rectangles": json.dumps([{"x": 4, "y": 4, "width": 20, "height": 10}])}, (320, 240), "JPEG"),
        ("idphoto", {"size": "295x413", "format": "jpg", "bg_color": "438EDB"}, (295, 413), "JPEG"),
        ("colorization", {"format": "webp"}, (320, 240), "WEBP"),
        ("imgcompress", {"format": "webp", "quality": "70", "width": "160"}, (160, 120), "WEBP"),
        ("correction", {"type": "2"}, (320, 240), "JPEG"),
    ],
)
def test_each_tool_hands_out_a_real_picture_of_the_right_size_and_format(pw, tool, form, size, fmt) -> None:
    task_id = create(pw, tool, form, upload(320, 240))["data"]["task_id"]
    data, _ = poll_until_done(pw, tool, task_id)
    result = picture(pw, data["image"])
    assert (result.format, result.size) == (fmt, size)


@pytest.mark.gptnb(clock="step")
def test_background_generation_fills_batch_size_slots_from_an_url(pw) -> None:
    form = {"image_url": "https://example.org/in/bottle.png", "prompt": "marble countertop", "batch_size": "3"}
    task_id = create(pw, "r-background", form)["data"]["task_id"]
    data, _ = poll_until_done(pw, "r-background", task_id)
    assert data["image_4"] == "" and data["download_time"] >= 0
    shots = [picture(pw, data[f"image_{i}"]) for i in (1, 2, 3)]
    assert all(s.format == "JPEG" and s.size == shots[0].size for s in shots)
    assert pw.get(f"/api/tasks/visual/background/{task_id}").json()["data"]["state"] == 1  # the newer path


@pytest.mark.gptnb(clock="step")
@pytest.mark.parametrize("fmt", ["txt", "pdf", "docx", "xlsx"])
def test_ocr_returns_a_document_link_not_text(pw, fmt) -> None:
    files = {"image_file": ("invoice.png", media.png(200, 100, seed=2), "image/png")}
    task_id = create(pw, "ocr", {"format": fmt, "language": "English,Digits", "sync": "1"}, files, kind="document")["data"]["task_id"]
    data, states = poll_until_done(pw, "ocr", task_id, kind="document")
    assert len(states) > 1 and "image" not in data and "text" not in data  # async only, and a file, no text blocks
    document = pw.get(data["file"])
    assert document.status_code == 200
    if fmt == "txt":
        assert "English,Digits" in document.text
    elif fmt == "pdf":
        assert document.content.startswith(b"%PDF-") and document.content.rstrip().endswith(b"%%EOF")
    else:
        assert "[Content_Types].xml" in zipfile.ZipFile(io.BytesIO(document.content)).namelist()


def test_sync_answers_the_result_base64_or_the_bytes(pw) -> None:
    result = create(pw, "idphoto", {"sync": "1", "size": "300x400", "return_type": "2"}, upload(320, 240))["data"]
    assert result["state"] == 1 and result["return_type"] == 2
    assert Image.open(io.BytesIO(base64.b64decode(result["image"]))).size == (300, 400)
    raw = pw.post("/api/tasks/visual/colorization", data={"sync": "1", "return_type": "3", "format": "png"}, files=upload(120, 90, "jpeg"))
    assert raw.headers["content-type"] == "image/png" and Image.open(io.BytesIO(raw.content)).size == (120, 90)
    form = {"image_url": "https://example.org/a.jpg", "sync": "1"}
    by_key = httpx.post(f"{BASE}/api/tasks/visual/scale", headers={"X-API-KEY": "sk-test"}, data=form)
    assert by_key.json()["data"]["state"] == 1  # the upstream's own header works too


@pytest.mark.gptnb(clock="step")
def test_failures_are_negative_states_in_http_200(pw, gptnb) -> None:
    not_an_image = create(pw, "scale", {}, {"image_file": ("notes.txt", b"plain text", "text/plain")})["data"]["task_id"]
    data, _ = poll_until_done(pw, "scale", not_an_image)
    assert data["state"] == -7 and data["err_info"]
    marked = create(pw, "correction", {"image_url": "https://example.org/mock-fail.jpg", "sync": "1"})
    assert marked["data"]["state"] < 0 and "image" not in marked["data"]
    task_id = create(pw, "inpaint", {"mask_url": "https://example.org/m.png"}, upload())["data"]["task_id"]
    gptnb.tasks.fail(task_id, "operator says no")
    failed = pw.get(f"/api/tasks/visual/inpaint/{task_id}").json()["data"]
    assert failed["state"] == -1 and failed["err_info"] == "operator says no"


@pytest.mark.parametrize(
    ("path", "form", "status", "message"),
    [
        ("/api/tasks/visual/segmentation", {"sync": "0"}, 400, "image_file or image_url is required"),
        ("/api/tasks/visual/inpaint", {"image_url": "https://e.org/a.jpg"}, 400, MASK_GROUP),
        ("/api/tasks/visual/inpaint", {"image_url": "https://e.org/a.jpg", "rectangles": "[{\"x\": -1}]"}, 400, None),
        ("/api/tasks/visual/imgcompress", {"image_url": "https://e.org/a.jpg", "quality": "50", "kbyte": "100"}, 400, None),
        ("/api/tasks/visual/idphoto", {"image_url": "https://e.org/a.jpg", "size": "50x9999"}, 400, None),
        ("/api/tasks/visual/scale", {"image_url": "https://e.org/a.jpg", "return_type": "3"}, 400, None),
        ("/api/tasks/visual/segmentation", {"image_url": "https://e.org/a.jpg", "sync": "yes"}, 400, None),
        ("/api/tasks/visual/r-background", {"image_url": "https://e.org/a.jpg"}, 400, "prompt or scene_type is required"),
    ],
)
def test_bad_parameters_get_picwish_400(pw, path, form, status, message) -> None:
    response = pw.post(path, data=form)
    body = response.json()
    assert response.status_code == status and body["status"] == status and body["message"]
    assert message is None or body["message"] == message


def test_unknown_task_and_missing_key(pw) -> None:
    unknown = pw.get("/api/tasks/visual/scale/task_id")  # the docs' literal placeholder
    assert (unknown.status_code, unknown.json()) == (404, {"status": 404, "message": "task not found"})
    other_tool = pw.post("/api/tasks/visual/scale", data={"image_url": "https://e.org/a.jpg"}).json()["data"]["task_id"]
    assert pw.get(f"/api/tasks/visual/colorization/{other_tool}").status_code == 404
    no_key = httpx.post(f"{BASE}/api/tasks/visual/scale", data={"image_url": "https://e.org/a.jpg"})
    assert no_key.status_code == 401 and "error" in no_key.json()


@pytest.fixture
def listener():
    with CallbackListener(done=lambda body: body["data"]["state"] == 1 or body["data"]["state"] < 0) as received:
        yield received.url, received


@pytest.mark.gptnb(clock="manual")
def test_callback_posts_the_result_object_on_every_state(pw, gptnb, listener) -> None:
    url, received = listener
    task_id = create(pw, "colorization", {"callback_url": url}, upload(160, 120))["data"]["task_id"]
    gptnb.clock.advance(10)
    assert received.arrived.wait(10), received.received
    states = [b["data"]["state"] for b in received.received]
    assert states[-1] == 1 and set(states[:-1]) <= RUNNING_STATES
    assert all(b["status"] == 200 and b["data"]["task_id"] == task_id for b in received.received)
    assert picture(pw, received.received[-1]["data"]["image"]).size == (160, 120)
