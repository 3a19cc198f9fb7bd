"""Quota, balances, rate limits and concurrency gates as the relay keeps them, driven by the openai SDK
and raw clients; balances drain by each answer's real usage at new-api's prices."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import time

import httpx
import openai
import pytest

from mockserver.quota.prices import QUOTA_PER_UNIT
from test_serve import running_server

BASE = "https://goapi.gptnb.ai"
KEY = "sk-quota-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Tell me about lighthouses"}]}


def sdk(base: str = BASE, key: str = KEY, **options) -> openai.OpenAI:
    return openai.OpenAI(base_url=base + "/v1", api_key=key, **{"max_retries": 0, **options})


@pytest.fixture
def http(gptnb):
    with httpx.Client(base_url=BASE, headers=AUTH, timeout=30) as client:
        yield client


def test_chat_drains_the_balance_by_its_usage_at_new_apis_ratios(gptnb) -> None:
    gptnb.quota.set(KEY, 100_000)
    reply = sdk().chat.completions.create(**CHAT)
    # gpt-4o-mini: ratio 0.075, completion ratio 4 (new-api setting/ratio_setting/model_ratio.go)
    cost = math.ceil((reply.usage.prompt_tokens + reply.usage.completion_tokens * 4) * 0.075)
    assert gptnb.quota.accounts()[KEY] == {"balance": 100_000 - cost, "used": cost, "requests": 1}
    chunks = list(sdk().chat.completions.create(**CHAT, stream=True, stream_options={"include_usage": True}))
    usage = chunks[-1].usage
    streamed = math.ceil((usage.prompt_tokens + usage.completion_tokens * 4) * 0.075)
    assert gptnb.quota.balance(KEY) == 100_000 - cost - streamed


def test_embeddings_images_audio_and_tasks_are_charged_as_priced(gptnb, http) -> None:
    gptnb.quota.set(KEY, "$10")
    assert gptnb.quota.balance(KEY) == 10 * QUOTA_PER_UNIT
    spent = lambda: 10 * QUOTA_PER_UNIT - gptnb.quota.balance(KEY)  # noqa: E731
    embedding = sdk().embeddings.create(model="text-embedding-3-large", input="a lighthouse keeper's log")
    assert spent() == math.ceil(embedding.usage.prompt_tokens * 0.065)
    before = spent()
    sdk().images.generate(model="dall-e-3", prompt="a lighthouse", n=1)
    assert spent() - before == 0.04 * QUOTA_PER_UNIT  # defaultModelPrice dall-e-3
    before = spent()
    wav = http.post("/v1/audio/speech", json={"model": "tts-1", "input": "Hello there, keeper.", "voice": "alloy", "response_format": "wav"}).content
    transcript = sdk().audio.transcriptions.create(model="whisper-1", file=("hello.wav", wav, "audio/wav"), response_format="json")
    seconds = transcript.usage.seconds
    charged = spent() - before
    assert charged >= math.ceil(seconds * 0.006 / 60 * QUOTA_PER_UNIT)  # whisper by the second (plus the speech)
    before = spent()
    assert http.post("/mj/submit/imagine", json={"prompt": "a lighthouse"}).json()["code"] == 1
    assert spent() - before == 0.1 * QUOTA_PER_UNIT  # mj_imagine
    before = spent()
    assert http.post("/kling/v1/videos/text2video", json={"prompt": "a harbour"}).status_code == 200
    assert spent() - before == 0.1 * QUOTA_PER_UNIT  # the mock's default for families new-api does not price
    before = spent()
    assert http.get("/v1/models").status_code == 200  # free routes cost nothing
    assert spent() == before


def test_a_used_up_key_is_refused_as_new_api_refuses_it(gptnb) -> None:
    gptnb.quota.set(KEY, 5)
    sdk().chat.completions.create(**CHAT)  # costs more than 5: the balance goes below zero
    left = gptnb.quota.balance(KEY)
    assert left < 0
    with pytest.raises(openai.AuthenticationError) as refused:
        sdk().chat.completions.create(**CHAT)
    message = refused.value.body["message"]
    assert message.startswith(f"[sk-quo***key] 该令牌额度已用尽 !token.UnlimitedQuota && token.RemainQuota = {left} (request id: ")
    assert refused.value.status_code == 401 and refused.value.body["type"] == "new_api_error"
    other = sdk(key="sk-other").chat.completions.create(**CHAT)  # keys without quota are not limited
    assert other.choices


def test_a_key_short_of_the_price_gets_each_formats_refusal(gptnb, http) -> None:
    gptnb.quota.set(KEY, 1000)
    with pytest.raises(openai.PermissionDeniedError) as chat:
        sdk().chat.completions.create(**CHAT, max_tokens=4000)
    assert chat.value.body["code"] == "pre_consume_token_quota_failed"
    assert chat.value.body["message"].startswith("token quota is not enough, token remain quota: ＄0.002000, need quota: ＄")
    midjourney = http.post("/mj/submit/imagine", json={"prompt": "a lighthouse"})
    assert (midjourney.status_code, midjourney.json()) == (400, {"description": "quota_not_enough ", "type": "upstream_error", "code": 4})
    for path, body in (("/suno/submit/music", {"prompt": "a sea shanty", "mv": "chirp-v3-5"}), ("/kling/v1/videos/text2video", {"prompt": "a harbour"}), ("/v1/video/generations", {"model": "sora-2", "prompt": "a harbour"})):
        task = http.post(path, json=body)
        assert (task.status_code, task.json()) == (403, {"code": "quota_not_enough", "message": "user quota is not enough", "data": None}), path
    claude = http.post("/v1/messages", json={"model": "claude-3-5-sonnet-20241022", "max_tokens": 4000, "messages": [{"role": "user", "content": "Hi"}]})
    assert claude.status_code == 403 and claude.json()["type"] == "error"
    assert claude.json()["error"]["type"] == "new_api_error" and claude.json()["error"]["message"].startswith("token quota is not enough")
    assert gptnb.quota.balance(KEY) == 1000  # refusals cost nothing


@pytest.mark.gptnb(clock="manual")
def test_rpm_per_key_counts_down_on_the_mock_clock(gptnb, http) -> None:
    gptnb.limits.set(key=KEY, rpm=2)
    first, second = http.post("/v1/chat/completions", json=CHAT), http.post("/v1/chat/completions", json=CHAT)
    assert [first.headers["x-ratelimit-remaining-requests"], second.headers["x-ratelimit-remaining-requests"]] == ["1", "0"]
    assert first.headers["x-ratelimit-limit-requests"] == "2" and first.headers["x-ratelimit-reset-requests"] == "1m0s"
    refused = http.post("/v1/chat/completions", json=CHAT)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60" and refused.headers["retry-after-ms"] == "60000"
    assert refused.json()["error"]["message"].startswith("您已达到请求数限制：1分钟内最多请求2次 (request id: ")
    gptnb.clock.advance(45)
    later = http.post("/v1/chat/completions", json=CHAT)
    assert later.status_code == 429 and later.headers["retry-after"] == "15" and later.headers["x-ratelimit-reset-requests"] == "15s"
    gptnb.clock.advance(15)
    assert http.post("/v1/chat/completions", json=CHAT).headers["x-ratelimit-remaining-requests"] == "1"
    counters = gptnb.limits.counters()
    assert counters == [{"limit": {"key": KEY, "rpm": 2, "window": 60}, "requests": {"limit": 2, "used": 1, "remaining": 1, "frees_in": 60.0}}]


@pytest.mark.gptnb(clock="manual")
def test_the_sdk_backs_off_by_retry_after_and_succeeds_when_the_window_reopens(gptnb, monkeypatch) -> None:
    gptnb.limits.set(key=KEY, rpm=1)
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the SDK's wait moves the mock's clock instead of the wall's
        slept.append(seconds)
        gptnb.clock.advance(seconds)

    monkeypatch.setattr(openai._base_client.time, "sleep", sleep)
    client = sdk(max_retries=3)
    client.chat.completions.create(**CHAT)
    gptnb.clock.advance(25)
    assert client.chat.completions.create(**CHAT).choices
    assert slept == [35.0]  # Retry-After: what was left of the window
    assert [call.status for call in gptnb.calls] == [200, 429, 200]


def test_the_sdk_backs_off_in_real_time_too(gptnb) -> None:
    gptnb.limits.set(key=KEY, rpm=1, window=1)
    client = sdk(max_retries=2)
    client.chat.completions.create(**CHAT)
    started = time.monotonic()
    assert client.chat.completions.create(**CHAT).choices
    assert time.monotonic() - started >= 0.5
    assert [call.status for call in gptnb.calls] == [200, 429, 200]


@pytest.mark.gptnb(clock="manual")
def test_tpm_per_model_is_the_upstreams_429(gptnb, http) -> None:
    gptnb.limits.set(model="gpt-4o*", tpm=60)
    body = {**CHAT, "model": "gpt-4o"}
    assert http.post("/v1/chat/completions", json=body).status_code == 200
    over = http.post("/v1/chat/completions", json=body)
    assert over.status_code == 200 and int(over.headers["x-ratelimit-remaining-tokens"]) < 60
    refused = http.post("/v1/chat/completions", json=body)
    error = refused.json()["error"]
    assert refused.status_code == 429 and error["type"] == "tokens" and error["code"] == "rate_limit_exceeded"
    assert error["message"].startswith("Rate limit reached for gpt-4o on tokens per min (TPM): Limit 60, Used ")
    assert http.post("/v1/chat/completions", json={**body, "model": "gpt-3.5-turbo"}).status_code == 200  # another model


@pytest.mark.anyio
@pytest.mark.gptnb(physics={"ttft": 400})
async def test_a_concurrency_gate_refuses_the_request_too_many(gptnb) -> None:
    gptnb.limits.set(model="gpt-4o-mini", concurrency=1)
    async with httpx.AsyncClient(base_url=BASE, headers=AUTH, timeout=30) as client:

        async def streamed() -> int:
            async with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as response:
                await response.aread()
                return response.status_code

        async def second() -> httpx.Response:
            await asyncio.sleep(0.1)
            return await client.post("/v1/chat/completions", json=CHAT)

        first, refused = await asyncio.gather(streamed(), second())
        assert first == 200 and refused.status_code == 429
        assert refused.json()["error"]["message"].startswith("You have reached the concurrent request limit: at most 1 in-flight requests")
        assert (await client.post("/v1/chat/completions", json=CHAT)).status_code == 200  # the gate is free again
    assert gptnb.limits.counters()[0]["in_flight"] == {"limit": 1, "used": 0}


def test_admin_views_and_changes_balances_and_limits(gptnb) -> None:
    with httpx.Client(base_url=BASE) as admin:
        assert admin.post("/__mock/quota", json={"key": KEY, "balance": "$0.5"}).json() == {"accounts": {KEY: {"balance": 250_000, "used": 0, "requests": 0}}}
        assert admin.post("/__mock/limits", json={"model": "gpt-4o-mini", "rpm": 5}).status_code == 201
        sdk().chat.completions.create(**CHAT)
        accounts = admin.get("/__mock/quota").json()["accounts"][KEY]
        assert accounts["requests"] == 1 and accounts["balance"] == 250_000 - accounts["used"]
        limits = admin.get("/__mock/limits").json()["limits"]
        assert limits == [{"limit": {"model": "gpt-4o-mini", "rpm": 5, "window": 60}, "requests": {"limit": 5, "used": 1, "remaining": 4, "frees_in": limits[0]["requests"]["frees_in"]}}]
        for bad, says in (({"key": KEY}, "balance"), ({"key": KEY, "balance": "lots"}, "'lots'"), ({"key": KEY, "balance": -1}, "0 or more")):
            refused = admin.post("/__mock/quota", json=bad)
            assert refused.status_code == 400 and says in refused.json()["error"]["message"], bad
        for bad, says in (({"rpm": 3}, "one key"), ({"key": "k", "rpm": 0}, "rpm=0"), ({"key": "k"}, "at least one"), ({"key": "k", "rpm": 1, "burst": 2}, "burst")):
            refused = admin.post("/__mock/limits", json=bad)
            assert refused.status_code == 400 and says in refused.json()["error"]["message"], bad
        assert admin.delete("/__mock/quota").json() == {"cleared": True} and admin.delete("/__mock/limits").json() == {"cleared": True}
        assert admin.get("/__mock/quota").json() == {"accounts": {}}
    assert sdk().chat.completions.create(**CHAT).choices


def test_the_realtime_session_is_charged_per_response(gptnb_server) -> None:
    gptnb_server.quota.set(KEY, 100_000)
    url = gptnb_server.url
    client = openai.OpenAI(base_url=url + "/v1", websocket_base_url=url.replace("http://", "ws://") + "/v1", api_key=KEY)
    with client.beta.realtime.connect(model="gpt-4o-realtime-preview") as connection:
        connection.session.update(session={"modalities": ["text"]})
        connection.conversation.item.create(item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]})
        connection.response.create()
        usage = next(event for event in connection if event.type == "response.done").response.usage
    account = gptnb_server.quota.accounts()[KEY]
    # gpt-4o-realtime-preview: ratio 2.5, completion ratio 4
    assert account["used"] == math.ceil((usage.input_tokens + usage.output_tokens * 4) * 2.5) and account["requests"] == 1


def test_serve_takes_quota_and_limit_flags(tmp_path) -> None:
    with running_server(tmp_path / "serve.log", "--quota", f"{KEY}=$0.00001", "--limit", "key=sk-rated,rpm=1") as base:
        assert httpx.get(base + "/__mock/quota").json() == {"accounts": {KEY: {"balance": 5, "used": 0, "requests": 0}}}
        sdk(base).chat.completions.create(**CHAT)
        with pytest.raises(openai.AuthenticationError):
            sdk(base).chat.completions.create(**CHAT)
        rated = sdk(base, key="sk-rated")
        rated.chat.completions.create(**CHAT)
        with pytest.raises(openai.RateLimitError):
            rated.chat.completions.create(**CHAT)
    for flags, says in ((["--quota", "sk-a"], "KEY=AMOUNT"), (["--limit", "key=a,rpm=x"], "rpm=x"), (["--quota", "a=-3"], "0 or more")):
        done = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", *flags], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and says in done.stderr, done.stderr
