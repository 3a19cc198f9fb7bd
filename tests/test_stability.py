"""Stable Diffusion (Stability's API under /sd) through the gptnb fixture: bytes or JSON, formats, sizes, errors."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
from PIL import Image

from mockserver import media

BASE = "https://goapi.gptnb.ai"
ULTRA = "/sd/v2beta/stable-image/generate/ultra"
CORE = "/sd/v2beta/stable-image/generate/core"
SD3 = "/sd/v2beta/stable-image/generate/sd3"
SDXL = "/sd/v1/generation/stable-diffusion-xl-1024-v1-0/text-to-image"
NO_FILE = {"none": ("", b"")}  # how Stability's own examples force multipart without a file


@pytest.fixture
def sd(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}, timeout=30) as client:
        yield client


def _picture(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


@pytest.mark.parametrize(("fmt", "pil_format"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_ultra_answers_raw_bytes_of_the_requested_format(sd, fmt, pil_format) -> None:
    response = sd.post(ULTRA, headers={"accept": "image/*"}, data={"prompt": "a red paper kite", "output_format": fmt}, files=NO_FILE)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"image/{fmt}"
    assert response.headers["finish-reason"] == "SUCCESS" and response.headers["seed"].isdigit() and int(response.headers["seed"]) > 0
    assert len(response.headers["x-request-id"]) == 32
    picture = _picture(response.content)
    assert picture.format == pil_format and picture.size == (1024, 1024)  # default 1:1 at about 1 MP


@pytest.mark.parametrize(("ratio", "wide"), [("16:9", True), ("21:9", True), ("2:3", False), ("9:21", False)])
def test_aspect_ratio_gives_the_frame_shape(sd, ratio, wide) -> None:
    response = sd.post(ULTRA, headers={"accept": "application/json"}, data={"prompt": "dune", "aspect_ratio": ratio, "seed": "42"}, files=NO_FILE)
    answer = response.json()
    assert response.headers["content-type"] == "application/json; type=image/png"
    assert answer["finish_reason"] == "SUCCESS" and answer["seed"] == 42 and "finish-reason" not in response.headers
    picture = _picture(base64.b64decode(answer["image"]))
    w, h = (int(n) for n in ratio.split(":"))
    assert (picture.width > picture.height) is wide
    assert abs(picture.width / picture.height - w / h) < 0.1
    assert picture.width % 64 == 0 and picture.height % 64 == 0
    assert 0.8e6 < picture.width * picture.height < 1.3e6


def test_core_is_bigger_and_sd3_image_to_image_keeps_the_start_shape(sd) -> None:
    core = sd.post(CORE, headers={"accept": "application/json"}, data={"prompt": "greenhouse", "style_preset": "isometric"}, files=NO_FILE).json()
    core_picture = _picture(base64.b64decode(core["image"]))
    assert core_picture.width * core_picture.height > 1.3e6  # about 1.5 MP
    start = media.image(800, 400, "jpeg", seed=9)
    response = sd.post(
        SD3,
        headers={"accept": "application/json"},
        data={"prompt": "same street, snow", "mode": "image-to-image", "strength": "0.65", "model": "sd3-large-turbo", "output_format": "jpeg"},
        files={"image": ("street.jpg", start, "image/jpeg")},
    )
    picture = _picture(base64.b64decode(response.json()["image"]))
    assert picture.format == "JPEG" and abs(picture.width / picture.height - 2) < 0.15


def test_sdxl_v1_artifacts_and_raw_png(sd) -> None:
    body = {"text_prompts": [{"text": "a brass astrolabe", "weight": 1}, {"text": "blurry", "weight": -1}], "width": 1344, "height": 768, "samples": 2, "seed": 0}
    artifacts = sd.post(SDXL, json=body).json()["artifacts"]
    assert len(artifacts) == 2 and {a["finishReason"] for a in artifacts} == {"SUCCESS"}
    assert artifacts[0]["seed"] != artifacts[1]["seed"]
    for artifact in artifacts:
        picture = _picture(base64.b64decode(artifact["base64"]))
        assert picture.format == "PNG" and picture.size == (1344, 768)
    raw = sd.post(SDXL, headers={"accept": "image/png"}, json={**body, "samples": 1})
    assert raw.headers["content-type"] == "image/png" and raw.headers["finish-reason"] == "SUCCESS" and raw.headers["seed"].isdigit()
    assert _picture(raw.content).size == (1344, 768)


def _v2_error(response: httpx.Response, status: int, name: str, field: str) -> None:
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"id", "name", "errors"} and len(body["id"]) == 32
    assert body["name"] == name and body["errors"][0].startswith(f"{field}:")


def test_v2beta_errors_are_stabilitys_own(sd) -> None:
    _v2_error(sd.post(ULTRA, data={"prompt": ""}, files=NO_FILE), 400, "bad_request", "prompt")
    _v2_error(sd.post(ULTRA, data={"prompt": "kite", "aspect_ratio": "7:3"}, files=NO_FILE), 400, "bad_request", "aspect_ratio")
    _v2_error(sd.post(ULTRA, data={"prompt": "kite", "seed": "lots"}, files=NO_FILE), 400, "bad_request", "seed")
    _v2_error(sd.post(SD3, data={"prompt": "snow", "mode": "image-to-image"}, files={"image": ("a.png", media.png(128, 128), "image/png")}), 400, "bad_request", "strength")
    _v2_error(sd.post(SD3, data={"prompt": "snow", "mode": "image-to-image", "strength": "0.5"}, files=NO_FILE), 400, "bad_request", "image")
    _v2_error(sd.post(ULTRA, data={"prompt": "kite", "strength": "0.5"}, files={"image": ("a.txt", b"not a picture", "text/plain")}), 400, "bad_request", "image")
    _v2_error(sd.post(CORE, data={"prompt": "nsfw poster"}, files=NO_FILE), 403, "content_moderation", "prompt")
    _v2_error(sd.post(CORE, json={"prompt": "kite"}), 400, "bad_request", "request")  # multipart only


def test_v1_errors_are_stabilitys_own(sd) -> None:
    def v1(response: httpx.Response, status: int, name: str) -> str:
        body = response.json()
        assert response.status_code == status and set(body) == {"id", "name", "message"} and body["name"] == name, body
        return body["message"]

    assert "sdxl-nope" in v1(sd.post("/sd/v1/generation/sdxl-nope/text-to-image", json={"text_prompts": [{"text": "x"}]}), 404, "not_found")
    v1(sd.post(SDXL, json={"text_prompts": [{"text": "x"}], "width": 512, "height": 512}), 400, "invalid_height_or_width")
    v1(sd.post(SDXL, headers={"accept": "image/png"}, json={"text_prompts": [{"text": "x"}], "samples": 2}), 400, "invalid_samples")
    v1(sd.post(SDXL, json={"text_prompts": []}), 400, "bad_request")
    v1(sd.post(SDXL, content=b"{not json", headers={"content-type": "application/json"}), 400, "bad_request")


def test_bad_token_is_the_relays_envelope(gptnb) -> None:
    response = httpx.post(BASE + CORE, data={"prompt": "kite"}, files=NO_FILE)
    assert response.status_code == 401 and "error" in response.json()
