"""Connection faults (reset, empty, garbage, truncate, slow_headers) on a real socket and in-process:
the same exception class and message in httpx and httpx2, and the openai SDK's retry loop doing the
same thing with each, compared side by side in the same test."""

from __future__ import annotations

import asyncio

import httpx
import httpx2
import openai
import pytest
import requests

BASE = "https://goapi.gptnb.ai"
AUTH = {"Authorization": "Bearer sk-test"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}
FAULTS = ["reset", "empty", "garbage", "truncate=20"]


@pytest.fixture
def both(gptnb, gptnb_server):
    """The in-process mock and the served one, by the name a comparison prints."""
    return {"in-process": (gptnb, BASE), "socket": (gptnb_server, gptnb_server.url)}


@pytest.fixture
def quick_retries(monkeypatch):
    # The SDK's back-off (0.5 s and up) is not under test; its decision to retry is.
    monkeypatch.setattr(openai.OpenAI, "_calculate_retry_timeout", lambda self, *args, **kwargs: 0.01)


def failure(module, base: str, scenario: str, timeout: float = 5) -> str:
    with module.Client(base_url=base, timeout=timeout) as client:
        try:
            client.post("/v1/chat/completions", json=CHAT, headers={**AUTH, "X-Mock-Scenario": scenario})
        except Exception as exc:  # noqa: BLE001 (the class is what is compared)
            return f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
    return "no error"


@pytest.mark.parametrize("scenario", FAULTS)
@pytest.mark.parametrize("module", [httpx, httpx2], ids=["httpx", "httpx2"])
def test_each_fault_raises_what_a_real_socket_raises(both, module, scenario) -> None:
    seen = {where: failure(module, base, scenario) for where, (_, base) in both.items()}
    assert seen["in-process"] == seen["socket"], seen
    assert seen["socket"].startswith(module.__name__ + ".")
    expected = {"reset": "ReadError: [Errno 104] Connection reset by peer", "empty": "RemoteProtocolError: Server disconnected without sending a response."}
    if scenario in expected:
        assert seen["socket"].endswith(expected[scenario])
    elif scenario == "garbage":
        assert "RemoteProtocolError: illegal status line" in seen["socket"]
    else:
        assert "peer closed connection without sending complete message body (received 20 bytes, expected" in seen["socket"]


@pytest.mark.parametrize("scenario", FAULTS)
def test_the_sdk_retries_once_and_succeeds_alike(both, quick_retries, scenario) -> None:
    for where, (mock, base) in both.items():
        mock.route("openai.chat.completions").fault(scenario, times=1)
        client = openai.OpenAI(base_url=base + "/v1", api_key="sk-test", max_retries=2)
        reply = client.chat.completions.create(**CHAT)
        assert reply.choices[0].finish_reason == "stop", where
        assert [call.fault for call in mock.calls] == [scenario, None], where


@pytest.mark.parametrize("scenario", FAULTS)
def test_the_sdk_gives_up_after_its_retries_alike(both, quick_retries, scenario) -> None:
    outcomes = {}
    for where, (mock, base) in both.items():
        mock.route("openai.chat.completions").fault(scenario)
        client = openai.OpenAI(base_url=base + "/v1", api_key="sk-test", max_retries=2)
        with pytest.raises(openai.APIConnectionError) as raised:
            client.chat.completions.create(**CHAT)
        outcomes[where] = (type(raised.value).__name__, type(raised.value.__cause__).__name__, mock.route("openai.chat.completions").call_count)
    assert outcomes["in-process"] == outcomes["socket"]
    assert outcomes["socket"][2] == 3  # the first try and two retries


def test_slow_headers_past_the_clients_timeout_is_a_timeout_alike(both, quick_retries) -> None:
    for where, (mock, base) in both.items():
        assert failure(httpx2, base, "slow_headers=800", timeout=0.2) == "httpx2.ReadTimeout: timed out", where
        mock.route("openai.chat.completions").slow_headers(800, times=1)
        client = openai.OpenAI(base_url=base + "/v1", api_key="sk-test", max_retries=1, timeout=0.3)
        assert client.chat.completions.create(**CHAT).choices, where  # timed out, retried, answered


def test_slow_headers_within_the_timeout_only_delays(gptnb) -> None:
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        response = client.post("/v1/chat/completions", json=CHAT, headers={"X-Mock-Scenario": "slow_headers=100"})
    assert response.status_code == 200 and response.elapsed.total_seconds() >= 0.09  # 100 ms, give or take the timer


def test_requests_sees_broken_connections_on_the_served_mock(gptnb_server) -> None:
    url = gptnb_server.url + "/v1/chat/completions"
    for scenario in ("reset", "empty", "garbage"):
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(url, json=CHAT, headers={**AUTH, "X-Mock-Scenario": scenario}, timeout=5)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.post(url, json=CHAT, headers={**AUTH, "X-Mock-Scenario": "truncate=30"}, timeout=5)


def test_connection_faults_work_on_streams_and_other_families(gptnb) -> None:
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
            client.post("/v1/chat/completions", json={**CHAT, "stream": True}, headers={"X-Mock-Scenario": "truncate=100"})
        with pytest.raises(httpx.ReadError):
            client.post("/mj/submit/imagine", json={"prompt": "a lighthouse"}, headers={"X-Mock-Scenario": "reset"})
        with pytest.raises(httpx.RemoteProtocolError, match="expected"):
            client.get("/v1/models", headers={"X-Mock-Scenario": "truncate=5"})
    assert [call.fault for call in gptnb.calls] == ["truncate=100", "reset", "truncate=5"]


@pytest.mark.parametrize("scenario", FAULTS)
def test_aiohttp_sees_what_it_sees_on_a_socket(both, scenario) -> None:
    import aiohttp

    async def seen(base: str) -> str:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.post(base + "/v1/chat/completions", json=CHAT, headers={**AUTH, "X-Mock-Scenario": scenario}) as response:
                    await response.read()
            except aiohttp.ClientError as exc:
                return f"{type(exc).__name__}: {exc}".replace(base, "BASE")
        return "no error"

    outcomes = {where: asyncio.run(seen(base)) for where, (_, base) in both.items()}
    assert outcomes["in-process"] == outcomes["socket"] != "no error"
