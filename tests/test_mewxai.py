"""MewXAI (其他图像API2) through the gptnb fixture: art QR codes that scan, generations, lists, callbacks, errors."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
import segno
import zxingcpp
from PIL import Image
from callback_listener import CallbackListener

BASE = "https://goapi.gptnb.ai"
HOOK = "http://127.0.0.1:9/unused"  # a port nobody listens on: deliveries fail quietly
FUSED_WITH_OWN_NEGATIVES = {
    "ratio": 1, "prompt": "fox", "extra_model": [{"id": "lora_1024", "weight": 0.6}], "negative_type": 2, "negative_prompt": "lowres",
}


@pytest.fixture
def mx(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}) as client:
        yield client


def generate(client: httpx.Client, path: str, body: dict) -> str:
    answer = client.post(path, json=body).json()
    assert answer["code"] == 0, answer
    assert len(answer["data"]["img_uuid"]) == 32
    return answer["data"]["img_uuid"]


def wait_for(client: httpx.Client, img_uuid: str) -> tuple[dict, list[int]]:
    """A client's 查询详情 loop: 1 done, -1 failed, anything else still running (no sleeps, step clock)."""
    seen = []
    for _ in range(10):
        answer = client.get("/api/v1/images/detail", params={"img_uuid": img_uuid}).json()
        assert answer["code"] == 0, answer
        seen.append(answer["data"]["status"])
        if answer["data"]["status"] in (1, -1):
            return answer["data"], seen
    raise AssertionError(f"{img_uuid} never finished: {seen}")


def download(client: httpx.Client, url: str) -> Image.Image:
    response = httpx.get(url)  # the CDN needs no key
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def scanned(picture: Image.Image) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(picture)]


@pytest.mark.gptnb(clock="step")
@pytest.mark.parametrize(
    ("body", "size"),
    [
        ({"prompt": "ink-wash mountains, misty river", "negative_prompt": "text", "model": "69"}, (1024, 1024)),
        ({"prompt": "ink-wash mountains --v 3 --iw 0.3 --shape tiny-plus --ar 16:9", "model": "70"}, (1024, 576)),
        ({"prompt": "candy colors --iw 1 --ar 2:3", "model": "51"}, (683, 1024)),
        ({"template_id": 54}, (1024, 1024)),
        ({"template_id": "3", "prompt": "--iw 0.5"}, (1024, 1024)),
        # cnaiart/Chat-Painting-System's client posts every field, "" for those its mode does not use
        ({"prompt": "koi pond, ink wash ", "negative_prompt": "", "model": "67", "qr_image": "", "template_id": ""}, (1024, 1024)),
        ({"prompt": "", "negative_prompt": "", "model": "", "qr_image": "", "template_id": "3"}, (1024, 1024)),
    ],
)
def test_art_qr_codes_scan_as_the_requested_content(mx, body, size) -> None:
    content = "https://example.org/menu?table=12"
    img_uuid = generate(mx, "/api/v1/images/generate", {"qr_content": content, **body})
    data, seen = wait_for(mx, img_uuid)
    assert seen[0] == 0 and seen[-1] == 1 and data["duration"] >= 1 and data["cost"] > 0
    picture = download(mx, data["urls"][0])
    assert picture.size == size and scanned(picture) == [content]


@pytest.mark.gptnb(clock="step")
def test_uploaded_qr_image_keeps_its_content(mx) -> None:
    buffer = io.BytesIO()
    segno.make("WIFI:S:guest;T:WPA;P:secret;;", error="h").save(buffer, kind="png", scale=5)
    body = {"qr_image": base64.b64encode(buffer.getvalue()).decode(), "prompt": "cartoon city", "model": "67"}
    img_uuid = generate(mx, "/api/v1/images/generate", body)
    data, _ = wait_for(mx, img_uuid)
    assert scanned(download(mx, data["urls"][0])) == ["WIFI:S:guest;T:WPA;P:secret;;"]


@pytest.mark.gptnb(clock="step")
@pytest.mark.parametrize(
    ("path", "body", "size"),
    [
        ("/api/v1/images/shadow/generate", {"text": "福", "prompt": "golden light --ar 1:1", "model": "67"}, (1024, 1024)),
        ("/api/v1/images/shadow/generate", {"qr_content": "春", "template_id": 211}, (1024, 1024)),
        ("/api/v1/images/neuralstyle/generate", {"image": "https://example.org/in/portrait.jpg", "template_id": 12}, (1024, 1024)),
        ("/api/v1/images/cute/generate", {"args": {"ratio": 3, "prompt": "a chibi fox"}}, (1536, 864)),
        ("/api/v1/mx/images/cute/generate", {"args": {"ratio": 2, "prompt": "a chibi fox", "upscaler": 4}}, (1296, 2304)),
        ("/api/v1/images/cute/generate", {"args": {"ratio": 1, "prompt": "a chibi fox", "width": 1280, "height": 720}}, (1280, 720)),
        ("/api/v1/images/cute/generate", {"args": FUSED_WITH_OWN_NEGATIVES}, (1536, 1536)),
    ],
)
def test_generations_hand_out_real_pictures(mx, path, body, size) -> None:
    body = {"callback_url": HOOK, **body} if "cute" in path else body
    data, _ = wait_for(mx, generate(mx, path, body))
    picture = download(mx, data["urls"][0])
    assert picture.format == "PNG" and picture.size == size


@pytest.mark.gptnb(clock="step")
def test_failures_are_status_minus_one(mx, gptnb) -> None:
    cute = "/api/v1/images/cute/generate"
    audited = generate(mx, cute, {"args": {"ratio": 1, "prompt": "nsfw poster", "audit": 1}, "callback_url": HOOK})
    data, _ = wait_for(mx, audited)
    assert data["status"] == -1 and "urls" not in data
    unaudited = generate(mx, cute, {"args": {"ratio": 1, "prompt": "nsfw poster", "audit": 0}, "callback_url": HOOK})
    assert wait_for(mx, unaudited)[0]["status"] == 1
    marked = generate(mx, "/api/v1/images/generate", {"qr_content": "x", "template_id": 3, "prompt": "mock-fail"})
    assert wait_for(mx, marked)[0]["status"] == -1
    by_test = generate(mx, "/api/v1/images/generate", {"qr_content": "x", "template_id": 3})
    gptnb.tasks.fail(by_test, "operator says no")
    assert wait_for(mx, by_test)[0]["status"] == -1
    assert httpx.get(f"{BASE}/mewx/cdn/images/result/{by_test}.png").status_code == 404


def test_template_and_model_lists(mx) -> None:
    templates = mx.get("/api/v1/template/list", params={"type": "qrcode"}).json()
    assert templates["code"] == 0 and {3, 54} <= {t["id"] for t in templates["data"]}
    assert all(isinstance(t["points"], int) and t["is_vip"] in (0, 1, 2) for t in templates["data"])
    preview = Image.open(io.BytesIO(httpx.get(templates["data"][0]["preview_img"]).content))
    assert preview.format == "JPEG"
    models = mx.get("/api/v1/model/list", params={"type": "qrcode"}).json()["data"]
    assert {67, 51, 69, 70, 74} == {m["id"] for m in models} and all(m["name"] for m in models)
    assert mx.get("/api/v1/template/list", params={"type": "nothing-like-this"}).json() == {"code": 0, "message": "success", "data": []}


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/api/v1/images/generate", {"prompt": "x", "model": "69"}, 400),  # neither qr_content nor qr_image
        ("/api/v1/images/generate", {"qr_content": "x", "prompt": "x"}, 400),  # custom mode without model
        ("/api/v1/images/generate", {"qr_content": "x", "prompt": "x", "model": "9999"}, 404),
        ("/api/v1/images/generate", {"qr_content": "x", "template_id": 99999}, 404),
        ("/api/v1/images/generate", {"qr_content": "x", "prompt": "x --iw 7", "model": "69"}, 400),
        ("/api/v1/images/generate", {"qr_image": "@@not-base64@@", "prompt": "x", "model": "69"}, 400),
        ("/api/v1/images/generate", {"qr_content": 12, "template_id": 3}, 400),
        ("/api/v1/images/generate", {"qr_content": "", "qr_image": "", "template_id": "3"}, 400),  # "" is not given: no QR at all
        ("/api/v1/images/shadow/generate", {"text": "福"}, 400),
        ("/api/v1/images/neuralstyle/generate", {"template_id": 12}, 400),
        ("/api/v1/images/cute/generate", {"args": {"ratio": 9, "prompt": "x"}, "callback_url": HOOK}, 400),
        ("/api/v1/images/cute/generate", {"args": {"ratio": 1, "prompt": "x", "negative_type": 2}, "callback_url": HOOK}, 400),
    ],
)
def test_business_errors_come_in_http_200(mx, path, body, code) -> None:
    response = mx.post(path, json=body)
    answer = response.json()
    assert response.status_code == 200 and answer["code"] == code and answer["message"] and answer["data"] is None


def test_unreadable_requests_unknown_ids_and_missing_key(mx) -> None:
    malformed = mx.post("/api/v1/images/generate", content=b'{"qr_content": ', headers={"content-type": "application/json"})
    assert malformed.status_code == 200 and malformed.json()["code"] == 400
    unknown = mx.get("/api/v1/images/detail", params={"img_uuid": "0" * 32})
    assert unknown.status_code == 200 and unknown.json() == {"code": 404, "message": "图片不存在", "data": None}
    no_key = httpx.post(f"{BASE}/api/v1/images/generate", json={"qr_content": "x", "template_id": 3})
    assert no_key.status_code == 401 and "error" in no_key.json()


@pytest.fixture
def listener():
    with CallbackListener(done=lambda body: body["status"] in (1, -1)) as received:
        yield received.url, received


@pytest.mark.gptnb(clock="manual")
def test_callback_posts_img_uuid_status_and_urls(mx, gptnb, listener) -> None:
    url, received = listener
    content = "https://example.org/callback-qr"
    img_uuid = generate(mx, "/api/v1/images/generate", {"qr_content": content, "prompt": "ink-wash", "model": "69", "callback_url": url})
    gptnb.clock.advance(10)
    assert received.arrived.wait(10), received.received
    final = received.received[-1]
    assert final["img_uuid"] == img_uuid and final["status"] == 1 and final["cost"] > 0
    assert [b["status"] for b in received.received] == [0, 1]
    assert scanned(download(mx, final["urls"][0])) == [content]
    assert all(c.status == 200 for c in gptnb.callbacks)
