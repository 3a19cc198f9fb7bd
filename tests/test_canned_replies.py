"""Each kind of canned reply, as the clients that read it see it: the openai SDK (sync, async,
streaming) for the model formats, httpx for the Midjourney and Suno flows.

A canned turn is rendered by the format's own handler, so it must look exactly like a generated one:
the same body shape, stream framing and usage (strict mode checks every answer against its contract).
"""

from __future__ import annotations

import base64
import json
import random
import struct
import time

import httpx
import openai
import pytest
from openai_helpers import AUTH, BASE, KEY, SseStream, WEATHER_TOOL, async_sdk, chat_choice_chunks, sdk

from mockserver import streaming, text
from mockserver.faults.physics import Pacer
from mockserver.steering import ScenarioError, rule_from_json

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Tell me about the harbour"}]}
WORDS = "The harbour opens at 6 am; boats leave every hour, 风大时停航."


def canned(gptnb, reply: dict, **rule) -> None:
    gptnb.add_rule({"match": {"user_message": "harbour"}, "reply": reply, **rule})


def test_content_in_chat_with_the_usage_of_its_tokens(gptnb) -> None:
    canned(gptnb, {"content": WORDS})
    reply = sdk(gptnb).chat.completions.create(**CHAT, n=2)
    assert [c.message.content for c in reply.choices] == [WORDS, WORDS]
    assert reply.usage.completion_tokens == 2 * len(text.tokenize(WORDS))
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    assert reply.choices[0].finish_reason == "stop" and reply.id.startswith("chatcmpl-")


def test_content_streams_token_by_token_with_the_same_framing_and_usage(gptnb) -> None:
    canned(gptnb, {"content": WORDS})
    raw = httpx.post(f"{BASE}/v1/chat/completions", headers=AUTH, json={**CHAT, "stream": True, "stream_options": {"include_usage": True}})
    stream = SseStream(raw.text)
    choices = chat_choice_chunks(stream.events)
    deltas = [c["delta"]["content"] for c in choices if c["delta"].get("content")]
    assert "".join(deltas) == WORDS and deltas == text.tokenize(WORDS)
    assert stream.events[-1]["usage"]["completion_tokens"] == len(deltas)
    assert choices[-1]["finish_reason"] == "stop"


@pytest.mark.anyio
async def test_content_through_the_async_client_and_its_stream_helper(gptnb) -> None:
    canned(gptnb, {"content": WORDS})
    client = async_sdk(gptnb)
    reply = await client.chat.completions.create(**CHAT)
    assert reply.choices[0].message.content == WORDS
    async with client.chat.completions.stream(**CHAT) as stream:
        final = await stream.get_final_completion()
    assert final.choices[0].message.content == WORDS


def test_content_in_the_responses_api_and_legacy_completions(gptnb) -> None:
    canned(gptnb, {"content": WORDS})
    client = sdk(gptnb)
    response = client.responses.create(model="gpt-4o-mini", input="Tell me about the harbour")
    assert response.output_text == WORDS and response.usage.output_tokens == len(text.tokenize(WORDS))
    with client.responses.stream(model="o3-mini", input="the harbour, please") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == WORDS and final.output_text == WORDS
    assert [item.type for item in final.output] == ["message"]  # a canned turn has no reasoning item
    legacy = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="the harbour")
    assert legacy.choices[0].text == WORDS


def test_tool_calls_with_given_or_made_up_ids_stream_as_fragments(gptnb) -> None:
    calls = [{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}, {"name": "get_weather", "arguments": '{"city":"Rome","unit":"celsius"}', "id": "call_rome"}]
    canned(gptnb, {"tool_calls": calls})
    client = sdk(gptnb)
    message = client.chat.completions.create(**CHAT, tools=[WEATHER_TOOL]).choices[0].message
    assert [(c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls] == [("get_weather", {"city": "Paris", "unit": "celsius"}), ("get_weather", {"city": "Rome", "unit": "celsius"})]
    assert message.tool_calls[0].id.startswith("call_") and message.tool_calls[1].id == "call_rome" and message.content is None
    with client.chat.completions.stream(**CHAT, tools=[WEATHER_TOOL]) as stream:
        final = stream.get_final_completion()
    assert [c.function.arguments for c in final.choices[0].message.tool_calls] == [c.function.arguments for c in message.tool_calls]
    assert final.choices[0].finish_reason == "tool_calls"
    response = client.responses.create(model="gpt-4o-mini", input="the harbour", tools=[{"type": "function", "name": "get_weather", "parameters": WEATHER_TOOL["function"]["parameters"]}])
    assert [(i.type, i.name, i.call_id) for i in response.output][1] == ("function_call", "get_weather", "call_rome")


def test_content_and_tool_calls_in_one_turn(gptnb) -> None:
    canned(gptnb, {"content": "Let me check.", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}]})
    message = sdk(gptnb).chat.completions.create(**CHAT, tools=[WEATHER_TOOL]).choices[0].message
    assert message.content == "Let me check." and message.tool_calls[0].function.name == "get_weather"


def test_refusal_in_chat_and_responses_streamed_and_not(gptnb) -> None:
    canned(gptnb, {"refusal": "I can't help with that."})
    client = sdk(gptnb)
    message = client.chat.completions.create(**CHAT).choices[0].message
    assert message.refusal == "I can't help with that." and message.content is None
    with client.chat.completions.stream(**CHAT) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.refusal == "I can't help with that."
    response = client.responses.create(model="gpt-4o-mini", input="the harbour")
    assert response.output[0].content[0].type == "refusal" and response.output[0].content[0].refusal == "I can't help with that."
    with client.responses.stream(model="gpt-4o-mini", input="the harbour") as stream:
        events = [e.type for e in stream]
        streamed = stream.get_final_response()
    assert "response.refusal.delta" in events and streamed.output[0].content[0].refusal == "I can't help with that."


def test_an_error_in_the_openai_shape_with_its_own_type_and_code(gptnb) -> None:
    canned(gptnb, {"error": {"message": "You exceeded your quota", "type": "insufficient_quota", "code": "insufficient_quota", "param": "model"}, "status": 429})
    with pytest.raises(openai.RateLimitError) as raised:
        sdk(gptnb).chat.completions.create(**CHAT)
    error = raised.value.body
    assert error["type"] == "insufficient_quota" and error["code"] == "insufficient_quota" and error["param"] == "model"
    assert error["message"].startswith("You exceeded your quota")
    assert raised.value.response.headers["retry-after"] == "1"


def test_an_error_in_midjourney_and_suno_shapes(gptnb) -> None:
    gptnb.add_rule({"contract": "midjourney.submit.imagine", "reply": {"error": "prompt refused", "status": 400}})
    gptnb.add_rule({"contract": "suno.official.generate", "reply": {"error": "no credits", "status": 402}})
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        refused = client.post("/mj/submit/imagine", json={"prompt": "a cat"})
        assert refused.status_code == 400 and refused.json()["description"].startswith("prompt refused")
        broke = client.post("/suno/generate", json={"gpt_description_prompt": "a song", "mv": "chirp-v4"})
        assert broke.status_code == 402 and "no credits" in broke.text


def test_embeddings_one_for_all_inputs_one_per_input_and_base64(gptnb) -> None:
    gptnb.add_rule({"match": {"input_text": "single"}, "reply": {"embedding": [0.25, -0.5, 1.0]}})
    gptnb.add_rule({"match": {"input_text": "pair"}, "reply": {"embedding": [[1.0, 0.0], [0.0, 1.0]]}})
    client = sdk(gptnb)
    assert [d.embedding for d in client.embeddings.create(model="text-embedding-3-small", input=["single a", "b"]).data] == [[0.25, -0.5, 1.0]] * 2
    assert [d.embedding for d in client.embeddings.create(model="text-embedding-3-small", input=["pair a", "pair b"]).data] == [[1.0, 0.0], [0.0, 1.0]]
    raw = httpx.post(f"{BASE}/v1/embeddings", headers=AUTH, json={"model": "text-embedding-3-small", "input": "single", "encoding_format": "base64"}).json()
    assert list(struct.unpack("<3f", base64.b64decode(raw["data"][0]["embedding"]))) == [0.25, -0.5, 1.0]


def test_a_whole_body_and_a_documented_example_by_name(gptnb) -> None:
    gptnb.add_rule({"contract": "openai.models.retrieve", "reply": {"body": {"id": "gpt-x", "object": "model", "created": 1, "owned_by": "me"}}})
    gptnb.add_rule({"contract": "openai.chat.completions", "match": {"user_message": "example"}, "reply": {"example": "tool_call"}})
    assert httpx.get(f"{BASE}/v1/models/gpt-4o", headers=AUTH).json()["id"] == "gpt-x"
    reply = sdk(gptnb).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "show the example"}])
    assert reply.choices[0].finish_reason == "tool_calls"


@pytest.mark.gptnb(clock="step")
def test_a_midjourney_task_finishes_with_the_given_image_on_the_clock(gptnb) -> None:
    gptnb.add_rule({"contract": "midjourney.submit.imagine", "match": {"body": {"$.prompt": "/cat/"}}, "reply": {"task": {"images": "https://cdn.example.com/cat-grid.png"}}})
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        task_id = client.post("/mj/submit/imagine", json={"prompt": "a cat on a boat"}).json()["result"]
        seen = []
        for _ in range(30):
            task = client.get(f"/mj/task/{task_id}/fetch").json()
            seen.append((task["status"], task["imageUrl"]))
            if task["status"] == "SUCCESS":
                break
        other = client.post("/mj/submit/imagine", json={"prompt": "a dog"}).json()["result"]
        gptnb.tasks.complete(other)
        assert client.get(f"/mj/task/{other}/fetch").json()["imageUrl"].endswith(f"/mj/image/{other}")
    assert seen[-1] == ("SUCCESS", "https://cdn.example.com/cat-grid.png")
    assert len(seen) > 3 and all(url != "https://cdn.example.com/cat-grid.png" for _, url in seen[:-1])  # on the clock, not at once


@pytest.mark.gptnb(clock="step")
def test_suno_clips_finish_with_the_given_audio_each_in_its_place(gptnb) -> None:
    audio = ["https://cdn.example.com/one.mp3", "https://cdn.example.com/two.mp3"]
    gptnb.route("suno.official.generate").finish_task(audio=audio, images=["https://cdn.example.com/cover.jpg"])
    gptnb.route("suno.submit.music").finish_task(audio=audio[:1])
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        ids = [c["id"] for c in client.post("/suno/generate", json={"gpt_description_prompt": "a sea shanty", "mv": "chirp-v4"}).json()["clips"]]
        for _ in range(10):
            clips = client.get(f"/suno/feed/{','.join(ids)}").json()
            if all(c["status"] == "complete" for c in clips):
                break
        assert [c["audio_url"] for c in clips] == audio
        assert {c["image_url"] for c in clips} == {"https://cdn.example.com/cover.jpg"}
        assert all(c["video_url"].startswith(BASE) for c in clips)  # no videos given: the mock's own
        task_id = client.post("/suno/submit/music", json={"gpt_description_prompt": "a waltz", "mv": "chirp-v4"}).json()["data"]
        for _ in range(10):
            task = client.get(f"/suno/fetch/{task_id}").json()["data"]
            if task["status"] == "SUCCESS":
                break
        assert [c["audio_url"] for c in task["data"]] == [audio[0], audio[0]]  # the last URL given repeats


@pytest.mark.gptnb(clock="step")
def test_a_suno_task_fails_with_the_given_reason(gptnb) -> None:
    gptnb.route("suno.submit.music").fail_task("copyrighted lyrics")
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        task_id = client.post("/suno/submit/music", json={"gpt_description_prompt": "a waltz", "mv": "chirp-v4"}).json()["data"]
        for _ in range(10):
            task = client.get(f"/suno/fetch/{task_id}").json()["data"]
            if task["status"] == "FAILURE":
                break
    assert task["fail_reason"] == "copyrighted lyrics"


def test_a_streaming_profile_paces_the_events(gptnb) -> None:
    canned(gptnb, {"content": "one two three"}, stream={"ttft": 200, "tps": 40})
    chunks = list(sdk(gptnb).chat.completions.create(**CHAT, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "one two three"
    sent = [event["at_ms"] for event in gptnb.calls.last.events[:-1]]  # the terminator follows at once
    assert len(sent) == len(chunks) and all(at >= 200 + 25 * i - 0.1 for i, at in enumerate(sent))  # never early


def test_a_streaming_profile_paces_only_streams(gptnb) -> None:
    canned(gptnb, {"content": "one two three"}, stream={"ttft": 2000, "tps": 1})
    started = time.perf_counter()
    assert sdk(gptnb).chat.completions.create(**CHAT).choices[0].message.content == "one two three"
    assert time.perf_counter() - started < 1.5


def test_a_streaming_profile_with_jitter_stays_within_its_bounds() -> None:
    pacer = Pacer(streaming.StreamProfile(ttft=100, tps=10, jitter=0.5).physics(), random.Random(3))
    waits = [pacer.step(i) for i in range(200)]
    assert 0.05 <= waits[0] <= 0.15 and all(0.05 <= w <= 0.15 for w in waits[1:]) and len(set(waits)) > 1


def test_strict_mode_refuses_a_body_that_breaks_the_contract_naming_the_violation(gptnb) -> None:
    with pytest.raises(ScenarioError, match=r'reply on openai.embeddings.create: body data: "data" is a required property'):
        gptnb.add_rule({"contract": "openai.embeddings.create", "reply": {"body": {"object": "list", "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1}}}})
    with pytest.raises(ScenarioError, match="no documented example 'nope' in openai.chat.completions"):
        gptnb.add_rule({"contract": "openai.chat.completions", "reply": {"example": "nope"}})


@pytest.mark.gptnb(strict=False)
def test_outside_strict_mode_a_misfit_is_kept_with_notes(gptnb) -> None:
    rule = gptnb.add_rule({"contract": "openai.embeddings.create", "reply": {"body": {"object": "list"}}})
    assert rule.notes and rule.notes[0].startswith("reply on openai.embeddings.create: body") and "required property" in rule.notes[0]
    assert httpx.get(f"{BASE}/__mock/rules").json()["rules"][0]["notes"] == list(rule.notes)


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"contract": "midjourney.*", "reply": {"content": "hi"}}, "cannot answer content"),
        ({"contract": "openai.chat.completions", "reply": {"task": {"fail": "x"}}}, "a task outcome needs a task submit"),
        ({"contract": "docmee.*", "reply": {"task": {"images": ["https://x.example/a.png"]}}}, "take no media URLs"),
        ({"reply": {"content": "a", "body": {}}}, "cannot be combined"),
        ({"reply": {"refusal": "no", "content": "a"}}, "a refusal is the whole turn"),
        ({"reply": {"error": "x", "status": 200}}, r"expected an error status \(400-599\)"),
        ({"status": 302}, r"statuses below 400 without a body are not injected"),
        ({"reply": {"tool_calls": [{"name": "f", "arguments": "{not json"}]}}, r"tool_calls\[0\].arguments: not valid JSON"),
        ({"reply": {"embedding": ["a"]}}, "embedding: expected a non-empty list of numbers"),
        ({"reply": {"task": {"images": ["ftp://x"]}}}, "expected http"),
        ({"reply": {"colour": "red"}}, "unknown reply fields colour"),
        ({"replies": []}, "replies: expected a non-empty list"),
        ({"reply": {"content": "a"}, "content": "b"}, "give the reply one way"),
        ({"stream": {"tps": 0}, "reply": {"content": "a"}}, "tps: expected more than 0"),
        ({"contract": "nothing.*", "reply": {"content": "a"}}, "names no contract"),
    ],
)
def test_replies_that_cannot_stand_are_refused_with_the_reason(gptnb, rule, problem) -> None:
    with pytest.raises(ScenarioError, match=problem):
        gptnb.add_rule(rule)


def test_admin_api_takes_the_same_rules_and_lists_where_they_came_from(gptnb) -> None:
    created = httpx.post(f"{BASE}/__mock/rules", json={"name": "harbour", "match": {"user_message": "harbour"}, "reply": {"content": WORDS}})
    assert created.status_code == 201 and created.json()["source"] == "admin"
    assert sdk(gptnb).chat.completions.create(**CHAT).choices[0].message.content == WORDS
    listed = httpx.get(f"{BASE}/__mock/rules").json()["rules"][0]
    assert (listed["name"], listed["hits"], listed["reply"]) == ("harbour", 1, {"content": WORDS})
    refused = httpx.post(f"{BASE}/__mock/rules", json={"contract": "midjourney.*", "reply": {"content": "x"}})
    assert refused.status_code == 400 and "cannot answer content" in refused.json()["error"]["message"]


def test_the_header_scenario_still_wins_over_rules(gptnb) -> None:
    canned(gptnb, {"content": WORDS})
    with pytest.raises(openai.RateLimitError):
        sdk(gptnb).chat.completions.create(**CHAT, extra_headers={"X-Mock-Scenario": "code=429"})
    assert sdk(gptnb).chat.completions.create(**CHAT).choices[0].message.content == WORDS
    client = openai.OpenAI(base_url=gptnb.openai_base_url, api_key=KEY, max_retries=0)
    assert client.chat.completions.create(**CHAT).choices[0].message.content == WORDS


def _lifecycle_runner(app, contract_id: str):
    from pytest_plugin.bridge import ASGIBridge
    from pytest_plugin.conformance import ConformanceRunner, RunnerOptions

    client = httpx.Client(transport=httpx.MockTransport(ASGIBridge(app).handle_sync))
    options = RunnerOptions(BASE, only=(contract_id,), allow_paid=True, examples=0, negatives=False, poll_interval=0.0, task_timeout=30.0)
    return ConformanceRunner(options, client=client)


MEDIA = {"images": ["https://cdn.example.com/given.png"], "audio": ["https://cdn.example.com/given.mp3"], "videos": ["https://cdn.example.com/given.mp4"]}


def test_every_family_that_takes_media_urls_hands_them_out_when_its_task_finishes() -> None:
    """For each family declaring it, some documented submit followed to its end shows a given URL."""
    from mockserver.app import MockApp
    from mockserver.config import Settings
    from mockserver.lifecycles import lifecycles
    from mockserver.store import DEFAULT_NAMESPACE, run_sync
    from mockserver.taskflow import url_families

    app = MockApp(Settings(strict=True, clock="step"))
    families = set(url_families())
    submits = [c for c in app.state.registry if c.family in families and c.kind == "task-submit" and c.behavior.get("lifecycle") in lifecycles()]
    shown: set[str] = set()
    followed: set[str] = set()
    for contract in submits:
        run_sync(app.state.reset())
        run_sync(app.state.add_rule(DEFAULT_NAMESPACE, rule_from_json({"contract": contract.id, "reply": {"task": MEDIA}})))
        runner = _lifecycle_runner(app, contract.id)
        outcomes = [o for o in runner.run(runner.plan()) if o.case.kind == "lifecycle" and not o.skipped]
        assert all(o.passed for o in outcomes), [o.first_violation for o in outcomes if not o.passed]
        followed |= {contract.family} if outcomes else set()
        answers = json.dumps([e.response for e in run_sync(app.state.store.journal(DEFAULT_NAMESPACE)) if e.kind == "request"])
        if any(url in answers for urls in MEDIA.values() for url in urls):
            shown.add(contract.family)
    assert shown == followed
    # Viggle's documented submits name assets uploaded before; its flow is checked below with uploads.
    assert families - followed == {"viggle"}


@pytest.mark.gptnb(clock="step")
def test_a_viggle_mix_finishes_with_the_given_video(gptnb) -> None:
    from mockserver import media

    gptnb.route("viggle.mix.generate").finish_task(videos=["https://cdn.example.com/dance.mp4"])
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        image = client.post("/viggle/asset/image", files={"file": ("hero.png", media.png(60, 80, seed=3), "image/png")}).json()["data"]
        video = client.post(f"/pro/viggle/asset/video/{image['id']}", files={"file": ("dance.mp4", media.mp4(), "video/mp4")}).json()["data"]
        task_id = client.post("/viggle/video-task", json={"imageID": image["id"], "videoID": video["id"], "bgMode": 2, "modelInfoID": 3}).json()["data"]["taskID"]
        for _ in range(10):
            (task,) = client.post("/viggle/video-task/by-ids", json={"ids": [task_id]}).json()["data"]
            if task["status"] == 0:
                break
    assert task["result"] == "https://cdn.example.com/dance.mp4"


@pytest.mark.anyio
async def test_every_reply_kind_through_the_async_client(gptnb) -> None:
    gptnb.add_rule({"match": {"user_message": "words"}, "reply": {"content": WORDS}})
    gptnb.add_rule({"match": {"user_message": "call"}, "reply": {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}]}})
    gptnb.add_rule({"match": {"user_message": "refuse"}, "reply": {"refusal": "No."}})
    gptnb.add_rule({"match": {"user_message": "fail"}, "reply": {"error": "down for maintenance", "status": 503}})
    gptnb.add_rule({"match": {"input_text": "vector"}, "reply": {"embedding": [0.5, -0.5]}})
    client = async_sdk(gptnb)

    async def message(text: str):
        async with client.chat.completions.stream(model="gpt-4o-mini", messages=[{"role": "user", "content": text}]) as stream:
            streamed = (await stream.get_final_completion()).choices[0].message
        plain = (await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}], tools=[WEATHER_TOOL])).choices[0].message
        assert streamed.content == plain.content and streamed.refusal == plain.refusal
        return plain

    assert (await message("words")).content == WORDS
    assert (await message("call")).tool_calls[0].function.arguments == '{"city":"Oslo","unit":"celsius"}'
    assert (await message("refuse")).refusal == "No."
    with pytest.raises(openai.InternalServerError, match="down for maintenance"):
        await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "fail"}])
    assert (await client.embeddings.create(model="text-embedding-3-small", input="vector")).data[0].embedding == [0.5, -0.5]
