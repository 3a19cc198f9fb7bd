"""Chat completions through the real clients: the openai SDK (sync and async) and raw httpx / httpx2.

Every test asserts a property an OpenAI-compatible server must have (determinism, quoting, token
accounting, stop/limit semantics, tool-call schemas, exact SSE framing), never a reply copied from the
mock. Strict mode is on, so any response that breaks its contract also fails the test.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

import anyio
import httpx
import httpx2
import openai
import pytest
from openai_helpers import (
    ALL_TOOLS,
    AUTH,
    BASE,
    CLIENT_MODULES,
    EMAIL_TOOL,
    FLIGHT_TOOL,
    MARKDOWN_LINK,
    SEARCH_TOOL,
    TOOLS_BY_NAME,
    WEATHER_TOOL,
    SseStream,
    async_sdk,
    chat_choice_chunks,
    content_deltas,
    joined_content,
    open_png,
    sdk,
    validate,
)
from pydantic import BaseModel, Field

MODEL = "gpt-4o-mini"
GIZMO = "gpt-4-gizmo-g-2fkFE8rbu"


@pytest.fixture
def client(gptnb: Any) -> openai.OpenAI:
    return sdk(gptnb)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def ask(client: openai.OpenAI, question: str, **params: Any) -> Any:
    return client.chat.completions.create(model=params.pop("model", MODEL), messages=user(question), **params)


def raw_stream(client_module: Any, body: dict[str, Any]) -> tuple[Any, SseStream]:
    """POST a streaming chat request with ``client.stream(...)`` and read the whole event stream."""
    with (
        client_module.Client() as http,
        http.stream("POST", f"{BASE}/v1/chat/completions", json={**body, "stream": True}, headers=AUTH) as response,
    ):
        assert response.status_code == 200, response.read()
        raw = "".join(response.iter_text())
    return response, SseStream(raw)


# --- determinism and content -------------------------------------------------------------------


def test_same_request_and_seed_gives_the_same_reply(client: openai.OpenAI) -> None:
    first = ask(client, "Name three rivers in China.", seed=42)
    second = ask(client, "Name three rivers in China.", seed=42)
    assert first.id != second.id, "each call is its own completion"
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.usage == second.usage


@pytest.mark.parametrize("seeds", [(1, 2), (7, 8), (0, 123456789), (42, 4242)])
def test_a_different_seed_gives_a_different_reply(client: openai.OpenAI, seeds: tuple[int, int]) -> None:
    replies = [ask(client, "Tell me something about tea.", seed=s).choices[0].message.content for s in seeds]
    assert replies[0] != replies[1]


def test_a_different_question_gives_a_different_reply(client: openai.OpenAI) -> None:
    assert (
        ask(client, "What is a haiku?", seed=3).choices[0].message.content
        != ask(client, "What is a sonnet?", seed=3).choices[0].message.content
    )


@pytest.mark.parametrize(
    "question",
    ["What is the capital of France?", "写一首关于秋天的诗", "Summarise: the quick brown fox jumps over the lazy dog"],
)
def test_the_reply_quotes_what_was_asked(client: openai.OpenAI, question: str) -> None:
    reply = ask(client, question)
    message = reply.choices[0].message
    assert message.role == "assistant"
    assert question in message.content
    assert reply.object == "chat.completion"
    assert reply.model == MODEL
    assert reply.id.startswith("chatcmpl-")
    assert reply.choices[0].finish_reason == "stop"


def test_the_reply_answers_the_last_user_turn_of_a_conversation(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "First question about penguins"},
            {"role": "assistant", "content": "Penguins live in the south."},
            {"role": "user", "content": [{"type": "text", "text": "Second question about walruses"}]},
        ],
    )
    content = reply.choices[0].message.content
    assert "walruses" in content
    assert "penguins" not in content


# --- usage ---------------------------------------------------------------------------------------


def test_usage_adds_up_and_grows_with_the_prompt(client: openai.OpenAI) -> None:
    short = ask(client, "Hi").usage
    long = ask(client, "Hi, " + "please consider this long and detailed context sentence. " * 20).usage
    for usage in (short, long):
        assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
        assert usage.prompt_tokens + usage.completion_tokens == usage.total_tokens
    assert long.prompt_tokens > short.prompt_tokens


@CLIENT_MODULES
def test_completion_tokens_equal_the_content_deltas_of_the_same_stream(client: openai.OpenAI, client_module: Any) -> None:
    body = {"model": MODEL, "messages": user("Explain photosynthesis briefly."), "seed": 11}
    reply = client.chat.completions.create(**body)
    _, stream = raw_stream(client_module, {**body, "stream_options": {"include_usage": True}})
    deltas = content_deltas(chat_choice_chunks(stream.events))
    assert reply.usage.completion_tokens == len(deltas)
    assert stream.events[-1]["usage"]["completion_tokens"] == len(deltas)
    assert stream.events[-1]["usage"]["prompt_tokens"] == reply.usage.prompt_tokens


# --- n choices -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 5])
def test_n_gives_n_distinct_choices(client: openai.OpenAI, n: int) -> None:
    reply = ask(client, "Suggest a name for a cat.", n=n)
    assert sorted(c.index for c in reply.choices) == list(range(n))
    contents = [c.message.content for c in reply.choices]
    assert len(set(contents)) == n, "each choice is its own sample"
    assert all("Suggest a name for a cat." in c for c in contents)
    assert reply.usage.prompt_tokens + reply.usage.completion_tokens == reply.usage.total_tokens


def test_n_choices_stream_as_their_own_indexes_and_usage_counts_them_all(client: openai.OpenAI) -> None:
    body = {"model": MODEL, "messages": user("Suggest a name for a dog."), "n": 3, "seed": 5}
    reply = client.chat.completions.create(**body)
    _, stream = raw_stream(httpx2, {**body, "stream_options": {"include_usage": True}})
    total_deltas = 0
    for choice in reply.choices:
        chunks = chat_choice_chunks(stream.events, choice.index)
        assert joined_content(chunks) == choice.message.content
        assert chunks[-1]["finish_reason"] == "stop"
        total_deltas += len(content_deltas(chunks))
    assert reply.usage.completion_tokens == total_deltas


# --- stop ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stop_form", ["string", "list", "list-with-unused"])
def test_stop_cuts_the_reply_before_the_stop_string(client: openai.OpenAI, stop_form: str) -> None:
    question = "Describe the Eiffel Tower in Paris"
    full = ask(client, question, seed=9).choices[0].message.content
    assert "Paris" in full, "the reply quotes the question, so it contains the stop string"
    stop: Any = {"string": "Paris", "list": ["Paris"], "list-with-unused": ["@@never@@", "Paris"]}[stop_form]
    reply = ask(client, question, seed=9, stop=stop)
    choice = reply.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.content == full[: full.index("Paris")]
    assert "Paris" not in choice.message.content
    assert reply.usage.completion_tokens < ask(client, question, seed=9).usage.completion_tokens


def test_the_earliest_of_several_stop_strings_wins(client: openai.OpenAI) -> None:
    question = "alpha beta gamma delta"
    full = ask(client, question).choices[0].message.content
    content = ask(client, question, stop=["delta", "beta"]).choices[0].message.content
    assert content == full[: full.index("beta")]


def test_stop_applies_to_streams_too(client: openai.OpenAI) -> None:
    body = {"model": MODEL, "messages": user("Describe the Eiffel Tower in Paris"), "stop": "Tower"}
    reply = client.chat.completions.create(**body)
    _, stream = raw_stream(httpx2, body)
    chunks = chat_choice_chunks(stream.events)
    assert joined_content(chunks) == reply.choices[0].message.content
    assert "Tower" not in joined_content(chunks)
    assert chunks[-1]["finish_reason"] == "stop"


# --- token limits --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
@pytest.mark.parametrize("limit", [1, 3, 10])
def test_a_token_limit_cuts_the_reply_with_finish_reason_length(client: openai.OpenAI, field: str, limit: int) -> None:
    question = "Write a long essay about the history of tea."
    full = ask(client, question, seed=2).choices[0].message.content
    reply = ask(client, question, seed=2, **{field: limit})
    choice = reply.choices[0]
    assert choice.finish_reason == "length"
    assert reply.usage.completion_tokens == limit
    assert full.startswith(choice.message.content) and len(choice.message.content) < len(full)


def test_a_generous_token_limit_does_not_cut(client: openai.OpenAI) -> None:
    reply = ask(client, "Hi there", max_tokens=4000)
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.completion_tokens < 4000


def test_a_limited_stream_has_exactly_limit_deltas(client: openai.OpenAI) -> None:
    _, stream = raw_stream(httpx, {"model": MODEL, "messages": user("Write a long essay about rivers."), "max_completion_tokens": 4})
    chunks = chat_choice_chunks(stream.events)
    assert len(content_deltas(chunks)) == 4
    assert chunks[-1]["finish_reason"] == "length"


# --- tools ---------------------------------------------------------------------------------------


def _single_tool_call(reply: Any) -> Any:
    return _tool_call_of(reply.choices[0])


def _tool_call_of(choice: Any) -> Any:
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls and len(choice.message.tool_calls) == 1
    tool_call = choice.message.tool_calls[0]
    assert tool_call.type == "function"
    assert tool_call.id.startswith("call_")
    return tool_call


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What's the weather forecast in Hangzhou tomorrow?", "get_weather"),
        ("Please book a flight ticket from PEK to SFO for two passengers", "book_flight"),
        ("Search the shop for red running shoes under 80 dollars", "search_products"),
        ("Send an email to my team about the release", "send_email"),
    ],
)
def test_tool_choice_auto_calls_the_relevant_function_with_valid_arguments(client: openai.OpenAI, question: str, expected: str) -> None:
    reply = ask(client, question, tools=ALL_TOOLS, tool_choice="auto")
    tool_call = _single_tool_call(reply)
    assert tool_call.function.name == expected
    validate(json.loads(tool_call.function.arguments), TOOLS_BY_NAME[expected]["function"]["parameters"])


@pytest.mark.parametrize("tool", ALL_TOOLS, ids=lambda t: t["function"]["name"])
def test_tool_choice_required_always_calls_a_tool(client: openai.OpenAI, tool: dict[str, Any]) -> None:
    reply = ask(client, "Hello, how are you today?", tools=[tool], tool_choice="required")
    tool_call = _single_tool_call(reply)
    assert tool_call.function.name == tool["function"]["name"]
    validate(json.loads(tool_call.function.arguments), tool["function"]["parameters"])


@pytest.mark.parametrize("seed", range(6))
def test_tool_arguments_validate_for_every_seed(client: openai.OpenAI, seed: int) -> None:
    for tool in ALL_TOOLS:
        reply = ask(client, "Do it", tools=[tool], tool_choice="required", seed=seed)
        validate(json.loads(_single_tool_call(reply).function.arguments), tool["function"]["parameters"])


@pytest.mark.parametrize("named", ["send_email", "book_flight"])
def test_a_named_tool_choice_calls_that_function_even_if_another_fits_better(client: openai.OpenAI, named: str) -> None:
    reply = ask(
        client, "What's the weather forecast in Hangzhou?", tools=ALL_TOOLS, tool_choice={"type": "function", "function": {"name": named}}
    )
    tool_call = _single_tool_call(reply)
    assert tool_call.function.name == named
    validate(json.loads(tool_call.function.arguments), TOOLS_BY_NAME[named]["function"]["parameters"])


def test_a_named_tool_choice_that_is_not_in_tools_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        ask(client, "Weather?", tools=[WEATHER_TOOL], tool_choice={"type": "function", "function": {"name": "launch_rocket"}})
    assert caught.value.status_code == 400


def test_tool_choice_none_answers_in_text(client: openai.OpenAI) -> None:
    reply = ask(client, "What's the weather forecast in Hangzhou?", tools=ALL_TOOLS, tool_choice="none")
    choice = reply.choices[0]
    assert choice.finish_reason == "stop"
    assert not choice.message.tool_calls
    assert "Hangzhou" in choice.message.content


def test_each_of_n_choices_makes_its_own_tool_call(client: openai.OpenAI) -> None:
    reply = ask(client, "Book a flight", tools=[FLIGHT_TOOL], tool_choice="required", n=3)
    calls = [_tool_call_of(choice) for choice in reply.choices]
    assert len({c.id for c in calls}) == 3, "tool call ids are unique"
    for call in calls:
        validate(json.loads(call.function.arguments), FLIGHT_TOOL["function"]["parameters"])


def test_tool_calls_count_as_completion_tokens(client: openai.OpenAI) -> None:
    reply = ask(client, "Book a flight", tools=[FLIGHT_TOOL], tool_choice="required")
    assert reply.usage.completion_tokens > 0
    assert reply.usage.prompt_tokens + reply.usage.completion_tokens == reply.usage.total_tokens
    without_tools = ask(client, "Book a flight")
    assert reply.usage.prompt_tokens > without_tools.usage.prompt_tokens, "tool definitions are part of the prompt"


def test_a_tool_result_gets_a_text_answer_that_uses_it(client: openai.OpenAI) -> None:
    messages: list[dict[str, Any]] = user("What's the weather forecast in Hangzhou?")
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    tool_call = _single_tool_call(first)
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": tool_call.id, "content": json.dumps({"temperature_c": 23, "condition": "light rain"})})
    answer = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    choice = answer.choices[0]
    assert choice.finish_reason == "stop"
    assert not choice.message.tool_calls
    assert "light rain" in choice.message.content


def test_a_streamed_tool_call_assembles_into_the_same_call(client: openai.OpenAI) -> None:
    body = {"model": MODEL, "messages": user("Book a flight ticket for my family"), "tools": [FLIGHT_TOOL, WEATHER_TOOL], "seed": 4}
    expected = _single_tool_call(client.chat.completions.create(**body))
    _, stream = raw_stream(httpx2, body)
    chunks = chat_choice_chunks(stream.events)
    assert chunks[0]["delta"]["role"] == "assistant"
    fragments = [tc for c in chunks for tc in c["delta"].get("tool_calls") or []]
    head, rest = fragments[0], fragments[1:]
    assert head["id"] == expected.id and head["type"] == "function" and head["function"]["name"] == "book_flight"
    assert rest, "arguments arrive in fragments after the head"
    assert all(f["index"] == 0 and "id" not in f and "name" not in f["function"] for f in rest)
    arguments = "".join(f["function"].get("arguments") or "" for f in fragments)
    assert json.loads(arguments) == json.loads(expected.function.arguments)
    validate(json.loads(arguments), FLIGHT_TOOL["function"]["parameters"])
    assert chunks[-1]["delta"] == {} and chunks[-1]["finish_reason"] == "tool_calls"


def test_the_sdk_stream_helper_accumulates_a_tool_call(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model=MODEL, messages=user("Search the shop for a teapot"), tools=[SEARCH_TOOL], tool_choice="required"
    ) as stream:
        final = stream.get_final_completion()
    tool_call = _single_tool_call(final)
    validate(json.loads(tool_call.function.arguments), SEARCH_TOOL["function"]["parameters"])


# --- legacy functions ----------------------------------------------------------------------------


def test_legacy_functions_with_function_call_auto(client: openai.OpenAI) -> None:
    function = WEATHER_TOOL["function"]
    reply = ask(client, "Weather in Paris?", functions=[function], function_call="auto")
    choice = reply.choices[0]
    assert choice.finish_reason == "function_call"
    assert choice.message.function_call.name == "get_weather"
    validate(json.loads(choice.message.function_call.arguments), function["parameters"])


def test_legacy_function_call_by_name(client: openai.OpenAI) -> None:
    functions = [WEATHER_TOOL["function"], EMAIL_TOOL["function"]]
    reply = ask(client, "Weather in Paris?", functions=functions, function_call={"name": "send_email"})
    function_call = reply.choices[0].message.function_call
    assert function_call.name == "send_email"
    validate(json.loads(function_call.arguments), EMAIL_TOOL["function"]["parameters"])


def test_legacy_function_call_none_answers_in_text(client: openai.OpenAI) -> None:
    reply = ask(client, "Weather in Paris?", functions=[WEATHER_TOOL["function"]], function_call="none")
    choice = reply.choices[0]
    assert choice.finish_reason == "stop" and choice.message.function_call is None
    assert "Paris" in choice.message.content


def test_a_streamed_legacy_function_call_parses(client: openai.OpenAI) -> None:
    function = FLIGHT_TOOL["function"]
    _, stream = raw_stream(
        httpx2, {"model": MODEL, "messages": user("Fly me home"), "functions": [function], "function_call": {"name": "book_flight"}}
    )
    chunks = chat_choice_chunks(stream.events)
    parts = [c["delta"]["function_call"] for c in chunks if c["delta"].get("function_call")]
    assert parts[0]["name"] == "book_flight"
    validate(json.loads("".join(p.get("arguments") or "" for p in parts)), function["parameters"])
    assert chunks[-1]["finish_reason"] == "function_call"


# --- structured output ---------------------------------------------------------------------------


def test_response_format_json_object_gives_a_json_object(client: openai.OpenAI) -> None:
    reply = ask(client, "List three fruits as JSON.", response_format={"type": "json_object"})
    assert isinstance(json.loads(reply.choices[0].message.content), dict)


RECIPE = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "servings": {"type": "integer", "minimum": 1, "maximum": 12},
        "difficulty": {"type": "string", "enum": ["easy", "medium", "hard"]},
        "ingredients": {
            "type": "array",
            "minItems": 2,
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "grams": {"type": "number", "exclusiveMinimum": 0}},
                "required": ["name", "grams"],
                "additionalProperties": False,
            },
        },
        "vegetarian": {"type": "boolean"},
    },
    "required": ["title", "servings", "difficulty", "ingredients", "vegetarian"],
    "additionalProperties": False,
}
INVOICE = {
    "type": "object",
    "properties": {
        "invoice_id": {"type": "string", "pattern": "^INV-[0-9]{6}$"},
        "customer": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}, "vip": {"type": "boolean"}},
            "required": ["name", "email"],
        },
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
                "required": ["sku", "qty"],
            },
        },
        "status": {"enum": ["draft", "sent", "paid"]},
        "notes": {"type": ["string", "null"]},
    },
    "required": ["invoice_id", "customer", "lines", "status", "notes"],
}
SENTIMENT = {
    "type": "object",
    "properties": {
        "label": {"type": "string", "enum": ["positive", "negative", "neutral"]},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "keywords": {"type": "array", "items": {"type": "string"}, "maxItems": 5, "uniqueItems": True},
    },
    "required": ["label", "score", "keywords"],
    "additionalProperties": False,
}


@pytest.mark.parametrize("schema", [RECIPE, INVOICE, SENTIMENT], ids=["recipe", "invoice", "sentiment"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_response_format_json_schema_content_validates(client: openai.OpenAI, schema: dict[str, Any], seed: int) -> None:
    reply = ask(
        client,
        "Give me the data.",
        seed=seed,
        response_format={"type": "json_schema", "json_schema": {"name": "data", "schema": schema, "strict": True}},
    )
    assert reply.choices[0].finish_reason == "stop"
    validate(json.loads(reply.choices[0].message.content), schema)


def test_a_streamed_json_schema_reply_validates(client: openai.OpenAI) -> None:
    _, stream = raw_stream(
        httpx2,
        {
            "model": MODEL,
            "messages": user("Recipe please"),
            "response_format": {"type": "json_schema", "json_schema": {"name": "recipe", "schema": RECIPE}},
        },
    )
    validate(json.loads(joined_content(chat_choice_chunks(stream.events))), RECIPE)


class Priority(str, Enum):
    low = "low"
    high = "high"


class Task(BaseModel):
    title: str
    priority: Priority
    estimate_hours: float = Field(ge=0)


class Plan(BaseModel):
    goal: str
    tasks: list[Task]


def test_the_sdk_parse_helper_gets_a_pydantic_object(client: openai.OpenAI) -> None:
    # The SDK turns the model into a strict json_schema with $defs/$ref and parses the reply back.
    completion = client.chat.completions.parse(model=MODEL, messages=user("Plan my week"), response_format=Plan)
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Plan)
    assert all(isinstance(t.priority, Priority) for t in parsed.tasks)


# --- logprobs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("top", [0, 1, 5, 20])
def test_logprobs_cover_every_token_with_top_alternatives(client: openai.OpenAI, top: int) -> None:
    reply = ask(client, "Say something short.", logprobs=True, top_logprobs=top)
    choice = reply.choices[0]
    items = choice.logprobs.content
    assert len(items) == reply.usage.completion_tokens
    assert "".join(i.token for i in items) == choice.message.content
    for item in items:
        assert item.logprob <= 0
        assert bytes(item.bytes) == item.token.encode()
        assert len(item.top_logprobs) == top
        assert len({alt.token for alt in item.top_logprobs}) == top
        assert all(alt.logprob <= 0 for alt in item.top_logprobs)
        logprobs = [alt.logprob for alt in item.top_logprobs]
        assert logprobs == sorted(logprobs, reverse=True)
        if top:
            assert item.logprob <= max(logprobs) + 1e-9, "the top alternatives are at least as likely as the sampled token"


def test_without_logprobs_there_are_none(client: openai.OpenAI) -> None:
    assert ask(client, "Hi").choices[0].logprobs is None


def test_logprobs_are_part_of_the_deterministic_reply(client: openai.OpenAI) -> None:
    first, second = (ask(client, "Say something short.", seed=5, logprobs=True, top_logprobs=3).choices[0].logprobs for _ in range(2))
    assert first == second


def test_streamed_logprobs_equal_the_plain_reply_logprobs(client: openai.OpenAI) -> None:
    body = {"model": MODEL, "messages": user("Say something"), "seed": 5, "logprobs": True, "top_logprobs": 2}
    plain = client.chat.completions.create(**body).choices[0].logprobs.model_dump()["content"]
    _, stream = raw_stream(httpx2, body)
    streamed = [item for c in chat_choice_chunks(stream.events) if c["logprobs"] for item in c["logprobs"]["content"]]
    assert streamed == plain


def test_streamed_logprobs_match_each_delta(client: openai.OpenAI) -> None:
    _, stream = raw_stream(httpx2, {"model": MODEL, "messages": user("Say something"), "logprobs": True, "top_logprobs": 2})
    for chunk in chat_choice_chunks(stream.events):
        if chunk["delta"].get("content"):
            (item,) = chunk["logprobs"]["content"]
            assert item["token"] == chunk["delta"]["content"]
            assert len(item["top_logprobs"]) == 2


# --- streaming: SDK ------------------------------------------------------------------------------


def test_sdk_stream_matches_the_non_stream_reply(client: openai.OpenAI) -> None:
    body = {"model": MODEL, "messages": user("Tell me about the Great Wall."), "seed": 8}
    reply = client.chat.completions.create(**body)
    chunks = list(client.chat.completions.create(**body, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1 and len({c.created for c in chunks}) == 1
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == reply.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)


def test_sdk_stream_with_include_usage_ends_with_a_usage_chunk(client: openai.OpenAI) -> None:
    body = {"model": MODEL, "messages": user("Tell me about the Great Wall."), "seed": 8}
    reply = client.chat.completions.create(**body)
    chunks = list(client.chat.completions.create(**body, stream=True, stream_options={"include_usage": True}))
    last = chunks[-1]
    assert last.choices == []
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (reply.usage.prompt_tokens, reply.usage.completion_tokens)
    assert all(c.usage is None for c in chunks[:-1])


def test_sdk_stream_helper_final_completion_equals_the_plain_reply(client: openai.OpenAI) -> None:
    body = {"model": MODEL, "messages": user("Describe a sunrise."), "seed": 21}
    reply = client.chat.completions.create(**body)
    with client.chat.completions.stream(**body) as stream:
        texts = [event.delta for event in stream if event.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(texts) == final.choices[0].message.content == reply.choices[0].message.content


# --- streaming: raw SSE framing ------------------------------------------------------------------


@CLIENT_MODULES
@pytest.mark.parametrize("options", [None, {"include_usage": False}], ids=["no-options", "include_usage-false"])
def test_raw_stream_framing_without_include_usage(gptnb: Any, client_module: Any, options: dict[str, Any] | None) -> None:
    body = {"model": MODEL, "messages": user("Count to five."), "seed": 1}
    response, stream = raw_stream(client_module, {**body, "stream_options": options} if options else body)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = stream.events
    assert all(e["object"] == "chat.completion.chunk" for e in events)
    assert len({e["id"] for e in events}) == 1 and len({e["created"] for e in events}) == 1
    assert all(len(e["choices"]) == 1 for e in events), "no usage chunk (choices: []) without include_usage"
    assert all("usage" not in e or e["usage"] is None for e in events)
    first, finish = events[0]["choices"][0], events[-1]["choices"][0]
    assert first["delta"]["role"] == "assistant"
    assert all("role" not in e["choices"][0]["delta"] for e in events[1:])
    assert finish["delta"] == {} and finish["finish_reason"] == "stop"
    assert all(e["choices"][0]["finish_reason"] is None for e in events[:-1])
    with client_module.Client() as http:
        plain = http.post(f"{BASE}/v1/chat/completions", json=body, headers=AUTH).json()
    assert joined_content(chat_choice_chunks(events)) == plain["choices"][0]["message"]["content"]


@CLIENT_MODULES
def test_raw_stream_framing_with_include_usage(gptnb: Any, client_module: Any) -> None:
    body = {"model": MODEL, "messages": user("Count to five."), "stream_options": {"include_usage": True}}
    _, stream = raw_stream(client_module, body)
    *chunks, usage_chunk = stream.events
    assert all("usage" in c and c["usage"] is None for c in chunks), "every chunk carries usage: null"
    assert usage_chunk["choices"] == []
    usage = usage_chunk["usage"]
    assert usage["prompt_tokens"] + usage["completion_tokens"] == usage["total_tokens"]
    assert usage["completion_tokens"] == len(content_deltas(chat_choice_chunks(chunks)))
    assert chunks[-1]["choices"][0]["delta"] == {} and chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert usage_chunk["id"] == chunks[0]["id"]


@CLIENT_MODULES
def test_raw_stream_arrives_as_separate_events(gptnb: Any, client_module: Any) -> None:
    """Lines read one by one give the same events as the whole body: nothing is glued together."""
    with (
        client_module.Client() as http,
        http.stream(
            "POST", f"{BASE}/v1/chat/completions", json={"model": MODEL, "messages": user("Hi"), "stream": True}, headers=AUTH
        ) as response,
    ):
        lines = list(response.iter_lines())
    data_lines = [line for line in lines if line]
    assert all(line.startswith("data: ") for line in data_lines)
    assert data_lines[-1] == "data: [DONE]"
    assert all(lines[i] == "" for i in range(1, len(lines), 2)), "each data line is followed by a blank line"


# --- gpts and gpt-4-all --------------------------------------------------------------------------


def test_a_gpts_model_answers_and_is_journalled_as_the_gpts_contract(gptnb: Any, client: openai.OpenAI) -> None:
    reply = ask(client, "Give me three title ideas for a blog post about tea.", model=GIZMO)
    assert "blog post about tea" in reply.choices[0].message.content
    assert reply.model.startswith("gpt-4-gizmo")
    assert gptnb.calls.last.contract_id == "openai.chat.gpts"
    assert gptnb.calls.last.status == 200


def test_a_gpts_model_streams(gptnb: Any, client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="gpt-4o-gizmo-g-abc123XYZ", messages=user("Hello GPT"), stream=True))
    assert "Hello GPT" in "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert gptnb.calls.last.contract_id == "openai.chat.gpts"


def test_a_plain_chat_model_is_not_journalled_as_gpts(gptnb: Any, client: openai.OpenAI) -> None:
    ask(client, "Hi")
    assert gptnb.calls.last.contract_id == "openai.chat.completions"


def test_a_bare_gizmo_id_is_not_a_model(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        ask(client, "Hi", model="g-2fkFE8rbu")
    assert caught.value.status_code == 503
    assert "g-2fkFE8rbu" in caught.value.message


def _image_urls(content: str) -> list[str]:
    urls = MARKDOWN_LINK.findall(content)
    assert urls, f"no markdown image link in {content!r}"
    return urls


def test_gpt_4_all_replies_with_a_downloadable_png(gptnb: Any) -> None:
    with httpx2.Client() as http:
        client = sdk(gptnb, http_client=http)
        reply = client.chat.completions.create(model="gpt-4-all", messages=user("画一只戴围巾的橘猫"))
        assert gptnb.calls.last.contract_id == "openai.chat.gpt4all_image"
        content = reply.choices[0].message.content
        assert "![" in content, "an inline markdown image"
        for url in set(_image_urls(content)):
            response = http.get(url)
            assert response.status_code == 200
            assert response.headers["content-type"] == "image/png"
            assert open_png(response.content).size == (1024, 1024)


def test_gpt_4_all_image_downloads_through_httpx_too(gptnb: Any) -> None:
    with httpx.Client() as http:
        reply = http.post(
            f"{BASE}/v1/chat/completions", json={"model": "gpt-4o-all", "messages": user("draw a lighthouse")}, headers=AUTH
        ).json()
        url = _image_urls(reply["choices"][0]["message"]["content"])[0]
        assert open_png(http.get(url).content).size == (1024, 1024)


def test_gpt_4_all_images_differ_by_prompt_and_repeat_for_the_same_prompt(gptnb: Any, client: openai.OpenAI) -> None:
    def url_for(prompt: str) -> str:
        return _image_urls(ask(client, prompt, model="gpt-4-all").choices[0].message.content)[0]

    assert url_for("a red cat") == url_for("a red cat")
    assert url_for("a red cat") != url_for("a blue dog")


def test_gpt_4_all_streams_the_image_link(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="gpt-4-all", messages=user("draw a fox"), stream=True))
    assert _image_urls("".join(c.choices[0].delta.content or "" for c in chunks if c.choices))


# --- errors --------------------------------------------------------------------------------------


def test_an_unknown_model_has_no_channel(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        ask(client, "Hi", model="gpt-nonexistent-9")
    assert caught.value.status_code == 503
    assert "gpt-nonexistent-9" in caught.value.message


def test_missing_messages_is_a_400(gptnb: Any) -> None:
    response = httpx2.post(f"{BASE}/v1/chat/completions", json={"model": MODEL}, headers=AUTH)
    assert response.status_code == 400
    error = response.json()["error"]
    assert isinstance(error["message"], str) and isinstance(error["type"], str)


def test_the_sdk_reads_the_request_id_of_replies_streams_and_errors(client: openai.OpenAI) -> None:
    reply = ask(client, "Hi")
    assert reply._request_id  # the SDK fills it from the x-request-id header
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=user("Hi"), stream=True)
    assert raw.headers["x-request-id"] == raw.headers["x-oneapi-request-id"]
    raw.parse().close()
    with pytest.raises(openai.InternalServerError) as caught:
        ask(client, "Hi", model="gpt-nonexistent-9")
    # One id names the call everywhere: the header the SDK reads and the relay's own message.
    assert caught.value.request_id and f"(request id: {caught.value.request_id})" in caught.value.message


@pytest.mark.gptnb(api_keys=["sk-good"])
def test_a_wrong_key_is_a_401(gptnb: Any) -> None:
    with pytest.raises(openai.AuthenticationError):
        ask(sdk(gptnb), "Hi")
    good = openai.OpenAI(base_url=gptnb.openai_base_url, api_key="sk-good", max_retries=0)
    assert good.chat.completions.create(model=MODEL, messages=user("Hi")).choices


# --- async ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_sdk_reply_equals_the_sync_reply(gptnb: Any, client: openai.OpenAI) -> None:
    body = {"model": MODEL, "messages": user("What is async IO?"), "seed": 77}
    async with async_sdk(gptnb) as aclient:
        reply = await aclient.chat.completions.create(**body)
    assert reply.choices[0].message.content == client.chat.completions.create(**body).choices[0].message.content


@pytest.mark.anyio
async def test_async_sdk_stream_with_usage(gptnb: Any) -> None:
    async with async_sdk(gptnb) as aclient:
        stream = await aclient.chat.completions.create(
            model=MODEL, messages=user("Stream me"), stream=True, stream_options={"include_usage": True}
        )
        chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Stream me" in text
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == len(
        [c for c in chunks if c.choices and c.choices[0].delta.content]
    )


@pytest.mark.anyio
async def test_concurrent_async_requests_each_get_their_own_reply(gptnb: Any) -> None:
    questions = [f"Question number {i} about topic {chr(65 + i)}" for i in range(8)]
    replies: dict[str, str] = {}
    async with async_sdk(gptnb) as aclient:

        async def one(question: str) -> None:
            reply = await aclient.chat.completions.create(model=MODEL, messages=user(question))
            replies[question] = reply.choices[0].message.content

        async with anyio.create_task_group() as group:
            for question in questions:
                group.start_soon(one, question)
    assert all(q in replies[q] for q in questions)


@pytest.mark.anyio
@pytest.mark.parametrize("client_module", [httpx, httpx2], ids=["httpx", "httpx2"])
async def test_async_raw_stream_framing(gptnb: Any, client_module: Any) -> None:
    async with client_module.AsyncClient() as http:
        body = {"model": MODEL, "messages": user("Async raw"), "stream": True, "stream_options": {"include_usage": True}}
        async with http.stream("POST", f"{BASE}/v1/chat/completions", json=body, headers=AUTH) as response:
            raw = "".join([part async for part in response.aiter_text()])
    stream = SseStream(raw)
    assert stream.events[-1]["choices"] == [] and stream.events[-1]["usage"]["total_tokens"] > 0
    assert "Async raw" in joined_content(chat_choice_chunks(stream.events))
