"""Gemini through the official google-genai SDK (generate, stream, JSON schema output, function calls,
thoughts, async) and raw httpx / httpx2, in-process and against a live server.

Every test asserts what a Gemini-compatible relay must do (parts and usage that add up, output that
conforms to the asked schema, function arguments that fit their declaration, the relay's own error
envelope), never a reply copied from the mock. Strict mode is on, so an answer that breaks its
contract fails the test too.
"""

from __future__ import annotations

import enum
import json
from typing import Any

import httpx
import httpx2
import jsonschema
import pytest
from google import genai
from google.genai import errors, types
from openai_helpers import BASE, CLIENT_MODULES, SseStream
from pydantic import BaseModel

MODEL = "gemini-2.0-flash"
PATH = f"/v1beta/models/{MODEL}:generateContent"
STREAM_PATH = f"/v1beta/models/{MODEL}:streamGenerateContent"
HELLO = {"contents": [{"role": "user", "parts": [{"text": "Hello there"}]}]}
WEATHER = {
    "name": "get_weather",
    "description": "Get the current weather forecast for a city",
    "parameters": {
        "type": "OBJECT",
        "properties": {
            "city": {"type": "STRING", "description": "City name"},
            "unit": {"type": "STRING", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "INTEGER", "minimum": 1, "maximum": 7},
        },
        "required": ["city", "unit"],
    },
}
WEATHER_JSON_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
    "required": ["city", "unit"],
}
MEETING = {
    "name": "schedule_meeting",
    "description": "Schedules a meeting with attendees at a given time and date",
    "parameters": {
        "type": "OBJECT",
        "properties": {"attendees": {"type": "ARRAY", "items": {"type": "STRING"}, "minItems": "1"}, "date": {"type": "STRING", "format": "date"}},
        "required": ["attendees", "date"],
    },
}


def client(base_url: str = BASE, api_version: str | None = None) -> genai.Client:
    """A client to keep while it is used: a genai.Client closes its connections when it is collected."""
    options: dict[str, Any] = {"base_url": base_url}
    if api_version:
        options["api_version"] = api_version
    return genai.Client(api_key="sk-test", http_options=options)


def generate(contents: Any, model: str = MODEL, **config: Any) -> types.GenerateContentResponse:
    sdk = client()
    return sdk.models.generate_content(model=model, contents=contents, config=types.GenerateContentConfig(**config) if config else None)


# --- text ----------------------------------------------------------------------------------------


def test_a_reply_quotes_the_prompt_and_counts_tokens(gptnb) -> None:
    answer = generate("Name three rivers in China.", system_instruction="You are a geography teacher.")
    assert "Name three rivers in China." in answer.text
    [candidate] = answer.candidates
    assert candidate.finish_reason == types.FinishReason.STOP and candidate.content.role == "model"
    usage = answer.usage_metadata
    assert usage.prompt_token_count > 0 and usage.candidates_token_count > 0
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    assert answer.model_version == MODEL and answer.response_id
    call = gptnb.calls.last
    # google-genai 3 speaks API version v1 by default; new-api relays /v1/models/* as Gemini too.
    assert call.contract_id == "gemini.models.generate_content" and call.path == f"/v1/models/{MODEL}:generateContent"
    assert call.body["systemInstruction"]["parts"][0]["text"] == "You are a geography teacher."


def test_the_same_request_gets_the_same_text_and_the_seed_changes_it(gptnb) -> None:
    first, second = generate("Tell me about tea."), generate("Tell me about tea.")
    assert first.text == second.text and first.response_id != second.response_id
    assert generate("Tell me about tea.", seed=7).text != generate("Tell me about tea.", seed=8).text


def test_multi_turn_answers_the_last_user_turn(gptnb) -> None:
    contents = [
        types.Content(role="user", parts=[types.Part(text="My name is Lin.")]),
        types.Content(role="model", parts=[types.Part(text="Hello Lin!")]),
        types.Content(role="user", parts=[types.Part(text="What did I just tell you?")]),
    ]
    assert "What did I just tell you?" in generate(contents).text


def test_max_output_tokens_and_stop_sequences(gptnb) -> None:
    full = generate("Describe the sea.")
    cut = generate("Describe the sea.", max_output_tokens=4)
    assert cut.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS and cut.usage_metadata.candidates_token_count == 4
    assert full.text.startswith(cut.text)
    stopped = generate("Describe the sea.", stop_sequences=["mock reply"])
    assert stopped.candidates[0].finish_reason == types.FinishReason.STOP and full.text.startswith(stopped.text) and "mock reply" not in stopped.text


def test_snake_case_fields_are_read_as_google_reads_them(gptnb) -> None:
    body = {**HELLO, "system_instruction": {"parts": [{"text": "Be brief."}]}, "generation_config": {"max_output_tokens": 3, "candidate_count": 2}}
    answer = httpx.post(f"{BASE}{PATH}", json=body, headers={"x-goog-api-key": "k"}).json()
    assert [c["finishReason"] for c in answer["candidates"]] == ["MAX_TOKENS", "MAX_TOKENS"]
    assert answer["usageMetadata"]["candidatesTokenCount"] == 6


def test_candidate_count_gives_distinct_candidates(gptnb) -> None:
    answer = generate("Write a slogan.", candidate_count=3)
    assert [c.index for c in answer.candidates] == [0, 1, 2]
    assert len({c.content.parts[0].text for c in answer.candidates}) == 3


def test_thoughts_come_first_when_asked_for(gptnb) -> None:
    answer = generate("Why is the sky blue?", model="gemini-2.5-flash", thinking_config=types.ThinkingConfig(include_thoughts=True))
    thought, text = answer.candidates[0].content.parts
    assert thought.thought is True and thought.text and not text.thought
    assert answer.text == text.text and answer.usage_metadata.thoughts_token_count > 0
    plain = generate("Why is the sky blue?", model="gemini-2.5-flash", thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=0))
    assert len(plain.candidates[0].content.parts) == 1 and plain.usage_metadata.thoughts_token_count is None


# --- structured output -------------------------------------------------------------------------


class Recipe(BaseModel):
    recipe_name: str
    ingredients: list[str]
    minutes: int


class Mood(enum.Enum):
    HAPPY = "happy"
    CALM = "calm"
    ANGRY = "angry"


def test_a_response_schema_makes_conforming_json(gptnb) -> None:
    answer = generate("List a few cookie recipes.", response_mime_type="application/json", response_schema=list[Recipe])
    assert isinstance(answer.parsed, list) and all(isinstance(r, Recipe) for r in answer.parsed)
    assert json.loads(answer.text) == [r.model_dump() for r in answer.parsed]


def test_a_json_schema_and_an_enum_are_honoured(gptnb) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "rank": {"type": "integer", "minimum": 1, "maximum": 3}}, "required": ["city", "rank"], "additionalProperties": False}
    answer = generate("Rank a city.", response_mime_type="application/json", response_json_schema=schema)
    jsonschema.validate(json.loads(answer.text), schema)
    mood = generate("How do you feel?", response_mime_type="text/x.enum", response_schema=Mood)
    assert mood.text in {m.value for m in Mood} and mood.parsed in set(Mood)
    assert isinstance(json.loads(generate("Anything", response_mime_type="application/json").text), dict)


def test_a_schema_without_a_json_mime_type_is_refused(gptnb) -> None:
    with pytest.raises(errors.ClientError) as refused:
        generate("Hi", response_schema=Recipe)
    assert refused.value.code == 400


# --- function calls ----------------------------------------------------------------------------


def test_the_model_calls_the_closest_function_with_fitting_arguments(gptnb) -> None:
    tools = [types.Tool(function_declarations=[types.FunctionDeclaration(**MEETING), types.FunctionDeclaration(**WEATHER)])]
    answer = generate("What is the weather in Paris?", tools=tools)
    [call] = answer.function_calls
    assert call.name == "get_weather"
    jsonschema.validate(call.args, WEATHER_JSON_SCHEMA)
    meeting = generate("Schedule a meeting with Bob and Alice", tools=tools)
    [call] = meeting.function_calls
    assert call.name == "schedule_meeting" and len(call.args["attendees"]) >= 1


def test_a_python_function_tool_and_its_response(gptnb) -> None:
    def get_weather(city: str, unit: str = "celsius") -> str:
        """Get the current weather forecast for a city."""
        return f"18 degrees {unit} and sunny in {city}"

    # Automatic function calling: the SDK calls the function the model asked for and sends back its result.
    answer = generate("What is the weather in Oslo?", tools=[get_weather])
    history = answer.automatic_function_calling_history
    assert [p.function_call.name for c in history for p in c.parts if p.function_call] == ["get_weather"]
    assert "sunny in" in answer.text and not answer.function_calls


def test_function_calling_modes(gptnb) -> None:
    tools = [types.Tool(function_declarations=[types.FunctionDeclaration(**WEATHER), types.FunctionDeclaration(**MEETING)])]

    def mode(name: str, **extra: Any) -> types.ToolConfig:
        return types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode=name, **extra))

    assert not generate("What is the weather?", tools=tools, tool_config=mode("NONE")).function_calls
    forced = generate("Hello!", tools=tools, tool_config=mode("ANY", allowed_function_names=["schedule_meeting"]))
    assert [c.name for c in forced.function_calls] == ["schedule_meeting"]
    with pytest.raises(errors.ClientError):
        generate("Hello!", tools=tools, tool_config=mode("ANY", allowed_function_names=["no_such_function"]))


def test_parameters_json_schema_is_honoured(gptnb) -> None:
    declaration = types.FunctionDeclaration(name="get_weather", description="Weather for a city", parameters_json_schema=WEATHER_JSON_SCHEMA)
    [call] = generate("Weather in Lima?", tools=[types.Tool(function_declarations=[declaration])]).function_calls
    jsonschema.validate(call.args, WEATHER_JSON_SCHEMA)


# --- streaming ---------------------------------------------------------------------------------


def test_the_sdk_stream_adds_up_to_the_whole_answer(gptnb) -> None:
    whole = generate("Write a story about a magic backpack.")
    sdk = client()
    chunks = list(sdk.models.generate_content_stream(model=MODEL, contents="Write a story about a magic backpack."))
    assert len(chunks) > 2 and "".join(c.text for c in chunks) == whole.text
    assert [c.candidates[0].finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[-1].usage_metadata.total_token_count == whole.usage_metadata.total_token_count
    assert gptnb.calls.last.contract_id == "gemini.models.stream_generate_content" and gptnb.calls.last.query == {"alt": "sse"}


@CLIENT_MODULES
def test_raw_stream_is_unnamed_events_without_a_terminator(client_module: Any, gptnb) -> None:
    with client_module.Client() as http, http.stream("POST", f"{BASE}{STREAM_PATH}?alt=sse", json=HELLO, headers={"x-goog-api-key": "k"}) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        stream = SseStream("".join(response.iter_text()), terminator=None)
    texts = [part["text"] for event in stream.events for part in event["candidates"][0]["content"]["parts"]]
    whole = httpx.post(f"{BASE}{PATH}", json=HELLO, headers={"x-goog-api-key": "k"}).json()
    assert "".join(texts) == whole["candidates"][0]["content"]["parts"][0]["text"]
    assert stream.events[-1]["usageMetadata"] == whole["usageMetadata"]


def test_a_function_call_streams_in_one_event(gptnb) -> None:
    tools = [types.Tool(function_declarations=[types.FunctionDeclaration(**WEATHER)])]
    config = types.GenerateContentConfig(tools=tools, automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    sdk = client()
    chunks = list(sdk.models.generate_content_stream(model=MODEL, contents="Weather in Rome?", config=config))
    calls = [call for chunk in chunks for call in chunk.function_calls or []]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    jsonschema.validate(calls[0].args, WEATHER_JSON_SCHEMA)


@pytest.mark.anyio
async def test_the_async_client_generates_and_streams_over_httpx2(gptnb) -> None:
    # Given an httpx2 client, google-genai's async side uses it instead of aiohttp (test_aiohttp_interception covers that one).
    sdk = genai.Client(api_key="sk-test", http_options={"base_url": BASE, "httpx_async_client": httpx2.AsyncClient()})
    assert not sdk.aio._api_client._use_aiohttp()
    whole = await sdk.aio.models.generate_content(model=MODEL, contents="Async hello")
    pieces = [chunk.text async for chunk in await sdk.aio.models.generate_content_stream(model=MODEL, contents="Async hello")]
    assert "".join(pieces) == whole.text


# --- models, keys, errors, steering ------------------------------------------------------------


def test_the_model_list_is_the_relays_catalogue(gptnb) -> None:
    sdk = client(api_version="v1beta")
    names = [m.name for m in sdk.models.list()]
    assert {MODEL, "gemini-2.5-pro", "claude-sonnet-4-20250514", "gpt-4o-mini"} <= set(names)
    assert gptnb.calls.last.contract_id == "gemini.models.list"


def test_listing_under_v1_gets_what_the_relay_answers_there(gptnb) -> None:
    # google-genai lists under its default API version v1; new-api answers GET /v1/models with a Gemini key by
    # looking up an empty model id: HTTP 200 with its model_not_found error, in which the SDK finds no models.
    sdk = client()
    assert list(sdk.models.list()) == []
    assert gptnb.calls.last.contract_id == "gemini.models.list_v1" and gptnb.calls.last.status == 200
    assert gptnb.calls.last.response["error"]["code"] == "model_not_found"
    assert httpx.get(f"{BASE}/v1/models?key=k").json()["error"]["code"] == "model_not_found"


@CLIENT_MODULES
def test_the_key_travels_in_a_header_the_query_or_as_a_bearer_token(client_module: Any, gptnb) -> None:
    with client_module.Client() as http:
        assert http.post(f"{BASE}{PATH}", json=HELLO, headers={"x-goog-api-key": "k"}).status_code == 200
        assert http.post(f"{BASE}{PATH}?key=k", json=HELLO).status_code == 200
        assert http.post(f"{BASE}{PATH}", json=HELLO, headers={"Authorization": "Bearer k"}).status_code == 200
        missing = http.post(f"{BASE}{PATH}", json=HELLO)
    assert missing.status_code == 401 and set(missing.json()["error"]) >= {"message", "type"}


def test_an_unknown_model_is_the_relays_503(gptnb) -> None:
    with pytest.raises(errors.ServerError) as failed:
        generate("Hi", model="gemini-no-such-model")
    assert failed.value.code == 503 and failed.value.details["error"]["code"] == "model_not_found"


def test_bad_requests_get_the_relays_envelope(gptnb) -> None:
    http = httpx.Client(headers={"x-goog-api-key": "k"})
    for body in ({"contents": []}, {"contents": [{"role": "user"}]}, {"contents": "hello"}, {**HELLO, "generationConfig": {"temperature": 9}}):
        answer = http.post(f"{BASE}{PATH}", json=body)
        assert answer.status_code == 400, body
        assert set(answer.json()["error"]) >= {"message", "type", "code"}, answer.text
    assert http.post(f"{BASE}{PATH}", json={**HELLO, "generation_config": {"max_output_tokens": "5"}}).status_code == 400
    assert http.post(f"{BASE}/v1beta/models/{MODEL}:noSuchAction", json=HELLO).status_code == 404
    assert http.post(f"{BASE}{PATH}", content=b"{", headers={"content-type": "application/json"}).status_code == 400


def test_nulls_are_read_as_not_given_at_any_depth(gptnb) -> None:
    # simonw/llm-gemini sends "description": null in its function declarations; Google reads null as the default.
    declaration = {"name": "pelican_name_generator", "description": None, "parameters": {"type": "object", "properties": {}}}
    body = {**HELLO, "systemInstruction": None, "tools": [{"functionDeclarations": [declaration]}], "generationConfig": {"temperature": None, "thinkingConfig": None}}
    answer = httpx.post(f"{BASE}{PATH}", json=body, headers={"x-goog-api-key": "k"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["candidates"][0]["content"]["parts"][0]["functionCall"]["name"] == "pelican_name_generator"
    assert gptnb.calls.last.body["tools"][0]["functionDeclarations"][0]["description"] is None  # the journal keeps what was sent


def test_injected_faults_and_delays(gptnb) -> None:
    gptnb.route("gemini.*").fail(429, "quota exceeded", times=1)
    with pytest.raises(errors.ClientError) as limited:
        generate("Hi")
    assert limited.value.code == 429 and "quota exceeded" in limited.value.message
    assert generate("Hi").text
    gptnb.route("gemini.models.generate_content").example("function_call")
    assert generate("anything").function_calls[0].name == "schedule_meeting"
    answer = httpx.post(f"{BASE}{PATH}", json=HELLO, headers={"x-goog-api-key": "k", "Prefer": "code=503"})
    assert answer.status_code == 503 and answer.json()["error"]["message"]


def test_the_sdk_against_a_live_server(gptnb_server) -> None:
    sdk = client(gptnb_server.url)
    pieces = [c.text for c in sdk.models.generate_content_stream(model=MODEL, contents="Live hello")]
    assert "".join(pieces) == sdk.models.generate_content(model=MODEL, contents="Live hello").text
    assert [c.contract_id for c in gptnb_server.calls] == ["gemini.models.stream_generate_content", "gemini.models.generate_content"]
