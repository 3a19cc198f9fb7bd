"""Callback deliveries that fail or come late on demand, with the retry schedule in the journal, seen
by a real receiver."""

from __future__ import annotations

import time

import httpx
import pytest
from callback_listener import CallbackListener

BASE = "https://goapi.gptnb.ai"
AUTH = {"Authorization": "Bearer sk-test"}


def submit(scenario: str, url: str) -> str:
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        response = client.post("/kling/v1/videos/text2video", json={"prompt": "a harbour", "callback_url": url}, headers={"X-Mock-Scenario": scenario})
    assert response.status_code == 200, response.text
    return response.json()["data"]["task_id"]


def attempts_until(gptnb, done, timeout: float = 10) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done(gptnb.callbacks):
            return list(gptnb.callbacks)
        time.sleep(0.02)
    raise AssertionError([c.response for c in gptnb.callbacks])


@pytest.mark.gptnb(clock="manual")
def test_failing_attempts_are_retried_on_schedule_and_reach_the_receiver(gptnb) -> None:
    with CallbackListener(done=lambda body: False) as receiver:
        task_id = submit("callback_fail=503:2", receiver.url)
        attempts = attempts_until(gptnb, lambda calls: len(calls) >= 3)
    outcomes = [a.response for a in attempts[:3]]
    assert outcomes[0].startswith("attempt 1: HTTP 503 (the receiver answered 200, replaced: callback_fail=503:2); next attempt in 0.1 s")
    assert outcomes[1].startswith("attempt 2: HTTP 503") and outcomes[1].endswith("next attempt in 0.2 s")
    assert outcomes[2] == "attempt 3: HTTP 200"
    assert [a.status for a in attempts[:3]] == [503, 503, 200]
    assert attempts[1].time - attempts[0].time >= 0.1 and attempts[2].time - attempts[1].time >= 0.2
    # The receiver answered every attempt: failures after receipt are what make duplicates.
    assert [b["task_id"] for b in receiver.received[:3]] == [task_id] * 3
    assert gptnb.calls.last.fault == "callback_fail=503:2"


@pytest.mark.gptnb(clock="manual")
def test_refused_attempts_never_arrive_and_the_delivery_is_given_up(gptnb) -> None:
    with CallbackListener(done=lambda body: False) as receiver:
        submit("callback_fail=refused", receiver.url)
        attempts = attempts_until(gptnb, lambda calls: len(calls) >= 4)
    assert [a.status for a in attempts[:4]] == [0, 0, 0, 0]
    assert attempts[3].response == "attempt 4: connection refused (callback_fail=refused); given up"
    assert receiver.received == []


@pytest.mark.gptnb(clock="manual")
def test_a_timed_out_attempt_arrives_but_counts_as_failed(gptnb) -> None:
    with CallbackListener(done=lambda body: False) as receiver:
        submit("callback_fail=timeout:1", receiver.url)
        attempts = attempts_until(gptnb, lambda calls: len(calls) >= 2)
    assert attempts[0].response.startswith("attempt 1: timed out") and attempts[1].response == "attempt 2: HTTP 200"
    assert len(receiver.received) == 2


@pytest.mark.gptnb(clock="manual")
def test_a_client_error_status_is_not_retried(gptnb) -> None:
    gptnb.route("kling.videos.text2video").callback_fail(404)
    with CallbackListener(done=lambda body: False) as receiver:
        submit("", receiver.url)
        attempts = attempts_until(gptnb, lambda calls: len(calls) >= 1)
        time.sleep(0.3)
    assert len(gptnb.callbacks) == 1 and attempts[0].response.endswith("given up")


@pytest.mark.gptnb(clock="manual")
def test_callback_delay_holds_each_delivery_back(gptnb) -> None:
    with CallbackListener(done=lambda body: True) as receiver:
        started = time.monotonic()
        submit("callback_delay=300", receiver.url)
        assert receiver.arrived.wait(10)
        assert time.monotonic() - started >= 0.3


def test_bad_callback_steering_is_a_400_naming_it(gptnb) -> None:
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        response = client.post("/kling/v1/videos/text2video", json={"prompt": "x"}, headers={"X-Mock-Scenario": "callback_fail=302"})
    assert response.status_code == 400 and "callback_fail=302" in response.text
