"""Jimeng (即梦, Volcengine's own format on POST /jimeng/) through the gptnb fixture and a live server."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockserver import media
from mockserver.app import MockApp
from mockserver.config import Settings
from mockserver.state import MockState
from pytest_plugin.bridge import ASGIBridge
from pytest_plugin.conformance import ConformanceRunner, RunnerOptions

BASE = "https://goapi.gptnb.ai"
SUBMIT = {"Action": "CVSync2AsyncSubmitTask", "Version": "2022-08-31"}
GET_RESULT = {"Action": "CVSync2AsyncGetResult", "Version": "2022-08-31"}
TEXT_TASK = {"req_key": "jimeng_vgfm_t2v_l20", "prompt": "A lighthouse at dusk, waves below", "seed": -1, "aspect_ratio": "16:9", "frames": 121}


@pytest.fixture
def jimeng(gptnb: Any):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}) as client:
        yield client


def submit(client: httpx.Client, body: dict | None = None) -> dict:
    answer = client.post("/jimeng/", params=SUBMIT, json=body or TEXT_TASK)
    assert answer.status_code == 200, answer.text
    return answer.json()


def get_result(client: httpx.Client, task_id: str) -> httpx.Response:
    return client.post("/jimeng/", params=GET_RESULT, json={"req_key": "jimeng_vgfm_t2v_l20", "task_id": task_id})


def poll_until_done(client: httpx.Client, task_id: str) -> tuple[dict, list[tuple[str, str, str]]]:
    """Poll without sleeping: under the step clock every get-result moves the task one step."""
    seen = []
    for _ in range(10):
        answer = get_result(client, task_id)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["code"] == "success" and body["message"] == ""
        task = body["data"]
        upstream = task["data"]["data"] or {}
        seen.append((task["status"], task["progress"], upstream.get("status", "")))
        if task["status"] in ("SUCCESS", "FAILURE"):
            return task, seen
    raise AssertionError(f"task {task_id} did not finish: {seen}")


def is_mp4(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and media.media_type_of(data) == "video/mp4"


def test_submit_answers_new_apis_video_object(jimeng: httpx.Client) -> None:
    task = submit(jimeng)
    assert task["id"] == task["task_id"] and task["id"].startswith("task_") and len(task["id"]) == 37
    assert (task["object"], task["model"], task["status"], task["progress"]) == ("video", "jimeng_vgfm_t2v_l20", "queued", 0)
    assert isinstance(task["created_at"], int) and "seconds" not in task


@pytest.mark.gptnb(clock="step")
def test_a_task_moves_through_every_status_and_its_video_downloads(jimeng: httpx.Client) -> None:
    task, seen = poll_until_done(jimeng, submit(jimeng)["id"])
    assert seen == [
        ("SUBMITTED", "0%", ""),
        ("QUEUED", "10%", "in_queue"),
        ("QUEUED", "10%", "generating"),
        ("SUCCESS", "100%", "done"),
    ]
    upstream = task["data"]
    assert (upstream["code"], upstream["message"], upstream["status"]) == (10000, "Success", 10000)
    assert upstream["request_id"] and upstream["time_elapsed"].endswith("ms")
    assert task["result_url"] == upstream["data"]["video_url"] and task["platform"] == "jimeng" and task["action"] == "textGenerate"
    assert task["submit_time"] <= task["start_time"] <= task["finish_time"] and task["fail_reason"] == ""
    video = httpx.get(task["result_url"])
    assert video.status_code == 200 and is_mp4(video.content)


@pytest.mark.gptnb(clock="manual")
def test_the_first_poll_shows_the_submit_answer_volcengine_gave(jimeng: httpx.Client) -> None:
    task_id = submit(jimeng)["id"]
    first = get_result(jimeng, task_id).json()["data"]
    assert first["status"] == "SUBMITTED" and first["result_url"] == ""
    assert first["data"]["code"] == 10000 and first["data"]["data"]["task_id"].isdigit()


@pytest.mark.gptnb(clock="step")
def test_a_failed_task_carries_the_upstream_message(jimeng: httpx.Client) -> None:
    task, seen = poll_until_done(jimeng, submit(jimeng, {**TEXT_TASK, "prompt": "mock-fail please"})["id"])
    assert [s for s, _, _ in seen] == ["SUBMITTED", "QUEUED", "FAILURE"]
    assert "mock-fail" in task["fail_reason"] and task["result_url"] == "" and task["progress"] == "100%"
    assert task["data"]["code"] == 50500 and task["data"]["message"] == task["fail_reason"] and task["data"]["data"] is None


def test_images_make_a_generate_task_and_go_zero_values_are_not_given(jimeng: httpx.Client) -> None:
    with_image = submit(jimeng, {**TEXT_TASK, "req_key": "jimeng_v30", "image_urls": ["https://example.com/first.png"]})
    assert get_result(jimeng, with_image["id"]).json()["data"]["action"] == "generate"
    zero = submit(jimeng, {"req_key": "jimeng_vgfm_t2v_l20", "prompt": "A kite", "seed": 0, "aspect_ratio": "", "frames": 0, "image_urls": [], "binary_data_base64": None})
    assert get_result(jimeng, zero["id"]).json()["data"]["action"] == "textGenerate"


@pytest.mark.gptnb(clock="manual")
def test_the_admin_api_finishes_a_task(gptnb: Any, jimeng: httpx.Client) -> None:
    task_id = submit(jimeng)["id"]
    gptnb.tasks.complete(task_id)
    task = get_result(jimeng, task_id).json()["data"]
    assert task["status"] == "SUCCESS" and task["data"]["data"]["status"] == "done" and task["result_url"]


def test_a_missing_action_is_refused_by_the_middleware(jimeng: httpx.Client) -> None:
    for query in ({}, {"Action": "", "Version": "2022-08-31"}):
        answer = jimeng.post("/jimeng/", params=query, json=TEXT_TASK)
        assert answer.status_code == 400
        error = answer.json()["error"]
        assert error["type"] == "new_api_error" and error["message"].startswith("Action query parameter is required (request id: ")


def test_an_action_other_than_get_result_submits_as_the_relay_does(jimeng: httpx.Client) -> None:
    answer = jimeng.post("/jimeng/", params={"Action": "SomethingElse"}, json=TEXT_TASK)
    assert answer.status_code == 200 and answer.json()["object"] == "video"


def test_bad_bodies_get_the_relays_answers(jimeng: httpx.Client) -> None:
    not_json = jimeng.post("/jimeng/", params=SUBMIT, content=b"{not json", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["error"]["message"].startswith("Invalid request body")
    for query in (SUBMIT, GET_RESULT):
        a_list = jimeng.post("/jimeng/", params=query, json=[TEXT_TASK])
        assert a_list.status_code == 400 and a_list.json()["error"]["message"].startswith("Invalid request body")
    no_prompt = jimeng.post("/jimeng/", params=SUBMIT, json={"req_key": "jimeng_vgfm_t2v_l20", "prompt": ""})
    assert no_prompt.status_code == 400 and no_prompt.json() == {"code": "invalid_request", "message": "prompt is required", "data": None}
    wrong_type = jimeng.post("/jimeng/", params=SUBMIT, json={**TEXT_TASK, "frames": "many"})
    assert wrong_type.status_code == 400 and wrong_type.json()["code"] == "invalid_request"
    no_task_id = jimeng.post("/jimeng/", params=GET_RESULT, json={"req_key": "jimeng_vgfm_t2v_l20", "task_id": ""})
    assert no_task_id.status_code == 400
    assert no_task_id.json()["error"]["message"].startswith("task_id is required for CVSync2AsyncGetResult")


def test_unknown_and_other_keys_tasks_do_not_exist(gptnb: Any, jimeng: httpx.Client) -> None:
    unknown = get_result(jimeng, "task_doesnotexist")
    assert unknown.status_code == 400 and unknown.json() == {"code": "task_not_exist", "message": "task_not_exist", "data": None}
    mine = submit(jimeng)["id"]
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-someone-else"}) as other:
        assert get_result(other, mine).json()["code"] == "task_not_exist"
    assert get_result(jimeng, mine).status_code == 200


@pytest.mark.gptnb(clock="step")
def test_a_live_server_serves_the_whole_flow(gptnb_server: Any) -> None:
    with httpx.Client(base_url=gptnb_server.url, headers={"Authorization": "Bearer sk-live"}) as client:
        task, _ = poll_until_done(client, submit(client)["id"])
        assert task["status"] == "SUCCESS"
        assert is_mp4(client.get(task["result_url"]).content)


def test_the_conformance_runner_follows_a_task_to_its_end() -> None:
    """The poll's path carries the Action query and its id travels in the body."""
    app = MockApp(state=MockState(Settings(strict=True, clock="step")))
    client = httpx.Client(transport=httpx.MockTransport(ASGIBridge(app).handle_sync))
    options = RunnerOptions(BASE, only=("jimeng.submit_task",), allow_paid=True, examples=0, negatives=False, poll_interval=0.0, task_timeout=10.0)
    runner = ConformanceRunner(options, client=client)
    outcome = runner.run_case(next(c for c in runner.plan() if c.kind == "lifecycle"))
    assert outcome.violations == []
    polls = outcome.exchanges[1:]
    assert [x["response"]["body"]["data"]["status"] for x in polls] == ["SUBMITTED", "QUEUED", "QUEUED", "SUCCESS"]
