"""Midjourney through the gptnb fixture: full flows, clocks, callbacks, errors."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
from PIL import Image

from mockserver import media
from callback_listener import CallbackListener

BASE = "https://goapi.gptnb.ai"
PNG_URL = "data:image/png;base64," + base64.b64encode(media.png(32, 32, seed=5)).decode()


@pytest.fixture
def mj(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}) as client:
        yield client


def submit(client: httpx.Client, path: str, body: dict) -> str:
    answer = client.post(path, json=body).json()
    assert answer["code"] == 1, answer
    assert len(answer["result"]) == 16 and answer["result"].isdigit()
    return answer["result"]


def poll_until_done(client: httpx.Client, task_id: str, limit: int = 30) -> tuple[dict, list[str]]:
    """A client's polling loop, without sleeps: under the step clock every poll moves the task."""
    seen = []
    for _ in range(limit):
        task = client.get(f"/mj/task/{task_id}/fetch").json()
        seen.append(task["status"])
        if task["status"] in ("SUCCESS", "FAILURE"):
            return task, seen
    raise AssertionError(f"task {task_id} did not finish: {seen}")


def button(task: dict, label: str) -> str:
    return next(b["customId"] for b in task["buttons"] if label in (b["label"], b["emoji"]))


@pytest.mark.gptnb(clock="step")
def test_imagine_upscale_variation_zoom_modal_flow(mj, gptnb) -> None:
    imagine = submit(mj, "/mj/submit/imagine", {"prompt": "a lighthouse at dusk --ar 3:2", "state": "order-42"})
    task, seen = poll_until_done(mj, imagine)
    assert seen[:3] == ["NOT_START", "SUBMITTED", "IN_PROGRESS"] and seen[-1] == "SUCCESS"
    assert task["progress"] == "100%" and task["state"] == "order-42" and task["finishTime"] >= task["startTime"] > 0
    assert [b["label"] or b["emoji"] for b in task["buttons"]] == ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]
    grid = Image.open(io.BytesIO(mj.get(task["imageUrl"]).content))
    assert grid.format == "PNG" and grid.size == (1024, 683)  # --ar 3:2

    upscale = submit(mj, "/mj/submit/action", {"taskId": imagine, "customId": button(task, "U1")})
    single, _ = poll_until_done(mj, upscale)
    assert single["action"] == "UPSCALE" and "Custom Zoom" in [b["label"] for b in single["buttons"]]

    variation = submit(mj, "/mj-relax/mj/submit/action", {"taskId": imagine, "customId": button(task, "V2")})
    assert poll_until_done(mj, variation)[0]["action"] == "VARIATION"

    zoom = submit(mj, "/mj/submit/action", {"taskId": upscale, "customId": button(single, "Zoom Out 2x")})
    assert poll_until_done(mj, zoom)[0]["action"] == "ZOOM"

    waiting = mj.post("/mj/submit/action", json={"taskId": upscale, "customId": button(single, "Custom Zoom")}).json()
    assert waiting["code"] == 21 and waiting["properties"]["remix"] is True
    assert mj.get(f"/mj/task/{waiting['result']}/fetch").json()["status"] == "MODAL"
    confirmed = mj.post("/mj/submit/modal", json={"taskId": waiting["result"], "prompt": "lighthouse --zoom 1.5"}).json()
    assert confirmed == {**confirmed, "code": 1, "result": waiting["result"]}
    assert poll_until_done(mj, waiting["result"])[0]["status"] == "SUCCESS"
    assert gptnb.calls.last.contract_id == "midjourney.task.fetch"


@pytest.mark.gptnb(clock="manual")
def test_manual_clock_moves_only_when_the_test_advances_it(mj, gptnb) -> None:
    task_id = submit(mj, "/mj/submit/imagine", {"prompt": "a fox in snow"})
    assert mj.get(f"/mj/task/{task_id}/fetch").json()["status"] == "NOT_START"
    assert mj.get(f"/mj/task/{task_id}/fetch").json()["status"] == "NOT_START"
    gptnb.clock.advance(2.0)
    running = mj.get(f"/mj/task/{task_id}/fetch").json()
    assert running["status"] == "IN_PROGRESS" and running["progress"] not in ("0%", "100%")
    gptnb.clock.advance(60)
    assert mj.get(f"/mj/task/{task_id}/fetch").json()["status"] == "SUCCESS"


@pytest.mark.gptnb(clock="step")
def test_tasks_can_be_made_to_fail(mj, gptnb) -> None:
    marked = submit(mj, "/mj/submit/imagine", {"prompt": "a cat mock-fail"})
    task, _ = poll_until_done(mj, marked)
    assert task["status"] == "FAILURE" and task["failReason"] and task["buttons"] == []
    gptnb.route("midjourney.submit.imagine").fail_task("upstream timeout", times=1)
    steered = submit(mj, "/mj/submit/imagine", {"prompt": "a dog"})
    assert poll_until_done(mj, steered)[0]["failReason"] == "upstream timeout"
    by_test = submit(mj, "/mj/submit/imagine", {"prompt": "a bird"})
    gptnb.tasks.fail(by_test, "operator says no")
    assert mj.get(f"/mj/task/{by_test}/fetch").json()["failReason"] == "operator says no"
    completed = submit(mj, "/mj/submit/imagine", {"prompt": "a horse"})
    gptnb.tasks.complete(completed)
    assert mj.get(f"/mj/task/{completed}/fetch").json()["status"] == "SUCCESS"


@pytest.mark.gptnb(clock="step")
def test_describe_shorten_blend_swap_seed_and_list(mj) -> None:
    describe, _ = poll_until_done(mj, submit(mj, "/mj/submit/describe", {"base64": PNG_URL}))
    assert describe["promptEn"].count("️⃣") == 4 and describe["prompt"] == ""
    shorten, _ = poll_until_done(mj, submit(mj, "/mj/submit/shorten", {"prompt": "a very detailed intricate fox in deep snow"}))
    assert "## Shortened prompts" in shorten["properties"]["finalPrompt"] and shorten["imageUrl"] == ""
    blend_id = submit(mj, "/mj/submit/blend", {"base64Array": [PNG_URL, PNG_URL], "dimensions": "PORTRAIT"})
    blend, _ = poll_until_done(mj, blend_id)
    assert Image.open(io.BytesIO(mj.get(blend["imageUrl"]).content)).size == (683, 1024)
    swap, _ = poll_until_done(mj, submit(mj, "/mj/insight-face/swap", {"sourceBase64": PNG_URL, "targetBase64": PNG_URL}))
    assert swap["action"] == "SWAP_FACE" and mj.get(swap["imageUrl"]).headers["content-type"] == "image/png"
    seed = mj.get(f"/mj/task/{blend_id}/image-seed").json()
    assert seed["code"] == 1 and seed["result"].isdigit()
    listed = mj.post("/mj/task/list-by-condition", json={"ids": [blend_id, "0000000000000000", describe["id"]]}).json()
    assert sorted(t["id"] for t in listed) == sorted([blend_id, describe["id"]])


def test_submit_envelope_codes(mj, gptnb) -> None:
    banned = mj.post("/mj/submit/imagine", json={"prompt": "nsfw poster"}).json()
    assert banned["code"] == 24 and banned["properties"]["bannedWord"] == "nsfw" and banned["result"] is None
    assert mj.post("/mj/submit/imagine", json={"prompt": "x", "base64Array": ["data:image/png;base64,@@@"]}).json()["code"] == 4
    assert mj.post("/mj/submit/change", json={"taskId": "1731542860123481", "action": "UPSCALE", "index": 1}).json()["code"] == 3
    running = submit(mj, "/mj/submit/imagine", {"prompt": "slow"})
    early = mj.post("/mj/submit/change", json={"taskId": running, "action": "UPSCALE", "index": 1}).json()
    assert early["code"] == 4 and early["description"] == "关联任务状态错误"


@pytest.mark.gptnb(clock="manual", task_concurrency=1, task_queue_size=1)
def test_queue_codes_22_and_23(mj) -> None:
    assert mj.post("/mj/submit/imagine", json={"prompt": "one"}).json()["code"] == 1
    queued = mj.post("/mj/submit/imagine", json={"prompt": "two"}).json()
    assert queued["code"] == 22 and queued["properties"]["numberOfQueues"] == 1
    full = mj.post("/mj/submit/imagine", json={"prompt": "three"}).json()
    assert full["code"] == 23 and full["result"] is None


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "expected"),
    [
        ("GET", "/mj/task/1731542860123481/fetch", None, 400, {"description": "task_no_found ", "type": "upstream_error", "code": 4}),
        ("GET", "/mj/task/nope/image-seed", None, 400, {"description": "task_no_found ", "type": "upstream_error", "code": 4}),
        ("POST", "/mj/submit/imagine", {"prompt": "   "}, 400, {"description": "prompt_is_required ", "type": "upstream_error", "code": 4}),
        ("POST", "/mj/submit/imagine", {"prompt": 5}, 400, {"description": "bind_request_body_failed ", "type": "upstream_error", "code": 4}),
        ("POST", "/mj/submit/blend", {"base64Array": [PNG_URL]}, 200, {"code": 4, "description": "base64Array参数错误", "result": None, "properties": {}}),
        ("GET", "/mj/image/1731542860123481", None, 400, {"error": "midjourney_task_not_found"}),
    ],
)
def test_documented_errors(mj, method, path, body, status, expected) -> None:
    response = mj.request(method, path, json=body)
    assert (response.status_code, response.json()) == (status, expected)


def test_unknown_custom_id_is_the_relays_400(mj) -> None:
    response = mj.post("/mj/submit/action", json={"taskId": "1731542860123481", "customId": "MJ::BOOKMARK::abc"})
    assert response.status_code == 400 and "unknown_action:MJ::BOOKMARK::abc" in response.json()["error"]["message"]
    empty = mj.post("/mj/submit/action", json={"taskId": "1731542860123481", "customId": ""})
    assert empty.status_code == 400 and "custom_id_is_required" in empty.json()["error"]["message"]


@pytest.fixture
def listener():
    with CallbackListener(done=lambda body: body["status"] in ("SUCCESS", "FAILURE")) as received:
        yield received.url, received


@pytest.mark.gptnb(clock="manual")
def test_callbacks_deliver_every_state_change_in_order(mj, gptnb, listener) -> None:
    url, received = listener
    task_id = submit(mj, "/mj/submit/imagine", {"prompt": "a harbour", "notifyHook": url, "state": "cb"})
    gptnb.clock.advance(60)
    assert received.arrived.wait(10), received.received
    statuses = [(b["status"], b["progress"]) for b in received.received]
    assert statuses[0] == ("NOT_START", "0%") and statuses[-1] == ("SUCCESS", "100%")
    assert [s for s, _ in statuses] == sorted((s for s, _ in statuses), key=["NOT_START", "SUBMITTED", "IN_PROGRESS", "SUCCESS"].index)
    assert len(statuses) == len(gptnb.tasks.get(task_id).task.steps)
    assert all(b["id"] == task_id and b["state"] == "cb" for b in received.received)
    assert all(c.status == 200 for c in gptnb.callbacks)


def test_callbacks_go_only_to_allowed_hosts(mj, gptnb) -> None:
    submit(mj, "/mj/submit/imagine", {"prompt": "a harbour", "notifyHook": "http://example.org/hook"})
    refused = gptnb.callbacks.last
    assert refused.status == 0 and "not allowed" in refused.response
