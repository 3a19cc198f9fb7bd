"""The OpenAI Responses API through the official SDK (sync, async, stream, parse) and raw httpx / httpx2.

Every test asserts what an OpenAI-compatible server must do (quoting the input, usage that adds up,
arguments valid under the function's schema, typed events in order with consecutive sequence numbers,
stored responses that can be read, listed, cancelled and deleted), never text copied from the mock.
Strict mode is on: any answer that breaks its contract fails the test too.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import httpx2
import openai
import pytest
from openai_helpers import AUTH, BASE, CLIENT_MODULES, async_sdk, sdk, validate
from pydantic import BaseModel

from mockserver.text import count_tokens

MODEL = "gpt-4o-mini"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather forecast for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
}
FLIGHT = {
    "type": "function",
    "name": "book_flight",
    "description": "Book a flight ticket between two airports",
    "parameters": {
        "type": "object",
        "properties": {"origin": {"type": "string", "pattern": "^[A-Z]{3}$"}, "destination": {"type": "string", "pattern": "^[A-Z]{3}$"}},
        "required": ["origin", "destination"],
    },
}


class Forecast(BaseModel):
    city: str
    celsius: int
    sunny: bool


@pytest.fixture
def client(gptnb: Any) -> openai.OpenAI:
    return sdk(gptnb)


def message_texts(response: Any) -> list[str]:
    return [part.text for item in response.output if item.type == "message" for part in item.content]


def read_stream(client_module: Any, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """POST a streaming request and take the whole stream apart strictly: (event name, payload) pairs."""
    with client_module.Client() as http, http.stream("POST", f"{BASE}/v1/responses", json={**body, "stream": True}, headers=AUTH) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = "".join(response.iter_text())
    assert raw.endswith("\n\n") and "[DONE]" not in raw, "Responses streams end with response.completed, no [DONE]"
    events = []
    for block in raw[:-2].split("\n\n"):
        name_line, data_line = block.split("\n")
        assert name_line.startswith("event: ") and data_line.startswith("data: "), block
        events.append((name_line[len("event: ") :], json.loads(data_line[len("data: ") :])))
    return events


# --- create ---------------------------------------------------------------------------------------


def test_a_text_input_is_quoted_and_usage_adds_up(client: openai.OpenAI) -> None:
    response = client.responses.create(model=MODEL, input="Name three rivers in China.", instructions="Answer briefly.", metadata={"ticket": "T-1"})
    assert response.object == "response" and response.status == "completed" and response.id.startswith("resp_")
    assert "Name three rivers in China." in response.output_text
    assert response.instructions == "Answer briefly." and response.metadata == {"ticket": "T-1"} and response.store is True
    usage = response.usage
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens and usage.output_tokens_details.reasoning_tokens == 0
    assert usage.input_tokens > len("Answer briefly".split()) and response.completed_at >= response.created_at


def test_the_same_input_and_seed_give_the_same_text(gptnb: Any, client: openai.OpenAI) -> None:
    first = client.responses.create(model=MODEL, input="Describe a lighthouse.")
    again = client.responses.create(model=MODEL, input="Describe a lighthouse.")
    other = client.responses.create(model=MODEL, input="Describe a windmill.")
    assert first.id != again.id and first.output_text == again.output_text
    assert other.output_text != first.output_text


def test_multi_turn_items_answer_the_last_user_message(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model=MODEL,
        input=[
            {"role": "developer", "content": "Talk like a pirate."},
            {"role": "user", "content": "Where is the treasure?"},
            {"role": "assistant", "content": "Under the old oak, matey."},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "How deep is it buried?"}]},
        ],
    )
    assert "How deep is it buried?" in response.output_text and "treasure" not in response.output_text


def test_previous_response_id_continues_the_conversation(client: openai.OpenAI) -> None:
    first = client.responses.create(model=MODEL, input="My name is Lin.")
    second = client.responses.create(model=MODEL, input="What is my name?", previous_response_id=first.id)
    alone = client.responses.create(model=MODEL, input="What is my name?")
    assert second.previous_response_id == first.id and "What is my name?" in second.output_text
    assert second.usage.input_tokens > alone.usage.input_tokens, "the earlier turn is part of the context"
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="Hi", previous_response_id="resp_unknown")
    assert caught.value.code == "previous_response_not_found" and caught.value.param == "previous_response_id"


def test_an_unstored_response_cannot_be_read_or_continued(client: openai.OpenAI) -> None:
    response = client.responses.create(model=MODEL, input="Forget me.", store=False)
    assert response.store is False and response.output_text
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, input="Again", previous_response_id=response.id)


# --- tools ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "expected"), [("What is the weather in Paris?", "get_weather"), ("Book a flight ticket to Tokyo", "book_flight")])
def test_a_function_call_has_arguments_valid_under_its_schema(client: openai.OpenAI, question: str, expected: str) -> None:
    response = client.responses.create(model=MODEL, input=question, tools=[WEATHER, FLIGHT])
    (call,) = response.output
    assert call.type == "function_call" and call.name == expected and call.call_id.startswith("call_") and call.id.startswith("fc_")
    validate(json.loads(call.arguments), {"get_weather": WEATHER, "book_flight": FLIGHT}[expected]["parameters"])
    assert response.output_text == "" and response.tools[0].strict is True


def test_a_function_output_is_answered_with_a_message(client: openai.OpenAI) -> None:
    asked = client.responses.create(model=MODEL, input="Weather in Oslo?", tools=[WEATHER])
    call = asked.output[0]
    answered = client.responses.create(
        model=MODEL, tools=[WEATHER], previous_response_id=asked.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": '{"temperature": "-3 C"}'}],
    )
    assert [item.type for item in answered.output] == ["message"] and "-3 C" in answered.output_text


def test_tool_choice_none_named_and_unknown(client: openai.OpenAI) -> None:
    assert client.responses.create(model=MODEL, input="Weather?", tools=[WEATHER], tool_choice="none").output[0].type == "message"
    named = client.responses.create(model=MODEL, input="Weather?", tools=[WEATHER, FLIGHT], tool_choice={"type": "function", "name": "book_flight"})
    assert named.output[0].name == "book_flight"
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, input="Hi", tools=[WEATHER], tool_choice={"type": "function", "name": "nope"})


# --- structured output ----------------------------------------------------------------------------


def test_json_schema_output_validates_and_parse_returns_the_model(client: openai.OpenAI) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "rank": {"type": "integer", "minimum": 1}}, "required": ["city", "rank"], "additionalProperties": False}
    response = client.responses.create(model=MODEL, input="Best city?", text={"format": {"type": "json_schema", "name": "pick", "schema": schema, "strict": True}})
    validate(json.loads(response.output_text), schema)
    assert response.text.format.type == "json_schema"
    parsed = client.responses.parse(model=MODEL, input="Forecast for Rome", text_format=Forecast)
    assert isinstance(parsed.output_parsed, Forecast)
    assert isinstance(json.loads(client.responses.create(model=MODEL, input="JSON please", text={"format": {"type": "json_object"}}).output_text), dict)


# --- reasoning and limits -------------------------------------------------------------------------


def test_reasoning_models_think_first(client: openai.OpenAI) -> None:
    plain = client.responses.create(model="o3", input="Why is the sky blue?")
    assert [item.type for item in plain.output] == ["reasoning", "message"] and plain.output[0].summary == []
    assert plain.usage.output_tokens_details.reasoning_tokens > 0 and plain.reasoning.effort == "medium"
    deep = client.responses.create(
        model="gpt-5", input="Why is the sky blue?", reasoning={"effort": "high", "summary": "auto"}, include=["reasoning.encrypted_content"]
    )
    thinking = deep.output[0]
    assert thinking.summary[0].type == "summary_text" and thinking.summary[0].text and thinking.encrypted_content
    assert deep.usage.output_tokens_details.reasoning_tokens > plain.usage.output_tokens_details.reasoning_tokens
    assert deep.usage.output_tokens == deep.usage.output_tokens_details.reasoning_tokens + count_tokens(deep.output_text)


def test_reasoning_parameters_are_refused_where_the_model_has_none(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="Hi", reasoning={"effort": "low"})
    assert caught.value.code == "unsupported_parameter" and caught.value.param == "reasoning.effort"
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="o4-mini", input="Hi", temperature=0.2)
    assert caught.value.param == "temperature"


def test_max_output_tokens_makes_the_response_incomplete(client: openai.OpenAI) -> None:
    cut = client.responses.create(model=MODEL, input="Tell me a long story about the sea.", max_output_tokens=16)
    assert cut.status == "incomplete" and cut.incomplete_details.reason == "max_output_tokens"
    assert cut.usage.output_tokens == 16 and cut.output[0].status == "incomplete" and cut.completed_at is None
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, input="Hi", max_output_tokens=15)
    starved = client.responses.create(model="o3", input="Think hard", max_output_tokens=16, reasoning={"effort": "high"})
    assert starved.status == "incomplete" and [item.type for item in starved.output] == ["reasoning"]


# --- streaming ------------------------------------------------------------------------------------


@CLIENT_MODULES
def test_the_stream_is_the_typed_event_sequence(gptnb: Any, client_module: Any) -> None:
    events = read_stream(client_module, {"model": MODEL, "input": "Stream a greeting"})
    names = [name for name, _ in events]
    assert all(name == payload["type"] for name, payload in events)
    assert [payload["sequence_number"] for _, payload in events] == list(range(len(events)))
    assert names[:4] == ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]
    assert names[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]
    deltas = [payload["delta"] for name, payload in events if name == "response.output_text.delta"]
    final = events[-1][1]["response"]
    text = final["output"][0]["content"][0]["text"]
    assert len(deltas) > 1 and "".join(deltas) == text and "Stream a greeting" in text
    assert events[0][1]["response"]["status"] == "in_progress" and events[0][1]["response"]["output"] == []
    assert final["usage"]["output_tokens"] == len(deltas) and final["id"] == events[0][1]["response"]["id"]
    padded = [payload for name, payload in events if name == "response.output_text.delta"]
    assert all(len(p["delta"] + p["obfuscation"]) % 16 == 0 for p in padded), "deltas are padded to even out their sizes"
    plain = read_stream(client_module, {"model": MODEL, "input": "Stream a greeting", "stream_options": {"include_obfuscation": False}})
    assert not any("obfuscation" in payload for _, payload in plain)


@CLIENT_MODULES
def test_a_streamed_function_call_builds_its_arguments(gptnb: Any, client_module: Any) -> None:
    events = read_stream(client_module, {"model": "o4-mini", "input": "Weather in Lima?", "tools": [WEATHER], "reasoning": {"summary": "auto"}})
    names = [name for name, _ in events]
    assert "response.reasoning_summary_text.delta" in names and names.index("response.reasoning_summary_part.added") < names.index("response.function_call_arguments.delta")
    arguments = "".join(p["delta"] for n, p in events if n == "response.function_call_arguments.delta")
    done = next(p for n, p in events if n == "response.function_call_arguments.done")
    assert done["arguments"] == arguments and done["name"] == "get_weather"
    validate(json.loads(arguments), WEATHER["parameters"])


def test_the_sdk_stream_helper_sync(client: openai.OpenAI) -> None:
    with client.responses.stream(model=MODEL, input="Count to three") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text and "Count to three" in final.output_text
    with client.responses.stream(model=MODEL, input="Forecast for Oslo", text_format=Forecast) as stream:
        parsed = stream.get_final_response().output_parsed
    assert isinstance(parsed, Forecast)


@pytest.mark.anyio
async def test_the_async_sdk_creates_streams_and_parses(gptnb: Any) -> None:
    async with async_sdk(gptnb) as aclient:
        created = await aclient.responses.create(model=MODEL, input="Async hello")
        async with aclient.responses.stream(model=MODEL, input="Async stream") as stream:
            deltas = [event.delta async for event in stream if event.type == "response.output_text.delta"]
            final = await stream.get_final_response()
        parsed = await aclient.responses.parse(model=MODEL, input="Forecast", text_format=Forecast)
        raw = await aclient.responses.create(model=MODEL, input="Raw async stream", stream=True)
        kinds = [event.type async for event in raw]
    assert "Async hello" in created.output_text and "".join(deltas) == final.output_text
    assert isinstance(parsed.output_parsed, Forecast) and kinds[-1] == "response.completed"


# --- stored responses -----------------------------------------------------------------------------


def test_retrieve_list_input_items_and_delete(gptnb: Any, client: openai.OpenAI) -> None:
    turns = [{"role": "user", "content": f"Line {n}"} for n in range(5)]
    response = client.responses.create(model=MODEL, input=turns)
    again = client.responses.retrieve(response.id)
    assert again.model_dump() == response.model_dump()
    newest_first = client.responses.input_items.list(response.id)
    assert [item.content[0].text for item in newest_first.data] == [f"Line {n}" for n in reversed(range(5))]
    assert all(item.id.startswith("msg_") and item.role == "user" for item in newest_first.data)
    page = client.responses.input_items.list(response.id, order="asc", limit=2)
    assert [item.content[0].text for item in page.data] == ["Line 0", "Line 1"] and page.has_more and page.last_id == page.data[-1].id
    rest = client.responses.input_items.list(response.id, order="asc", after=page.last_id)
    assert [item.content[0].text for item in rest.data] == ["Line 2", "Line 3", "Line 4"] and not rest.has_more
    assert [i.content[0].text for i in client.responses.input_items.list(response.id, order="asc")] == [f"Line {n}" for n in range(5)]
    deleted = httpx2.delete(f"{BASE}/v1/responses/{response.id}", headers=AUTH).json()
    assert deleted == {"id": response.id, "object": "response.deleted", "deleted": True}
    for call in (lambda: client.responses.retrieve(response.id), lambda: client.responses.delete(response.id), lambda: client.responses.input_items.list(response.id)):
        with pytest.raises(openai.NotFoundError):
            call()


@pytest.mark.gptnb(clock="manual")
def test_a_background_response_runs_on_the_clock_and_can_be_cancelled(gptnb: Any, client: openai.OpenAI) -> None:
    queued = client.responses.create(model=MODEL, input="Write an essay", background=True)
    assert queued.status == "queued" and queued.output == [] and queued.usage is None and queued.background
    gptnb.clock.advance(1.5)
    assert client.responses.retrieve(queued.id).status == "in_progress"
    gptnb.clock.advance(5)
    done = client.responses.retrieve(queued.id)
    assert done.status == "completed" and "Write an essay" in done.output_text and done.usage.total_tokens > 0
    assert client.responses.cancel(queued.id).status == "completed", "a finished response stays as it is"
    other = client.responses.create(model=MODEL, input="Another essay", background=True)
    assert client.responses.cancel(other.id).status == "cancelled"
    gptnb.clock.advance(60)
    assert client.responses.retrieve(other.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(client.responses.create(model=MODEL, input="Quick").id)
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, input="x", background=True, store=False)


@pytest.mark.gptnb(clock="step")
def test_a_background_response_moves_a_step_per_poll_and_can_be_made_to_fail(gptnb: Any, client: openai.OpenAI) -> None:
    response = client.responses.create(model=MODEL, input="Poll me", background=True)
    seen = [client.responses.retrieve(response.id).status for _ in range(4)]
    assert seen == ["queued", "in_progress", "completed", "completed"]
    failing = client.responses.with_raw_response.create(model=MODEL, input="Doomed", background=True, extra_headers={"X-Mock-Scenario": "fail=upstream overloaded"}).parse()
    statuses = [client.responses.retrieve(failing.id) for _ in range(3)]
    assert statuses[-1].status == "failed" and statuses[-1].error.message == "upstream overloaded"


# --- the relay around it --------------------------------------------------------------------------


def test_steering_and_the_journal_work_on_responses(gptnb: Any, client: openai.OpenAI) -> None:
    gptnb.route("openai.responses.create").fail(429, times=1)
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model=MODEL, input="Hi")
    assert client.responses.create(model=MODEL, input="Hi again").status == "completed"
    assert gptnb.route("openai.responses.create").call_count == 2
    assert gptnb.calls.last.body["input"] == "Hi again" and gptnb.calls.last.status == 200
    documented = httpx.post(f"{BASE}/v1/responses", json={"model": MODEL, "input": "x"}, headers={**AUTH, "X-Mock-Scenario": "example=function_call"}).json()
    assert documented["output"][0]["name"] == "get_current_weather"
    with pytest.raises(openai.InternalServerError) as caught:
        client.responses.create(model="gpt-nonexistent", input="Hi")
    assert caught.value.status_code == 503


@pytest.mark.parametrize(
    ("body", "field"),
    [({"input": "no model"}, "model"), ({"model": MODEL}, "input"), ({"model": MODEL, "input": [{"type": "function_call_output"}]}, "input"),
     ({"model": MODEL, "input": "x", "text": {"format": {"type": "json_schema", "schema": {}}}}, "text")],
)
def test_bad_bodies_get_the_relay_error(gptnb: Any, body: dict[str, Any], field: str) -> None:
    response = httpx.post(f"{BASE}/v1/responses", json=body, headers=AUTH)
    assert response.status_code == 400 and field in response.json()["error"]["message"]


def test_nulls_in_the_members_the_relay_decodes_are_read_as_not_given(gptnb: Any) -> None:
    # Codex CLI wrote "reasoning": null for models without reasoning summaries; new-api decodes it to nothing.
    question = {"model": "gpt-4.1-mini", "input": "Hi", "store": False}
    nulls = {"reasoning": None, "user": None, "max_output_tokens": None, "instructions": None, "include": None, "parallel_tool_calls": None}
    answered = httpx.post(f"{BASE}/v1/responses", json={**question, **nulls}, headers=AUTH)
    assert answered.status_code == 200, answered.text
    plain = httpx.post(f"{BASE}/v1/responses", json=question, headers=AUTH).json()
    texts = [[part["text"] for part in item["content"]] for answer in (answered.json(), plain) for item in answer["output"]]
    assert texts[0] == texts[1] and answered.json()["usage"] == plain["usage"]
    # tools and text are passed on to OpenAI as written, where they are not nullable.
    refused = httpx.post(f"{BASE}/v1/responses", json={**question, "tools": None}, headers=AUTH)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "tools"


def test_the_sdk_works_against_the_live_server(gptnb_server: Any) -> None:
    client = openai.OpenAI(base_url=f"{gptnb_server.url}/v1", api_key="sk-live", max_retries=0)
    created = client.responses.create(model=MODEL, input="Over a socket")
    assert "Over a socket" in created.output_text and client.responses.retrieve(created.id).id == created.id
    with client.responses.stream(model=MODEL, input="Streamed over a socket") as stream:
        assert "Streamed over a socket" in stream.get_final_response().output_text
    assert isinstance(client.responses.parse(model=MODEL, input="x", text_format=Forecast).output_parsed, Forecast)
    assert gptnb_server.calls.last.contract_id == "openai.responses.create"


@pytest.mark.anyio
async def test_the_async_sdk_works_against_the_live_server(gptnb_server: Any) -> None:
    async with openai.AsyncOpenAI(base_url=f"{gptnb_server.url}/v1", api_key="sk-live", max_retries=0) as client:
        async with client.responses.stream(model=MODEL, input="Async socket") as stream:
            final = await stream.get_final_response()
        parsed = await client.responses.parse(model=MODEL, input="x", text_format=Forecast)
    assert "Async socket" in final.output_text and isinstance(parsed.output_parsed, Forecast)
