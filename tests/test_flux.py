"""Flux in BFL's format through the gptnb fixture: create, poll to Ready, download, webhooks, failures."""

from __future__ import annotations

import io
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image
from callback_listener import CallbackListener

BASE = "https://goapi.gptnb.ai"
TERMINAL = ("Ready", "Request Moderated", "Content Moderated", "Error")


@pytest.fixture
def flux(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}, timeout=30) as client:
        yield client


def create(client: httpx.Client, path: str, body: dict) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    task = response.json()
    assert uuid.UUID(task["id"]).version == 4
    return task


def poll_until_done(client: httpx.Client, polling_url: str, limit: int = 20) -> tuple[dict, list[str]]:
    """A client's polling loop, without sleeps: under the step clock every poll moves the task."""
    seen = []
    for _ in range(limit):
        result = client.get(polling_url).json()
        seen.append(result["status"])
        if result["status"] in TERMINAL:
            return result, seen
    raise AssertionError(f"task did not finish: {seen}")


@pytest.mark.gptnb(clock="step")
def test_create_poll_ready_and_download(flux) -> None:
    task = create(flux, "/flux/v1/image", {"prompt": "a lighthouse on a basalt cliff at dawn", "width": 1024, "height": 768, "seed": 1234, "output_format": "jpeg"})
    assert urlsplit(task["polling_url"]).path == "/flux/v1/get_result" and parse_qs(urlsplit(task["polling_url"]).query)["id"] == [task["id"]]
    result, seen = poll_until_done(flux, task["polling_url"])
    assert seen[0] == "Pending" and seen[-1] == "Ready" and set(seen[:-1]) == {"Pending"}
    output = result["result"]
    assert output["seed"] == 1234 and output["prompt"] == "a lighthouse on a basalt cliff at dawn"
    assert output["end_time"] >= output["start_time"] > 1e9 and output["duration"] >= 0
    sample = urlsplit(output["sample"])
    assert {"se", "sp", "sig"} <= parse_qs(sample.query).keys()
    picture = Image.open(io.BytesIO(flux.get(output["sample"]).content))
    assert picture.format == "JPEG" and picture.size == (1024, 768)


@pytest.mark.gptnb(clock="step")
@pytest.mark.parametrize(("path", "body", "fmt", "landscape"), [
    ("/flux/v1/flux-pro-1.1-ultra", {"prompt": "a teal scooter", "aspect_ratio": "9:16", "output_format": "png"}, "PNG", False),
    ("/flux/v1/flux-kontext-pro", {"prompt": "a teal scooter", "aspect_ratio": "21:9"}, "PNG", True),
    ("/flux/v1/flux-dev", {"prompt": "a teal scooter", "width": 512, "height": 256, "output_format": "webp"}, "WEBP", True),
])
def test_per_model_path_honours_size_and_format(flux, path, body, fmt, landscape) -> None:
    task = create(flux, path, body)
    result, _ = poll_until_done(flux, task["polling_url"])
    picture = Image.open(io.BytesIO(flux.get(result["result"]["sample"]).content))
    assert picture.format == fmt and (picture.width > picture.height) is landscape
    if "aspect_ratio" in body:
        w, h = (int(n) for n in body["aspect_ratio"].split(":"))
        assert abs(picture.width / picture.height - w / h) < 0.05
    else:
        assert picture.size == (body["width"], body["height"])


@pytest.mark.gptnb(clock="step")
def test_failures_use_bfl_status_words(flux, gptnb) -> None:
    moderated, _ = poll_until_done(flux, create(flux, "/flux/v1/image", {"prompt": "nsfw poster"})["polling_url"])
    assert moderated["status"] == "Request Moderated" and moderated["result"] is None
    assert moderated["details"]["Moderation Reasons"] and all(isinstance(r, str) for r in moderated["details"]["Moderation Reasons"])
    assert {"progress", "preview"} <= moderated.keys()  # every field of BFL's ResultResponse
    gptnb.route("flux.submit.image").fail_task("Content Moderated", times=1)
    content, _ = poll_until_done(flux, create(flux, "/flux/v1/image", {"prompt": "a cat"})["polling_url"])
    assert content["status"] == "Content Moderated" and content["result"] is None
    marked, _ = poll_until_done(flux, create(flux, "/flux/v1/image", {"prompt": "a dog mock-fail"})["polling_url"])
    assert marked["status"] == "Error" and marked["details"]["reason"]


def test_unknown_task_and_bad_requests(flux) -> None:
    missing = flux.get("/flux/v1/get_result", params={"id": "00000000-0000-4000-8000-000000000000"})
    assert (missing.status_code, missing.json()) == (404, {"id": "00000000-0000-4000-8000-000000000000", "status": "Task not found"})
    no_id = flux.get("/flux/v1/get_result")
    assert no_id.status_code == 422 and no_id.json()["detail"][0]["loc"] == ["query", "id"]
    too_wide = flux.post("/flux/v1/image", json={"prompt": "x", "width": 2048})
    assert too_wide.status_code == 422 and too_wide.json()["detail"][0]["loc"] == ["body", "width"]
    assert flux.post("/flux/v1/flux-kontext-pro", json={"aspect_ratio": "1:1"}).json()["detail"][0]["type"] == "missing"
    assert flux.post("/flux/v1/image", json={"prompt": "x", "aspect_ratio": "32:9"}).status_code == 422
    broken = flux.post("/flux/v1/image", content=b"{", headers={"content-type": "application/json"})
    assert broken.status_code == 422 and broken.json()["detail"][0]["type"] == "json_invalid"
    assert flux.post("/flux/v1/flux-nope", json={"prompt": "x"}).json() == {"detail": "Not Found"}


@pytest.mark.gptnb(clock="step")
def test_nulls_are_accepted_where_bfl_inputs_take_them(flux) -> None:
    """BFL's input models (its OpenAPI) take null for unset options, and width/height only on FLUX.2."""
    unset = {"prompt": "a kite", "seed": None, "steps": None, "guidance": None, "output_format": None, "image_prompt": None, "webhook_url": None, "webhook_secret": None}
    result, _ = poll_until_done(flux, create(flux, "/flux/v1/flux-dev", unset)["polling_url"])
    assert result["status"] == "Ready" and isinstance(result["result"]["seed"], int)
    redux, _ = poll_until_done(flux, create(flux, "/flux/v1/flux-pro-1.1", {"prompt": None, "image_prompt": "aGVsbG8="})["polling_url"])
    assert redux["status"] == "Ready"  # FLUX1.1 [pro] defaults prompt to ""
    create(flux, "/flux/v1/flux-2-pro", {"prompt": "a kite", "width": None, "height": None})
    create(flux, "/flux/v1/flux-2-flex", {"prompt": "a kite", "prompt_upsampling": None})
    for path, field, kind in (("/flux/v1/flux-pro-1.1", "width", "int_type"), ("/flux/v1/flux-dev", "height", "int_type"), ("/flux/v1/flux-pro-1.1", "prompt_upsampling", "bool_type")):
        refused = flux.post(path, json={"prompt": "a kite", field: None})
        assert refused.status_code == 422 and refused.json()["detail"] == [{"loc": ["body", field], "msg": refused.json()["detail"][0]["msg"], "type": kind}]
    assert flux.post("/flux/v1/flux-2-pro", json={"prompt": None}).json()["detail"][0] == {"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"}


@pytest.mark.gptnb(clock="step")
def test_legacy_variant_picks_the_model(flux, gptnb) -> None:
    create(flux, "/flux/v1/image", {"variant": "flux.1-dev", "prompt": "a kite", "seed": 0, "api_key_override": ""})
    assert gptnb.tasks.get(gptnb.calls.last.response["id"]).task.kind == "flux-dev"


def test_x_key_is_accepted_as_the_token(gptnb) -> None:
    response = httpx.post(BASE + "/flux/v1/image", headers={"x-key": "sk-test"}, json={"prompt": "a kite"})
    assert response.status_code == 200 and response.json()["id"]


@pytest.fixture
def listener():
    with CallbackListener(done=lambda body: body["status"] in TERMINAL) as received:
        yield received.url, received


@pytest.mark.gptnb(clock="manual")
def test_webhook_is_called_when_done(flux, gptnb, listener) -> None:
    url, received = listener
    task = create(flux, "/flux/v1/image", {"prompt": "a harbour at dusk", "webhook_url": url, "webhook_secret": "s3cret"})
    gptnb.clock.advance(30)
    assert received.arrived.wait(10), received.received
    final = received.received[-1]
    assert final["id"] == task["id"] and final["status"] == "Ready" and isinstance(final["timestamp"], int)
    picture = Image.open(io.BytesIO(flux.get(final["result"]["sample"]).content))
    assert picture.format == "JPEG" and picture.size == (1024, 768)  # BFL's default size and format
    assert [b["status"] for b in received.received[:-1]] == ["Pending"] * (len(received.received) - 1)
    assert gptnb.violations() == []


def test_openai_format_flux_answers_synchronously_with_jpegs(gptnb) -> None:
    import base64 as b64

    import openai

    client = openai.OpenAI(base_url=gptnb.openai_base_url, api_key="sk-test")
    result = client.images.generate(model="flux-pro", prompt="a teal scooter by a bakery", size="1024x768")
    assert gptnb.calls.last.contract_id == "flux.openai.images_generations"
    picture = Image.open(io.BytesIO(httpx.get(result.data[0].url).content))
    assert (picture.format, picture.size) == ("JPEG", (1024, 768))
    framed = client.images.generate(model="flux-kontext-pro", prompt="a lighthouse", response_format="b64_json", extra_body={"aspect_ratio": "9:16"})
    assert Image.open(io.BytesIO(b64.b64decode(framed.data[0].b64_json))).size == (576, 1024)
    with pytest.raises(openai.BadRequestError, match="Content Moderated"):
        client.images.generate(model="flux-dev", prompt="a gore scene")
    dalle = client.images.generate(model="dall-e-3", prompt="a cat")
    assert gptnb.calls.last.contract_id == "openai.images.generate" and dalle.data[0].revised_prompt


@pytest.mark.gptnb(clock="step")
def test_each_model_keeps_its_own_ranges(flux) -> None:
    """One contract states the union of BFL's input models; each model's own limits still hold."""
    wide, _ = poll_until_done(flux, create(flux, "/flux/v1/flux-2-pro", {"prompt": "a harbour", "width": 1920, "height": 1080})["polling_url"])
    assert Image.open(io.BytesIO(flux.get(wide["result"]["sample"]).content)).size == (1920, 1080)
    create(flux, "/flux/v1/flux-2-flex", {"prompt": "a poster saying SUMMER SALE", "steps": 50, "guidance": 7.0})
    for path, body, field, kind in (
        ("/flux/v1/flux-pro-1.1", {"width": 1920}, "width", "less_than_equal"),
        ("/flux/v1/flux-dev", {"height": 1000}, "height", "multiple_of"),
        ("/flux/v1/image", {"width": 128}, "width", "greater_than_equal"),
        ("/flux/v1/flux-dev", {"guidance": 7.0}, "guidance", "less_than_equal"),
        ("/flux/v1/flux-2-pro", {"safety_tolerance": 6}, "safety_tolerance", "less_than_equal"),
    ):
        refused = flux.post(path, json={"prompt": "a kite", **body})
        assert refused.status_code == 422 and [(d["loc"], d["type"]) for d in refused.json()["detail"]] == [(["body", field], kind)], refused.text
