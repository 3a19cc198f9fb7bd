"""A rule's ``match``: each condition picks the requests it names, through the clients people use.

Every test adds a rule whose reply says which rule answered, then shows a request that meets the
condition gets it and one that does not gets the generated answer.
"""

from __future__ import annotations

import httpx
import openai
import pytest
from openai_helpers import AUTH, BASE, KEY, WEATHER_TOOL, async_sdk, sdk

from mockserver.steering import ScenarioError


def said(gptnb, messages, **extra) -> str | None:
    reply = sdk(gptnb).chat.completions.create(model=extra.pop("model", "gpt-4o-mini"), messages=messages, **extra)
    return reply.choices[0].message.content


def ask(gptnb, text: str, **extra) -> str | None:
    return said(gptnb, [{"role": "user", "content": text}], **extra)


def answers(gptnb, match: dict, content: str = "matched") -> None:
    gptnb.add_rule({"match": match, "reply": {"content": content}})


def generated(text: str | None) -> bool:
    return text is not None and text.startswith("You said:")


def test_user_message_is_a_substring_or_a_regex_of_the_last_user_turn(gptnb) -> None:
    answers(gptnb, {"user_message": "refund"}, "substring")
    answers(gptnb, {"user_message": "/^order #\\d+$/i"}, "regex")
    assert ask(gptnb, "I want a refund now") == "substring"
    assert ask(gptnb, "ORDER #123") == "regex"
    assert generated(ask(gptnb, "order #12a"))
    # Only the last user turn counts, and a trailing turn with only an image has no text to match.
    earlier = [{"role": "user", "content": "refund"}, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "thanks"}]
    assert generated(said(gptnb, earlier))
    image_only = [{"role": "user", "content": "refund please"}, {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]
    assert said(gptnb, image_only) == "substring"


def test_a_list_of_texts_must_all_be_there(gptnb) -> None:
    answers(gptnb, {"system_message": ["pirate", "polite"]})
    assert ask(gptnb, "hi") is not None and generated(ask(gptnb, "hi"))
    both = [{"role": "system", "content": "Talk like a pirate."}, {"role": "developer", "content": "Be polite."}, {"role": "user", "content": "hi"}]
    assert said(gptnb, both) == "matched"
    assert generated(said(gptnb, both[:1] + both[2:]))


def test_model_is_exact_glob_or_regex(gptnb) -> None:
    gptnb.add_rule({"match": {"model": "gpt-4o"}, "reply": {"content": "exact"}})
    gptnb.add_rule({"match": {"model": "gpt-4o-mini*"}, "reply": {"content": "glob"}})
    gptnb.add_rule({"match": {"model": "/^o\\d/"}, "reply": {"content": "regex"}})
    assert ask(gptnb, "hi", model="gpt-4o") == "exact"
    assert ask(gptnb, "hi", model="gpt-4o-mini-2024-07-18") == "glob"
    assert ask(gptnb, "hi", model="o3-mini") == "regex"
    assert generated(ask(gptnb, "hi", model="gpt-3.5-turbo"))


def test_tool_name_tool_call_id_and_tool_results(gptnb) -> None:
    gptnb.add_rule({"match": {"tool_name": "get_weather", "has_tool_result": False}, "reply": {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}, "id": "call_w1"}]}})
    gptnb.add_rule({"match": {"tool_call_id": "call_w1", "tool_result": "/sunny/"}, "reply": {"content": "It is sunny in Paris."}})
    client = sdk(gptnb)
    first = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather?"}], tools=[WEATHER_TOOL])
    (call,) = first.choices[0].message.tool_calls
    assert (call.id, call.function.name, call.function.arguments) == ("call_w1", "get_weather", '{"city":"Paris","unit":"celsius"}')
    turn = [{"role": "user", "content": "Weather?"}, first.choices[0].message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"}]
    second = client.chat.completions.create(model="gpt-4o-mini", messages=turn, tools=[WEATHER_TOOL])
    assert second.choices[0].message.content == "It is sunny in Paris." and second.choices[0].finish_reason == "stop"
    turn[-1]["content"] = "rain"  # the same call answered otherwise: the generated answer quotes the result
    assert "tool result" in client.chat.completions.create(model="gpt-4o-mini", messages=turn, tools=[WEATHER_TOOL]).choices[0].message.content


def test_turn_index_counts_the_assistant_turns_before_the_request(gptnb) -> None:
    answers(gptnb, {"turn_index": 1}, "second turn")
    assert generated(ask(gptnb, "one"))
    assert said(gptnb, [{"role": "user", "content": "one"}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "two"}]) == "second turn"


def test_input_text_of_embeddings_moderations_and_speech(gptnb) -> None:
    gptnb.add_rule({"match": {"input_text": "hello world"}, "reply": {"embedding": [0.5, 0.5]}})
    gptnb.add_rule({"contract": "openai.moderations.create", "match": {"input_text": "/forbidden/"}, "reply": {"error": "input refused", "status": 400}})
    gptnb.add_rule({"contract": "openai.audio.speech", "match": {"input_text": "too long"}, "reply": {"error": {"message": "speech refused", "code": "too_long"}, "status": 400}})
    client = sdk(gptnb)
    assert client.embeddings.create(model="text-embedding-3-small", input="say hello world").data[0].embedding == [0.5, 0.5]
    assert len(client.embeddings.create(model="text-embedding-3-small", input="other").data[0].embedding) == 1536
    with pytest.raises(openai.BadRequestError, match="input refused"):
        client.moderations.create(model="omni-moderation-latest", input="something forbidden")
    assert client.moderations.create(model="omni-moderation-latest", input="fine").results[0].flagged is False
    with pytest.raises(openai.BadRequestError) as refused:
        client.audio.speech.create(model="tts-1", voice="alloy", input="this is too long")
    assert refused.value.body["code"] == "too_long"


def test_header_query_and_api_key(gptnb) -> None:
    gptnb.add_rule({"match": {"header": {"x-user": "/^alice$/"}}, "reply": {"content": "alice"}})
    gptnb.add_rule({"match": {"api_key": "sk-vip-*"}, "reply": {"content": "vip"}})
    gptnb.add_rule({"contract": "openai.models.list", "match": {"query": {"debug": True}}, "reply": {"body": {"object": "list", "data": []}}})
    message = [{"role": "user", "content": "hi"}]
    assert said(gptnb, message, extra_headers={"X-User": "alice"}) == "alice"
    assert generated(said(gptnb, message, extra_headers={"X-User": "alice2"}))
    vip = openai.OpenAI(base_url=gptnb.openai_base_url, api_key="sk-vip-1", max_retries=0)
    assert vip.chat.completions.create(model="gpt-4o-mini", messages=message).choices[0].message.content == "vip"
    assert httpx.get(f"{BASE}/v1/models?debug=1", headers=AUTH).json()["data"] == []
    assert httpx.get(f"{BASE}/v1/models", headers=AUTH).json()["data"] != []


@pytest.mark.gptnb(clock="step")
def test_a_json_path_on_the_body_picks_midjourney_prompts(gptnb) -> None:
    gptnb.add_rule({"contract": "midjourney.submit.imagine", "match": {"body": {"$.prompt": "/lighthouse/i"}}, "reply": {"task": {"fail": "lighthouses are banned here"}}})
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        failing = client.post("/mj/submit/imagine", json={"prompt": "A Lighthouse at dusk --ar 3:2"}).json()["result"]
        fine = client.post("/mj/submit/imagine", json={"prompt": "a harbour at dawn"}).json()["result"]
        ends = {}
        for task_id in (failing, fine):
            for _ in range(30):
                task = client.get(f"/mj/task/{task_id}/fetch").json()
                if task["status"] in ("SUCCESS", "FAILURE"):
                    ends[task_id] = task
                    break
    assert ends[failing]["status"] == "FAILURE" and ends[failing]["failReason"] == "lighthouses are banned here"
    assert ends[fine]["status"] == "SUCCESS"


def test_json_path_values_equality_existence_and_lists(gptnb) -> None:
    gptnb.add_rule({"contract": "suno.official.generate", "match": {"body": {"$.tags": "rock", "$.make_instrumental": True}}, "reply": {"error": "no instrumental rock", "status": 400}})
    gptnb.add_rule({"contract": "suno.official.generate", "match": {"body": {"$.mv": {"equals": "chirp-v3-5"}, "$.title": {"exists": False}}}, "reply": {"error": "v3.5 needs a title", "status": 400}})
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        body = {"prompt": "[Verse] la la", "tags": "hard rock", "mv": "chirp-v4", "title": "T", "make_instrumental": True}
        assert "no instrumental rock" in client.post("/suno/generate", json=body).text
        assert client.post("/suno/generate", json={**body, "make_instrumental": False}).status_code == 200
        assert "v3.5 needs a title" in client.post("/suno/generate", json={"gpt_description_prompt": "a song", "mv": "chirp-v3-5"}).text
        assert client.post("/suno/generate", json={"gpt_description_prompt": "a song", "mv": "chirp-v3-5", "title": "x"}).status_code == 200


def test_sequence_index_answers_the_nth_matching_call(gptnb) -> None:
    for index, word in enumerate(["first", "second"]):
        gptnb.add_rule({"match": {"user_message": "count", "sequence_index": index}, "reply": {"content": word}})
    assert [ask(gptnb, "count") for _ in range(2)] == ["first", "second"]
    assert generated(ask(gptnb, "count"))
    assert generated(ask(gptnb, "something else"))  # not counted: it does not meet the conditions


def test_an_ordered_list_of_replies_then_the_last_repeats(gptnb) -> None:
    gptnb.add_rule({"match": {"user_message": "flaky"}, "replies": [{"error": {"message": "busy", "type": "rate_limit_exceeded"}, "status": 429}, {"content": "recovered"}]})
    client = openai.OpenAI(base_url=gptnb.openai_base_url, api_key=KEY, max_retries=1)
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "flaky"}])
    assert reply.choices[0].message.content == "recovered"
    assert [c.status for c in gptnb.calls] == [429, 200]
    assert ask(gptnb, "flaky") == "recovered"
    assert gptnb.calls[0].response["error"]["type"] == "rate_limit_exceeded"


def test_times_retires_a_list_and_priority_reorders(gptnb) -> None:
    gptnb.add_rule({"match": {"user_message": "x"}, "replies": [{"content": "one"}, {"content": "two"}], "times": 2})
    assert [ask(gptnb, "x") for _ in range(3)][:2] == ["one", "two"]
    assert generated(ask(gptnb, "x"))
    gptnb.add_rule({"priority": 5, "match": {"user_message": "p"}, "reply": {"content": "high"}})
    gptnb.add_rule({"match": {"user_message": "p"}, "reply": {"content": "newest"}})
    assert ask(gptnb, "p") == "high"


def test_the_first_matching_rule_wins_and_rules_added_later_go_first(gptnb) -> None:
    answers(gptnb, {"user_message": "hello"}, "older")
    answers(gptnb, {"user_message": "hello"}, "newer")
    assert ask(gptnb, "hello") == "newer"


@pytest.mark.anyio
async def test_matching_through_the_async_client_and_streams(gptnb) -> None:
    answers(gptnb, {"user_message": "async", "model": "gpt-4o-mini"}, "from the async client")
    client = async_sdk(gptnb)
    reply = await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "async please"}])
    assert reply.choices[0].message.content == "from the async client"
    stream = await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "async please"}], stream=True)
    assert "".join([c.choices[0].delta.content or "" async for c in stream]) == "from the async client"


def test_the_route_handle_takes_a_match_and_counts_what_it_answered(gptnb) -> None:
    route = gptnb.route("openai.chat.completions", match={"user_message": "refund"}).reply("Refunds take 5 days.")
    assert ask(gptnb, "refund?") == "Refunds take 5 days."
    assert generated(ask(gptnb, "other"))
    assert route.call_count == 1 and route.calls.last.rule is not None


@pytest.mark.parametrize(
    ("match", "problem"),
    [
        ({"user_message": 5}, "match.user_message: expected a string"),
        ({"model": "/[/"}, "not a valid regular expression"),
        ({"colour": "red"}, "unknown condition match.colour"),
        ({"body": {"prompt": "x"}}, r"a JSON path starts with \$"),
        ({"sequence_index": -1}, "match.sequence_index: expected a non-negative integer"),
        ({"header": "x"}, "match.header: expected an object"),
    ],
)
def test_conditions_that_cannot_be_understood_are_refused_with_their_name(gptnb, match, problem) -> None:
    with pytest.raises(ScenarioError, match=problem):
        gptnb.add_rule({"match": match, "reply": {"content": "x"}})


def test_a_conversation_condition_on_a_contract_without_conversations_is_refused(gptnb) -> None:
    with pytest.raises(ScenarioError, match="no request of these contracts is read as a conversation"):
        gptnb.add_rule({"contract": "midjourney.*", "match": {"user_message": "x"}, "reply": {"error": "no", "status": 400}})


TOOL_TURN = [
    {"role": "user", "content": "Weather?"},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "call_7", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
    {"role": "tool", "tool_call_id": "call_7", "content": "sunny"},
]
# (condition, request kwargs that meet it): each is asked through the sync, async and streaming client.
# (A namespace condition only tells namespaces apart in the rules they share: see test_rule_files.)
EVERY_CONDITION = [
    ({"user_message": "/^hi there$/"}, {"messages": [{"role": "user", "content": "hi there"}]}),
    ({"system_message": "terse"}, {"messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "x"}]}),
    ({"model": "gpt-4o"}, {"model": "gpt-4o"}),
    ({"tool_name": "get_weather"}, {"tools": [WEATHER_TOOL]}),
    ({"tool_call_id": "call_7", "tool_result": "sunny", "has_tool_result": True}, {"messages": TOOL_TURN}),
    ({"turn_index": 1}, {"messages": TOOL_TURN}),
    ({"header": {"x-tenant": "acme"}}, {"extra_headers": {"X-Tenant": "acme"}}),
    ({"query": {"trace": "on"}}, {"extra_query": {"trace": "on"}}),
    ({"body": {"$.temperature": 0.5, "$.metadata.team": "/^pay/"}}, {"temperature": 0.5, "metadata": {"team": "payments"}, "store": True}),
]


def _request(kwargs: dict) -> dict:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], **kwargs}


@pytest.mark.parametrize(("condition", "kwargs"), EVERY_CONDITION, ids=[next(iter(c)) for c, _ in EVERY_CONDITION])
@pytest.mark.anyio
async def test_every_chat_condition_through_the_sync_async_and_streaming_clients(gptnb, condition, kwargs) -> None:
    answers(gptnb, condition, "condition met")
    request = _request(kwargs)
    assert sdk(gptnb).chat.completions.create(**request).choices[0].message.content == "condition met"
    client = async_sdk(gptnb)
    assert (await client.chat.completions.create(**request)).choices[0].message.content == "condition met"
    stream = await client.chat.completions.create(**request, stream=True)
    assert "".join([c.choices[0].delta.content or "" async for c in stream]) == "condition met"
    unmet = sdk(gptnb).chat.completions.create(**_request({})).choices[0].message.content
    assert unmet != "condition met"
