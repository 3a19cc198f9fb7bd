"""Midjourney through the gptnb fixture: full flows, clocks, callbacks, errors."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image

from mockserver import media
from mockserver.cli import main as cli
from callback_listener import CallbackListener
from test_conformance import Breaker, first_failure, json_mutation, step_mock

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


def relay_error(description: str) -> dict:
    """What new-api answers for what it checks itself: HTTP 400, description "<desc> "."""
    return {"description": f"{description} ", "type": "upstream_error", "code": 4}


def test_submit_envelope_codes(mj, gptnb) -> None:
    banned = mj.post("/mj/submit/imagine", json={"prompt": "nsfw poster"}).json()
    assert banned["code"] == 24 and banned["properties"]["bannedWord"] == "nsfw" and banned["result"] is None
    assert mj.post("/mj/submit/imagine", json={"prompt": "x", "base64Array": ["data:image/png;base64,@@@"]}).json()["code"] == 4
    # new-api checks the parent of a change or an action itself, before the proxy sees the request
    unknown = mj.post("/mj/submit/change", json={"taskId": "1731542860123481", "action": "UPSCALE", "index": 1})
    assert (unknown.status_code, unknown.json()) == (400, relay_error("task_not_found"))
    running = submit(mj, "/mj/submit/imagine", {"prompt": "slow"})
    early = mj.post("/mj/submit/change", json={"taskId": running, "action": "UPSCALE", "index": 1})
    assert (early.status_code, early.json()) == (400, relay_error("task_status_not_success"))
    # simple-change carries no taskId new-api can read, so the proxy answers in its envelope
    assert mj.post("/mj/submit/simple-change", json={"content": "1731542860123481 U1"}).json()["code"] == 3
    assert mj.post("/mj/submit/simple-change", json={"content": f"{running} U1"}).json()["description"] == "关联任务状态错误"


@pytest.mark.gptnb(clock="manual", task_concurrency=1, task_queue_size=1)
def test_a_queued_task_is_code_1_through_the_relay_and_a_full_queue_code_23(mj) -> None:
    assert mj.post("/mj/submit/imagine", json={"prompt": "one"}).json()["code"] == 1
    queued = mj.post("/mj/submit/imagine", json={"prompt": "two"}).json()
    # the proxy's code 22, rewritten to 1 by new-api with the queue kept in description and properties
    assert queued["code"] == 1 and queued["description"] == "排队中，前面还有1个任务" and queued["properties"]["numberOfQueues"] == 1
    assert mj.get(f"/mj/task/{queued['result']}/fetch").json()["description"] == queued["description"]
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


# ---- every button the mock offers, on every kind of result ----

# What pressing a button gives through a new-api relay, by what the button says. "task": code 1 and a
# new task of that action; "modal": code 21 and a task waiting in MODAL; "refused": new-api cannot map
# the customId (service/midjourney.go CoverPlusActionToNormalAction) and answers 400 unknown_action.
GRID_OUTCOMES = {"U1": ("task", "UPSCALE"), "U2": ("task", "UPSCALE"), "U3": ("task", "UPSCALE"), "U4": ("task", "UPSCALE"),
                 "V1": ("task", "VARIATION"), "V2": ("task", "VARIATION"), "V3": ("task", "VARIATION"), "V4": ("task", "VARIATION"),
                 "🔄": ("task", "REROLL")}
SINGLE_OUTCOMES = {"Vary (Subtle)": ("task", "LOW_VARIATION"), "Vary (Strong)": ("task", "HIGH_VARIATION"),
                   "Vary (Region)": ("modal", "INPAINT"), "Zoom Out 2x": ("task", "ZOOM"), "Zoom Out 1.5x": ("task", "ZOOM"),
                   "Custom Zoom": ("modal", "CUSTOM_ZOOM"), "⬅️": ("task", "PAN"), "➡️": ("task", "PAN"), "⬆️": ("task", "PAN"), "⬇️": ("task", "PAN")}
UPSCALED_OUTCOMES = {**SINGLE_OUTCOMES, "Upscale (Subtle)": ("task", "UPSCALE"), "Upscale (Creative)": ("task", "UPSCALE")}
def picks(count: int) -> dict:
    return {f"{i}️⃣": ("refused", None) for i in range(1, count + 1)}



OUTCOMES = {
    "grid": GRID_OUTCOMES,
    "upscaled": UPSCALED_OUTCOMES,
    "upscaled twice": SINGLE_OUTCOMES,
    "describe": {**picks(4), "🔄": ("refused", None)},
    "shorten": picks(5),
    "video": {"U1": ("refused", None), "U2": ("refused", None), "U3": ("refused", None), "U4": ("refused", None), "🔄": ("task", "REROLL")},
    "face swap": {},
}
MASK = "data:image/png;base64," + base64.b64encode(media.png(16, 16, seed=9)).decode()


def name_of(button: dict) -> str:
    return button["label"] or button["emoji"]


def press(mj: httpx.Client, task: dict, button: dict) -> httpx.Response:
    return mj.post("/mj/submit/action", json={"taskId": task["id"], "customId": button["customId"]})


def finished(mj: httpx.Client, gptnb, task_id: str) -> dict:
    gptnb.tasks.complete(task_id)
    task = mj.get(f"/mj/task/{task_id}/fetch").json()
    assert task["status"] == "SUCCESS" and task["progress"] == "100%", task
    return task


def confirm(mj: httpx.Client, answer: dict, action: str) -> str:
    """The modal window a web UI shows after code 21: Vary (Region) sends a mask, Custom Zoom sends
    back the prefilled prompt unchanged (Dooy/chatgpt-web-midjourney-proxy src/api/mjapi.ts)."""
    assert answer["code"] == 21 and answer["description"] == "Waiting for window confirm", answer
    body = {"taskId": answer["result"], "prompt": answer["properties"]["finalPrompt"]}
    if action == "INPAINT":
        body["maskBase64"] = MASK
    else:
        assert answer["properties"]["finalPrompt"].endswith("--zoom 2")
    confirmed = mj.post("/mj/submit/modal", json=body).json()
    assert confirmed["code"] == 1 and confirmed["result"] == answer["result"], confirmed
    return answer["result"]


def press_all(mj: httpx.Client, gptnb, task: dict, kind: str) -> dict[str, dict]:
    """Press every button of ``task``; the finished children, by button name."""
    outcomes = OUTCOMES[kind]
    assert sorted(map(name_of, task["buttons"])) == sorted(outcomes), (kind, [name_of(b) for b in task["buttons"]])
    children = {}
    for button in task["buttons"]:
        expected, action = outcomes[name_of(button)]
        response = press(mj, task, button)
        where = f"{kind} {name_of(button)} {button['customId']}"
        if expected == "refused":
            assert response.status_code == 400 and f"unknown_action:{button['customId']}" in response.json()["error"]["message"], where
            continue
        answer = response.json()
        assert response.status_code == 200, (where, answer)
        child_id = confirm(mj, answer, action) if expected == "modal" else answer["result"]
        assert expected == "modal" or answer["code"] == 1, (where, answer)
        child = finished(mj, gptnb, child_id)
        assert child["action"] == action, (where, child["action"])
        children[name_of(button)] = child
    return children


def test_every_button_the_mock_offers_can_be_pressed_on_every_kind_of_result(mj, gptnb) -> None:
    grid = finished(mj, gptnb, submit(mj, "/mj/submit/imagine", {"prompt": "a lighthouse at dusk --ar 3:2"}))
    from_grid = press_all(mj, gptnb, grid, "grid")
    upscaled = from_grid["U2"]
    assert [name_of(b) for b in upscaled["buttons"]][:2] == ["Upscale (Subtle)", "Upscale (Creative)"]
    assert upscaled["buttons"][0]["customId"].startswith("MJ::JOB::upsample_v6r1_2x_subtle::1::")
    from_upscaled = press_all(mj, gptnb, upscaled, "upscaled")
    # an upscale of an upscale is an UPSCALE on new-api; it is larger and offers no third upscale
    twice = from_upscaled["Upscale (Subtle)"]
    assert Image.open(io.BytesIO(mj.get(twice["imageUrl"]).content)).size == (2048, 1366)
    press_all(mj, gptnb, twice, "upscaled twice")
    press_all(mj, gptnb, from_upscaled["Upscale (Creative)"], "upscaled twice")
    for name in ("V1", "🔄"):
        press_all(mj, gptnb, from_grid[name], "grid")
    for name, child in from_upscaled.items():  # vary, zoom, pan, region, custom zoom all make grids
        if not name.startswith("Upscale"):
            press_all(mj, gptnb, child, "grid")
    blend = finished(mj, gptnb, submit(mj, "/mj/submit/blend", {"base64Array": [PNG_URL, PNG_URL]}))
    press_all(mj, gptnb, blend, "grid")
    edits = finished(mj, gptnb, submit(mj, "/mj/submit/edits", {"prompt": "add a moon", "image": PNG_URL}))
    press_all(mj, gptnb, edits, "grid")
    press_all(mj, gptnb, finished(mj, gptnb, submit(mj, "/mj/submit/describe", {"base64": PNG_URL})), "describe")
    press_all(mj, gptnb, finished(mj, gptnb, submit(mj, "/mj/submit/shorten", {"prompt": "a very detailed fox"})), "shorten")
    press_all(mj, gptnb, finished(mj, gptnb, submit(mj, "/mj/insight-face/swap", {"sourceBase64": PNG_URL, "targetBase64": PNG_URL})), "face swap")
    video = finished(mj, gptnb, submit(mj, "/mj/submit/video", {"prompt": "waves roll in", "image": PNG_URL}))
    rerolled = press_all(mj, gptnb, video, "video")["🔄"]
    assert len(rerolled["videoUrls"]) == 4 and rerolled["videoUrl"] == rerolled["videoUrls"][0]["url"]  # a reroll of a video is a video
    press_all(mj, gptnb, rerolled, "video")
    assert gptnb.violations() == []


@pytest.mark.parametrize(
    ("version", "first", "second"),
    [
        ("--v 5.2", "upsample_v5_2x", "upsample_v5_4x"),
        ("--v 6", "upsample_v6_2x_subtle", "upsample_v6_2x_creative"),
        ("--niji 6", "upsample_v6_2x_subtle", "upsample_v6_2x_creative"),
        ("", "upsample_v6r1_2x_subtle", "upsample_v6r1_2x_creative"),
        ("--v 7", "upsample_v7_2x_subtle", "upsample_v7_2x_creative"),
    ],
)
def test_upscaled_images_offer_the_upscale_buttons_of_their_model_version(mj, gptnb, version, first, second) -> None:
    grid = finished(mj, gptnb, submit(mj, "/mj/submit/imagine", {"prompt": f"a fox {version}".strip()}))
    upscaled = finished(mj, gptnb, press(mj, grid, grid["buttons"][0]).json()["result"])
    assert [b["customId"].split("::")[2] for b in upscaled["buttons"][:2]] == [first, second]
    again = press(mj, upscaled, upscaled["buttons"][1]).json()
    assert again["code"] == 1 and finished(mj, gptnb, again["result"])["action"] == "UPSCALE"


def test_buttons_pressed_out_of_order(mj, gptnb) -> None:
    grid_id = submit(mj, "/mj/submit/imagine", {"prompt": "a harbour"})
    grid = mj.get(f"/mj/task/{grid_id}/fetch").json()
    assert grid["buttons"] == []  # nothing to press while it runs
    gptnb.tasks.complete(grid_id)
    grid = mj.get(f"/mj/task/{grid_id}/fetch").json()
    u1 = grid["buttons"][0]
    first, second = press(mj, grid, u1).json(), press(mj, grid, u1).json()  # the same button twice: two tasks
    assert first["code"] == second["code"] == 1 and first["result"] != second["result"]
    # a button of a task that has not finished: new-api's own check
    running = press(mj, {"id": first["result"]}, u1)
    assert (running.status_code, running.json()) == (400, relay_error("task_status_not_success"))
    # a button of another task, and no taskId at all: the proxy's code 4
    upscaled = finished(mj, gptnb, first["result"])
    assert press(mj, upscaled, u1).json() == {"code": 4, "description": "customId参数错误", "result": None, "properties": {}}
    assert mj.post("/mj/submit/action", json={"customId": u1["customId"]}).json()["description"] == "参数错误"
    # a modal confirmed twice, and a modal for a task that is not waiting
    zoom = next(b for b in upscaled["buttons"] if b["label"] == "Custom Zoom")
    waiting = press(mj, upscaled, zoom).json()
    assert mj.post("/mj/submit/modal", json={"taskId": waiting["result"]}).json()["code"] == 1  # the prefilled --zoom 2
    assert mj.post("/mj/submit/modal", json={"taskId": waiting["result"]}).json()["description"] == "关联任务状态错误"
    unknown = mj.post("/mj/submit/modal", json={"taskId": "1731542860123481"})
    assert (unknown.status_code, unknown.json()) == (400, relay_error("task_not_found"))
    # /change keeps its own rule: only grids change by index (buttons of an upscale go through /action)
    assert mj.post("/mj/submit/change", json={"taskId": upscaled["id"], "action": "UPSCALE", "index": 1}).json()["description"] == "关联任务不允许执行变化"


def test_what_real_clients_send_for_unused_fields_is_read_as_not_given(mj, gptnb) -> None:
    # Dooy/chatgpt-web-midjourney-proxy src/api/mjapi.ts and jiaqianjing/ComfyUI-MidjourneyHub api_client.py
    sent = {"base64Array": [], "notifyHook": "", "prompt": "a fox", "state": "", "botType": "MID_JOURNEY"}
    assert mj.post("/mj/submit/imagine", json=sent).json()["code"] == 1
    nulls = {"base64Array": None, "notifyHook": None, "prompt": "a fox", "state": None, "botType": "", "accountFilter": None}
    task_id = submit(mj, "/mj/submit/imagine", nulls)
    assert gptnb.tasks.get(task_id).task.callback_url is None
    grid = finished(mj, gptnb, task_id)
    pressed = {"chooseSameChannel": True, "customId": grid["buttons"][0]["customId"], "taskId": task_id, "notifyHook": "", "state": ""}
    assert mj.post("/mj/submit/action", json=pressed).json()["code"] == 1
    # new-api reads index 0 as missing, for REROLL too
    for body in ({"taskId": task_id, "action": "REROLL"}, {"taskId": task_id, "action": "UPSCALE", "index": 0}):
        answer = mj.post("/mj/submit/change", json=body)
        assert (answer.status_code, answer.json()) == (400, relay_error("index_is_required"))
    assert mj.post("/mj/submit/change", json={"taskId": task_id, "action": "REROLL", "index": 1}).json()["code"] == 1
    assert gptnb.violations() == []


def test_upload_discord_images_edits_and_video(mj, gptnb) -> None:
    uploaded = mj.post("/mj/submit/upload-discord-images", json={"base64Array": [PNG_URL, PNG_URL]}).json()
    assert uploaded["code"] == 1 and len(uploaded["result"]) == 2
    assert Image.open(io.BytesIO(mj.get(uploaded["result"][0]).content)).format == "PNG"
    assert mj.post("/mj/submit/upload-discord-images", json={"base64Array": []}).json()["description"] == "base64 参数错误"
    assert mj.post("/mj/submit/upload-discord-images", json={"base64Array": ["not an image"]}).json()["description"] == "base64格式错误"
    # the uploaded URL serves as the picture of an edit and the still of a video
    edit = finished(mj, gptnb, submit(mj, "/mj/submit/edits", {"prompt": "add a moon", "image": uploaded["result"][0], "maskBase64": ""}))
    assert edit["action"] == "EDITS" and len(edit["buttons"]) == 9
    assert mj.post("/mj/submit/edits", json={"prompt": "", "image": PNG_URL}).json()["description"] == "image或prompt不能为空"
    body = {"motion": "low", "prompt": "the beam sweeps", "image": PNG_URL, "base64": PNG_URL, "mode": "FAST"}  # Dooy's aiEditVidoe.vue
    video = finished(mj, gptnb, submit(mj, "/mj/submit/video", body))
    assert video["action"] == "VIDEO" and len(video["videoUrls"]) == 4
    assert mj.get(video["videoUrl"]).headers["content-type"] == "video/mp4"
    assert mj.get(video["imageUrl"]).headers["content-type"] == "image/png"
    from_task = finished(mj, gptnb, submit(mj, "/mj/submit/video", {"prompt": "drift", "taskId": edit["id"], "batchSize": 2}))
    assert len(from_task["videoUrls"]) == 2
    assert mj.post("/mj/submit/video", json={"prompt": "drift"}).json()["code"] == 4
    assert mj.post("/mj/submit/video", json={"image": PNG_URL}).json()["description"] == "Prompt 不能为空"
    unknown = mj.post("/mj/submit/video", json={"prompt": "drift", "taskId": "1731542860123481"})
    assert (unknown.status_code, unknown.json()) == (400, relay_error("task_not_found"))
    assert gptnb.violations() == []


# ---- the task object requires less than new-api sends; a broken server is still caught ----


def _success_without(field: str) -> Callable[[dict], None]:
    return lambda task: task.pop(field)


@pytest.mark.parametrize(
    ("break_task", "expected"),
    [
        (_success_without("id"), ("id", "[required]")),
        (_success_without("submitTime"), ("submitTime", "[required]")),
        (lambda task: task.update(progress="93%"), ("progress", "[const]")),
        (lambda task: task.update(imageUrl=""), ("imageUrl", "[minLength]")),
        (_success_without("imageUrl"), ("imageUrl", "[required]")),
        (lambda task: task.update(submitTime="yesterday"), ("submitTime", "[type]")),
        (lambda task: task.update(buttons=[{"customId": 7}]), ("buttons/0", "[")),
        (lambda task: task.update(status="FAILURE") or task.pop("failReason"), ("failReason", "[required]")),
    ],
)
def test_a_server_that_breaks_the_task_object_is_still_caught(break_task, expected) -> None:
    def mutate(data: Any) -> Any:
        if isinstance(data, dict) and data.get("status") == "SUCCESS":
            break_task(data)
        return data

    failure = first_failure(Breaker(step_mock(), json_mutation("/fetch", mutate)), "midjourney.submit.imagine")
    field, rule = expected
    assert failure.startswith("poll") and f"body {field}" in failure and rule in failure, failure


def test_validate_reads_a_web_ui_body_as_the_relay_does(tmp_path, capsys) -> None:
    body = tmp_path / "imagine.json"
    body.write_text(json.dumps({"base64Array": None, "notifyHook": "", "prompt": "a fox", "state": "", "botType": ""}))
    assert cli(["validate", "--method", "POST", "--path", "/mj-fast/mj/submit/imagine", str(body)]) == 0
    body.write_text(json.dumps({"taskId": "1731542860123481", "action": "REROLL", "index": 0}))
    assert cli(["validate", "--method", "POST", "--path", "/mj/submit/change", str(body)]) == 1
    assert "index" in capsys.readouterr().out
