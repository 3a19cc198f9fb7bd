"""Ideogram through the gptnb fixture: generate, remix, upscale, describe, with real uploads and downloads."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import httpx
import pytest
from PIL import Image

from mockserver import media

BASE = "https://goapi.gptnb.ai"


@pytest.fixture
def ideogram(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}, timeout=30) as client:
        yield client


def _download(client: httpx.Client, url: str) -> Image.Image:
    picture = Image.open(io.BytesIO(client.get(url).content))
    picture.load()
    return picture


def _upload(width: int, height: int, name: str = "source.png") -> dict:
    return {"image_file": (name, media.png(width, height, seed=3), "image/png")}


def _check_created(answer: dict) -> None:
    created = datetime.fromisoformat(answer["created"])
    assert answer["created"].endswith("+00:00") and "." in answer["created"] and created.utcoffset() == timedelta(0)


def test_generate_honours_aspect_ratio_count_and_seed(ideogram) -> None:
    request = {"prompt": "retro travel poster, bold type 'VISIT OLYMPUS'", "aspect_ratio": "ASPECT_2_3", "model": "V_2_TURBO",
               "magic_prompt_option": "ON", "style_type": "DESIGN", "num_images": 2, "seed": 424242, "color_palette": {"name": "MELON"}}
    answer = ideogram.post("/ideogram/generate", json={"image_request": request}).json()
    _check_created(answer)
    assert [item["seed"] for item in answer["data"]] == [424242, 424243]
    for item in answer["data"]:
        assert item["is_image_safe"] is True and item["style_type"] == "DESIGN" and item["prompt"] != request["prompt"]  # MagicPrompt ON
        picture = _download(ideogram, item["url"])
        assert picture.format == "PNG" and f"{picture.width}x{picture.height}" == item["resolution"]
        assert picture.height > picture.width and abs(picture.width / picture.height - 2 / 3) < 0.01


def test_generate_honours_resolution(ideogram) -> None:
    request = {"prompt": "a fox", "resolution": "RESOLUTION_1280_720", "magic_prompt_option": "OFF"}
    item = ideogram.post("/ideogram/generate", json={"image_request": request}).json()["data"][0]
    assert item["resolution"] == "1280x720" and item["prompt"] == "a fox"
    assert _download(ideogram, item["url"]).size == (1280, 720)


def test_remix_takes_a_json_string_and_an_image(ideogram) -> None:
    form = {"image_request": json.dumps({"prompt": "the same cat as a bronze statue", "image_weight": 35, "aspect_ratio": "ASPECT_16_9"})}
    answer = ideogram.post("/ideogram/remix", data=form, files=_upload(384, 384, "cat.png")).json()
    _check_created(answer)
    picture = _download(ideogram, answer["data"][0]["url"])
    assert picture.width > picture.height and abs(picture.width / picture.height - 16 / 9) < 0.05
    # Without an aspect ratio the output keeps the upload's shape.
    kept = ideogram.post("/ideogram/remix", data={"image_request": json.dumps({"prompt": "tall cat"})}, files=_upload(300, 900)).json()
    tall = _download(ideogram, kept["data"][0]["url"])
    assert tall.height > 2 * tall.width


def test_upscale_reports_input_and_output_sizes(ideogram) -> None:
    form = {"image_request": json.dumps({"resemblance": 60, "detail": 70, "magic_prompt_option": "OFF", "seed": 77})}
    item = ideogram.post("/ideogram/upscale", data=form, files=_upload(512, 256, "small.png")).json()["data"][0]
    assert item["resolution"] == "512x256" and item["seed"] == 77
    picture = _download(ideogram, item["url"])
    assert f"{picture.width}x{picture.height}" == item["upscaled_resolution"]
    assert picture.width > 512 and picture.width == 2 * picture.height
    empty = ideogram.post("/ideogram/upscale", data={"image_request": "{}"}, files=_upload(64, 64)).json()
    assert empty["data"][0]["resolution"] == "64x64"


def test_describe_returns_captions(ideogram) -> None:
    jpeg = media.image(400, 200, "jpeg", seed=8)
    answer = ideogram.post("/ideogram/describe", data={"describe_model_version": "V_3"}, files={"image_file": ("harbour.jpg", jpeg, "image/jpeg")}).json()
    assert answer["descriptions"] and all(d["text"].strip() for d in answer["descriptions"])


@pytest.mark.parametrize(("path", "kwargs", "status"), [
    ("/ideogram/generate", {"json": {"image_request": {"prompt": "nsfw poster"}}}, 422),
    ("/ideogram/generate", {"json": {"image_request": {"aspect_ratio": "ASPECT_1_1"}}}, 400),
    ("/ideogram/generate", {"json": {"image_request": {"prompt": "x", "aspect_ratio": "ASPECT_1_1", "resolution": "RESOLUTION_1024_1024"}}}, 400),
    ("/ideogram/generate", {"json": {"image_request": {"prompt": "x", "model": "V_1", "style_type": "ANIME"}}}, 400),
    ("/ideogram/generate", {"json": {"image_request": {"prompt": "x", "num_images": 9}}}, 400),
    ("/ideogram/generate", {"content": b"{oops", "headers": {"content-type": "application/json"}}, 400),
    ("/ideogram/remix", {"data": {"image_request": "{not json"}, "files": _upload(64, 64)}, 400),
    ("/ideogram/remix", {"data": {"image_request": json.dumps({"prompt": "x"})}, "files": {"image_file": ("a.txt", b"hello", "text/plain")}}, 400),
    ("/ideogram/remix", {"data": {"image_request": json.dumps({"prompt": "x", "image_weight": 0})}, "files": _upload(64, 64)}, 400),
    ("/ideogram/upscale", {"data": {"image_request": "{}"}}, 400),
    ("/ideogram/describe", {"files": {"image_file": ("a.bin", b"\x00\x01", "application/octet-stream")}}, 400),
])
def test_documented_errors(ideogram, path, kwargs, status) -> None:
    response = ideogram.post(path, **kwargs)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}
    if status == 422:
        assert response.json()["error"].startswith("Prompt provided failed safety check")
    else:
        assert response.json()["error"].startswith("Invalid input provided.")


def test_api_key_header_is_accepted(gptnb) -> None:
    response = httpx.post(BASE + "/ideogram/generate", headers={"Api-Key": "sk-test"}, json={"image_request": {"prompt": "a kite"}})
    assert response.status_code == 200 and len(response.json()["data"]) == 1
