"""The request path through the mock: auth, parsing, validation, routing, steering, journal, admin."""

from __future__ import annotations

import time

import httpx
import pytest

from mockserver.app import MockApp
from mockserver.config import Settings
from pytest_plugin.bridge import ASGIBridge

BASE = "https://goapi.gptnb.ai"
KEY = {"Authorization": "Bearer sk-test"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}


@pytest.fixture
def http(gptnb):
    with httpx.Client(base_url=BASE, headers=KEY) as client:
        yield client


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str) and isinstance(body["error"]["type"], str)
    return body["error"]


def test_every_answer_carries_a_relay_request_id(http) -> None:
    response = http.post("/v1/chat/completions", json=CHAT)
    request_id = response.headers["x-oneapi-request-id"]
    assert len(request_id) >= 14 + 8 and request_id[:14].isdigit()


@pytest.mark.parametrize(
    ("headers", "message"),
    [({}, "未提供令牌"), ({"Authorization": "Basic dXNlcjpwYXNz"}, "未提供令牌"), ({"Authorization": "Bearer "}, "未提供令牌")],
)
def test_missing_or_malformed_key_is_401(gptnb, headers, message) -> None:
    response = httpx.post(f"{BASE}/v1/chat/completions", json=CHAT, headers=headers)
    assert response.status_code == 401
    assert error_of(response)["message"].startswith(message)


@pytest.mark.gptnb(api_keys=["sk-allowed"])
def test_api_keys_restrict_who_gets_in(gptnb) -> None:
    denied = httpx.post(f"{BASE}/v1/chat/completions", json=CHAT, headers=KEY)
    assert denied.status_code == 401 and error_of(denied)["message"].startswith("无效的令牌")
    allowed = httpx.post(f"{BASE}/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer sk-allowed"})
    assert allowed.status_code == 200


@pytest.mark.parametrize(
    ("content", "content_type", "fragment"),
    [
        (b'{"model": "gpt-4o-mini", "messages": [', "application/json", "malformed JSON"),
        (b"", "application/json", "empty"),
        (b"model=gpt-4o-mini", "application/x-www-form-urlencoded", "Content-Type"),
        (b"hello", "text/plain", "Content-Type"),
        (b"[1, 2]", "application/json", "is not of type"),
    ],
)
def test_unparsable_bodies_are_400_with_the_relay_envelope(http, content, content_type, fragment) -> None:
    response = http.post("/v1/chat/completions", content=content, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert fragment in error_of(response)["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "gpt-4o-mini"}, None),
        ({**CHAT, "temperature": "hot"}, "temperature"),
        ({**CHAT, "temperature": 2.5}, "temperature"),
        ({**CHAT, "n": 0}, "n"),
        ({**CHAT, "messages": [{"role": "wizard", "content": "x"}]}, "messages"),
        ({**CHAT, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ],
)
def test_invalid_fields_are_400_naming_the_field(http, body, param) -> None:
    response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["message"].startswith("Invalid request:")
    if param:
        assert error["param"] == param


def test_unknown_model_is_the_relays_503_no_channel(http) -> None:
    response = http.post("/v1/chat/completions", json={**CHAT, "model": "gpt-9-imaginary"})
    assert response.status_code == 503
    assert error_of(response)["message"].startswith("当前分组 default 下对于模型 gpt-9-imaginary 无可用渠道")


def test_bodies_over_the_limit_are_413() -> None:
    bridge = ASGIBridge(MockApp(Settings(max_body_bytes=1024, strict=True)))
    with httpx.Client(transport=httpx.MockTransport(bridge.handle_sync), base_url=BASE, headers=KEY) as client:
        big = {**CHAT, "messages": [{"role": "user", "content": "x" * 5000}]}
        response = client.post("/v1/chat/completions", json=big)
        assert response.status_code == 413 and "limit is 1024 bytes" in error_of(response)["message"]

        def chunked():  # no Content-Length: the limit holds while reading too
            for _ in range(10):
                yield b"x" * 200

        streamed = client.post("/v1/chat/completions", content=chunked(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413
    bridge.close()


def test_unknown_paths_and_methods_are_404_like_the_relay(http) -> None:
    assert http.post("/v1/nothing-here", json={}).status_code == 404
    response = http.get("/v1/chat/completions")
    assert response.status_code == 404 and "Invalid URL (GET /v1/chat/completions)" in error_of(response)["message"]


def test_prefer_header_injects_an_error_for_one_call(http) -> None:
    response = http.post("/v1/chat/completions", json=CHAT, headers={"Prefer": "code=429"})
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert error_of(response)["code"] == "rate_limit_exceeded"
    assert http.post("/v1/chat/completions", json=CHAT).status_code == 200


def test_scenario_header_delays_and_replays_examples(http) -> None:
    started = time.monotonic()
    response = http.post("/v1/chat/completions", json=CHAT, headers={"X-Mock-Scenario": "delay=150; example=tool_call"})
    assert time.monotonic() - started >= 0.15
    assert response.json()["choices"][0]["finish_reason"] == "tool_calls"
    bad = http.post("/v1/chat/completions", json=CHAT, headers={"X-Mock-Scenario": "example=nope"})
    assert bad.status_code == 400 and "no example 'nope'" in error_of(bad)["message"]
    garbled = http.post("/v1/chat/completions", json=CHAT, headers={"X-Mock-Scenario": "color=blue"})
    assert garbled.status_code == 400 and "unknown scenario keys" in error_of(garbled)["message"]


def test_admin_rules_steer_until_removed(http) -> None:
    created = http.post("/__mock/rules", json={"contract": "openai.*", "status": 503, "times": 2})
    assert created.status_code == 201
    assert [http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "a"}).status_code for _ in range(3)] == [503, 503, 200]
    rule = http.post("/__mock/rules", json={"contract": "openai.models.list", "body": {"object": "list", "data": []}, "status": 200}).json()
    assert http.get("/__mock/rules").json()["rules"][0]["id"] == rule["id"]
    assert http.get("/v1/models").json()["data"] == []
    assert http.delete(f"/__mock/rules/{rule['id']}").status_code == 200
    assert http.post("/__mock/rules", json={"contract": 5}).status_code == 400
    assert http.post("/__mock/rules", json={"colour": "red"}).status_code == 400
    assert http.post("/__mock/rules", content=b"{", headers={"content-type": "application/json"}).status_code == 400


def test_journal_records_calls_and_reset_forgets_them(http, gptnb) -> None:
    http.post("/v1/chat/completions", json=CHAT)
    http.get("/v1/models")
    calls = http.get("/__mock/journal").json()["calls"]
    assert [(c["contract"], c["status"]) for c in calls] == [("openai.chat.completions", 200), ("openai.models.list", 200)]
    assert calls[0]["body"] == CHAT
    only_models = http.get("/__mock/journal", params={"contract": "openai.models.list"}).json()
    assert only_models["total"] == 1
    assert gptnb.calls.last.contract_id == "openai.models.list"
    http.post("/__mock/reset")
    assert http.get("/__mock/journal").json()["calls"] == []


def test_admin_api_health_contracts_clock_and_unknown_routes(http) -> None:
    health = http.get("/__mock/health").json()
    assert health["status"] == "ok" and health["contracts"] >= 11
    ids = {c["id"] for c in http.get("/__mock/contracts").json()["contracts"]}
    assert {"openai.chat.completions", "openai.audio.speech", "openai.models.retrieve"} <= ids
    before = http.get("/__mock/clock").json()["now"]
    after = http.post("/__mock/clock", json={"advance": 3600}).json()["now"]
    assert after - before >= 3600
    assert http.post("/__mock/clock", json={"advance": -1}).status_code == 400
    assert http.get("/__mock/nope").status_code == 404
    assert http.get("/__mock/media/image/99999x1/1.png").status_code == 404


def test_journal_is_a_bounded_ring() -> None:
    bridge = ASGIBridge(MockApp(Settings(journal_size=5)))
    with httpx.Client(transport=httpx.MockTransport(bridge.handle_sync), base_url=BASE, headers=KEY) as client:
        for _ in range(12):
            client.get("/v1/models")
        calls = client.get("/__mock/journal").json()["calls"]
    bridge.close()
    assert len(calls) == 5 and calls[-1]["seq"] == 12


def test_whole_floats_count_as_integers_and_bad_callback_urls_are_refused_not_crashed(http, gptnb) -> None:
    two = http.post("/v1/completions", json={"model": "gpt-3.5-turbo-instruct", "prompt": "hi", "n": 2.0})
    assert two.status_code == 200 and len(two.json()["choices"]) == 2
    for url in ("http://[x", "ftp://127.0.0.1/hook", "not a url"):
        submitted = http.post("/mj/submit/imagine", json={"prompt": "a fox", "notifyHook": url})
        assert submitted.status_code == 200 and submitted.json()["code"] == 1
        assert gptnb.callbacks.last.status == 0 and gptnb.callbacks.last.response.startswith("refused")
