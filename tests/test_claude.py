"""Claude Messages through the official anthropic SDK (sync, async, streaming, tool use, thinking,
structured output, token counting) and raw httpx / httpx2, in-process and against a live server.

Every test asserts what an Anthropic-compatible relay must do (named events in order, deltas that add
up to the message, tool inputs that fit their schema, the relay's own error envelopes), never a reply
copied from the mock. Strict mode is on, so an answer that breaks its contract fails the test too.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import jsonschema
import pytest
from openai_helpers import BASE, CLIENT_MODULES
from pydantic import BaseModel

MODEL = "claude-sonnet-4-20250514"
KEY_HEADERS = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}
WEATHER = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["location", "unit"],
    },
}
STOCK = {
    "name": "get_stock_price",
    "description": "Look up the latest stock price for a ticker symbol",
    "input_schema": {
        "type": "object",
        "properties": {"ticker": {"type": "string", "pattern": "^[A-Z]{1,5}$"}, "days": {"type": "integer", "minimum": 1, "maximum": 30}},
        "required": ["ticker"],
    },
}


def client(base_url: str = BASE, **options: Any) -> anthropic.Anthropic:
    # No retries: an injected 5xx must surface as the error it is, not as seconds of back-off.
    return anthropic.Anthropic(base_url=base_url, api_key="sk-test", **{"max_retries": 0, **options})


def ask(sdk: anthropic.Anthropic, question: str, **params: Any) -> anthropic.types.Message:
    params.setdefault("max_tokens", 512)
    return sdk.messages.create(model=params.pop("model", MODEL), messages=[{"role": "user", "content": question}], **params)


class NamedStream:
    """An Anthropic event stream read strictly: every event is ``event: <name>`` then one ``data:`` line
    of JSON whose type is that name, and the stream ends without a terminator."""

    def __init__(self, raw: str) -> None:
        assert raw.endswith("\n\n"), f"the stream must end with a blank line, ends with {raw[-20:]!r}"
        self.events: list[dict[str, Any]] = []
        for block in raw[:-2].split("\n\n"):
            lines = block.split("\n")
            assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "), f"not one named event: {block!r}"
            payload = json.loads(lines[1][len("data: ") :])
            assert payload["type"] == lines[0][len("event: ") :], f"event name and type differ: {block!r}"
            self.events.append(payload)

    @property
    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    def blocks(self) -> list[dict[str, Any]]:
        """The content blocks the deltas build, checked for order: start, deltas of that index, stop."""
        built: list[dict[str, Any]] = []
        open_index = None
        for event in self.events:
            if event["type"] == "content_block_start":
                assert open_index is None and event["index"] == len(built), f"block {event['index']} starts out of order"
                open_index = event["index"]
                built.append({**event["content_block"], "_json": ""})
            elif event["type"] == "content_block_delta":
                assert event["index"] == open_index, "a delta for a block that is not open"
                delta, block = event["delta"], built[open_index]
                if delta["type"] == "text_delta":
                    block["text"] += delta["text"]
                elif delta["type"] == "input_json_delta":
                    block["_json"] += delta["partial_json"]
                elif delta["type"] == "thinking_delta":
                    block["thinking"] += delta["thinking"]
                elif delta["type"] == "signature_delta":
                    block["signature"] += delta["signature"]
            elif event["type"] == "content_block_stop":
                assert event["index"] == open_index, "a stop for a block that is not open"
                open_index = None
        assert open_index is None, "a block was never stopped"
        for block in built:
            if block["type"] == "tool_use":
                block["input"] = json.loads(block["_json"])
            del block["_json"]
        return built


def raw_stream(client_module: Any, body: dict[str, Any]) -> NamedStream:
    with client_module.Client() as http, http.stream("POST", f"{BASE}/v1/messages", json={**body, "stream": True}, headers=KEY_HEADERS) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return NamedStream("".join(response.iter_text()))


# --- plain messages ----------------------------------------------------------------------------


def test_a_message_quotes_the_question_and_counts_its_tokens(gptnb) -> None:
    message = ask(client(), "Name three rivers in China.", system="You are a geography teacher.")
    assert message.type == "message" and message.role == "assistant" and message.id.startswith("msg_")
    assert message.model == MODEL and message.stop_reason == "end_turn" and message.stop_sequence is None
    [block] = message.content
    assert block.type == "text" and "Name three rivers in China." in block.text
    assert message.usage.output_tokens > 0
    longer = ask(client(), "Name three rivers in China and describe each of them in detail.", system="You are a geography teacher.")
    assert longer.usage.input_tokens > message.usage.input_tokens
    call = gptnb.calls.last
    assert call.contract_id == "claude.messages.create" and call.path == "/v1/messages"
    assert call.body["system"] == "You are a geography teacher."


def test_the_same_conversation_gets_the_same_answer_and_a_new_id(gptnb) -> None:
    first, second = ask(client(), "Tell me about tea."), ask(client(), "Tell me about tea.")
    assert first.content[0].text == second.content[0].text and first.id != second.id
    assert ask(client(), "Tell me about coffee.").content[0].text != first.content[0].text


def test_multi_turn_answers_the_last_user_turn(gptnb) -> None:
    messages = [
        {"role": "user", "content": "My name is Lin."},
        {"role": "assistant", "content": [{"type": "text", "text": "Hello Lin!"}]},
        {"role": "user", "content": [{"type": "text", "text": "What did I just tell you?"}]},
    ]
    message = client().messages.create(model=MODEL, max_tokens=256, messages=messages)
    assert "What did I just tell you?" in message.content[0].text


def test_max_tokens_cuts_the_answer_and_says_so(gptnb) -> None:
    full = ask(client(), "Describe the sea.")
    cut = ask(client(), "Describe the sea.", max_tokens=5)
    assert cut.stop_reason == "max_tokens" and cut.usage.output_tokens == 5
    assert full.content[0].text.startswith(cut.content[0].text) and len(cut.content[0].text) < len(full.content[0].text)


def test_a_stop_sequence_ends_the_answer_before_it(gptnb) -> None:
    message = ask(client(), "Describe the sea.", stop_sequences=["mock reply"])
    assert message.stop_reason == "stop_sequence" and message.stop_sequence == "mock reply"
    assert "mock reply" not in message.content[0].text and message.content[0].text


def test_an_unknown_sequence_changes_nothing(gptnb) -> None:
    assert ask(client(), "Describe the sea.", stop_sequences=["zzz-never"]).stop_reason == "end_turn"


# --- tools -------------------------------------------------------------------------------------


def test_the_model_calls_the_closest_tool_with_input_that_fits_its_schema(gptnb) -> None:
    message = ask(client(), "What is the weather like in San Francisco?", tools=[STOCK, WEATHER])
    assert message.stop_reason == "tool_use"
    [call] = [b for b in message.content if b.type == "tool_use"]
    assert call.name == "get_weather" and call.id.startswith("toolu_")
    jsonschema.validate(call.input, WEATHER["input_schema"])
    stock = ask(client(), "What is the stock price of ACME?", tools=[WEATHER, STOCK], tool_choice={"type": "any"})
    [call] = stock.content  # tool_choice any: no text before the call
    assert call.name == "get_stock_price"
    jsonschema.validate(call.input, STOCK["input_schema"])


def test_tool_choice_names_the_tool_or_forbids_tools(gptnb) -> None:
    named = ask(client(), "What is the weather like?", tools=[WEATHER, STOCK], tool_choice={"type": "tool", "name": "get_stock_price"})
    assert [b.name for b in named.content if b.type == "tool_use"] == ["get_stock_price"]
    none = ask(client(), "What is the weather like?", tools=[WEATHER], tool_choice={"type": "none"})
    assert none.stop_reason == "end_turn" and [b.type for b in none.content] == ["text"]
    with pytest.raises(anthropic.BadRequestError) as refused:
        ask(client(), "Hi", tools=[WEATHER], tool_choice={"type": "tool", "name": "no_such_tool"})
    assert refused.value.body["type"] == "error" and refused.value.body["error"]["type"] == "invalid_request_error"


def test_a_tool_result_gets_an_answer_that_uses_it(gptnb) -> None:
    sdk = client()
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What is the weather like in Paris?"}]
    first = sdk.messages.create(model=MODEL, max_tokens=512, tools=[WEATHER], messages=messages)
    call = next(b for b in first.content if b.type == "tool_use")
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18 degrees and sunny"}]},
    ]
    second = sdk.messages.create(model=MODEL, max_tokens=512, tools=[WEATHER], messages=messages)
    assert second.stop_reason == "end_turn" and "18 degrees and sunny" in second.content[0].text


# --- thinking and structured output ------------------------------------------------------------


def test_extended_thinking_comes_first_with_a_signature(gptnb) -> None:
    message = ask(client(), "Are there infinitely many primes?", max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 2000})
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].thinking and message.content[0].signature
    assert ask(client(), "Are there infinitely many primes?", thinking={"type": "disabled"}).content[0].type == "text"


def test_a_thinking_model_name_thinks_and_answers_as_the_base_model(gptnb) -> None:
    message = ask(client(), "Why is the sky blue?", model="claude-sonnet-4-20250514-thinking")
    assert message.content[0].type == "thinking" and message.model == MODEL


def test_a_budget_not_below_max_tokens_is_refused(gptnb) -> None:
    with pytest.raises(anthropic.BadRequestError):
        ask(client(), "Hi", max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 2000})


class Country(BaseModel):
    name: str
    capital: str
    population_millions: float


def test_parse_with_an_output_format_gives_a_conforming_object(gptnb) -> None:
    parsed = client().messages.parse(model=MODEL, max_tokens=512, messages=[{"role": "user", "content": "Describe France."}], output_format=Country)
    assert isinstance(parsed.parsed_output, Country)
    assert json.loads(parsed.content[0].text) == parsed.parsed_output.model_dump()


# --- streaming ---------------------------------------------------------------------------------


def test_the_sdk_stream_builds_the_same_message(gptnb) -> None:
    sdk = client()
    whole = ask(sdk, "Tell me about tea.")
    with sdk.messages.stream(model=MODEL, max_tokens=512, messages=[{"role": "user", "content": "Tell me about tea."}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == whole.content[0].text == final.content[0].text
    assert final.usage.output_tokens == whole.usage.output_tokens and final.stop_reason == "end_turn"


def test_the_sdk_stream_of_a_tool_call_parses_its_input(gptnb) -> None:
    with client().messages.stream(model=MODEL, max_tokens=512, tools=[WEATHER], messages=[{"role": "user", "content": "Weather in Oslo?"}]) as stream:
        final = stream.get_final_message()
    [call] = [b for b in final.content if b.type == "tool_use"]
    jsonschema.validate(call.input, WEATHER["input_schema"])
    assert final.stop_reason == "tool_use"


@CLIENT_MODULES
def test_raw_stream_events_come_in_anthropics_order(client_module: Any, gptnb) -> None:
    stream = raw_stream(client_module, {"model": MODEL, "max_tokens": 512, "messages": [{"role": "user", "content": "Hello"}]})
    types = stream.types
    assert types[0] == "message_start" and types[-2:] == ["message_delta", "message_stop"] and "ping" in types
    start = stream.events[0]["message"]
    assert start["content"] == [] and start["stop_reason"] is None and start["usage"]["input_tokens"] > 0
    [text] = stream.blocks()
    whole = ask(client(), "Hello")
    assert text["text"] == whole.content[0].text
    delta = stream.events[-2]
    assert delta["delta"]["stop_reason"] == "end_turn" and delta["usage"]["output_tokens"] == whole.usage.output_tokens


@CLIENT_MODULES
def test_raw_stream_of_thinking_and_a_tool_call(client_module: Any, gptnb) -> None:
    body = {"model": MODEL, "max_tokens": 4000, "thinking": {"type": "enabled", "budget_tokens": 1024}, "tools": [WEATHER], "messages": [{"role": "user", "content": "Weather in Rome?"}]}
    blocks = raw_stream(client_module, body).blocks()
    assert [b["type"] for b in blocks] == ["thinking", "text", "tool_use"]
    assert blocks[0]["thinking"] and blocks[0]["signature"]
    jsonschema.validate(blocks[2]["input"], WEATHER["input_schema"])
    message = client().messages.create(**body)
    assert blocks == [b.model_dump(exclude_none=True) for b in message.content]


@pytest.mark.anyio
async def test_the_async_sdk_creates_and_streams(gptnb) -> None:
    sdk = anthropic.AsyncAnthropic(base_url=BASE, api_key="sk-test", max_retries=0)
    message = await sdk.messages.create(model=MODEL, max_tokens=256, messages=[{"role": "user", "content": "Async hello"}])
    async with sdk.messages.stream(model=MODEL, max_tokens=256, messages=[{"role": "user", "content": "Async hello"}]) as stream:
        final = await stream.get_final_message()
    assert final.content[0].text == message.content[0].text


# --- token counting ----------------------------------------------------------------------------


def test_count_tokens_matches_the_usage_of_the_message(gptnb) -> None:
    sdk = client()
    params: dict[str, Any] = {"model": MODEL, "system": "Be brief.", "tools": [WEATHER], "messages": [{"role": "user", "content": "Weather in Lima?"}]}
    counted = sdk.messages.count_tokens(**params)
    assert counted.input_tokens == sdk.messages.create(max_tokens=256, **params).usage.input_tokens
    assert sdk.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "Hi"}]).input_tokens < counted.input_tokens
    assert gptnb.calls[-3].contract_id == "claude.messages.count_tokens"


# --- models ------------------------------------------------------------------------------------


def test_models_in_anthropics_shape_when_x_api_key_and_a_version_come(gptnb) -> None:
    # new-api answers Anthropic's shape only for x-api-key plus anthropic-version (older SDKs, Claude Code, curl).
    sdk = client(default_headers={"X-Api-Key": "sk-test"})
    models = list(sdk.models.list())
    assert {MODEL, "claude-sonnet-4-20250514-thinking", "gpt-4o-mini"} <= {m.id for m in models}
    assert all(m.type == "model" and m.display_name == m.id and m.created_at for m in models)
    assert sdk.models.retrieve(MODEL).id == MODEL
    with pytest.raises(anthropic.NotFoundError):
        sdk.models.retrieve("claude-no-such-model")
    assert [c.contract_id for c in gptnb.calls] == ["claude.models.list", "claude.models.retrieve", "claude.models.retrieve"]


def test_the_current_sdk_sends_a_bearer_key_and_gets_the_openai_list(gptnb) -> None:
    # anthropic 2.x sends its api_key as Authorization: Bearer, so the relay lists models as OpenAI does; ids still read.
    assert MODEL in {m.id for m in client().models.list()}
    assert gptnb.calls.last.contract_id == "openai.models.list"


# --- keys, errors, steering --------------------------------------------------------------------


@CLIENT_MODULES
def test_the_key_travels_in_x_api_key_or_as_a_bearer_token(client_module: Any, gptnb) -> None:
    body = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
    with client_module.Client() as http:
        assert http.post(f"{BASE}/v1/messages", json=body, headers={"x-api-key": "sk-a"}).status_code == 200
        assert http.post(f"{BASE}/v1/messages", json=body, headers={"Authorization": "Bearer sk-a"}).status_code == 200
        missing = http.post(f"{BASE}/v1/messages", json=body)
    # new-api's middleware refuses before the Claude relay starts, in its own envelope.
    assert missing.status_code == 401 and set(missing.json()["error"]) >= {"message", "type"}


@pytest.mark.gptnb(api_keys=["sk-good"])
def test_a_wrong_key_is_the_sdks_authentication_error(gptnb) -> None:
    with pytest.raises(anthropic.AuthenticationError):
        ask(client(), "Hi")
    assert anthropic.Anthropic(base_url=BASE, api_key="sk-good", max_retries=0).messages.create(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    ).content


def test_an_unknown_model_is_the_relays_503(gptnb) -> None:
    with pytest.raises(anthropic.InternalServerError) as failed:
        ask(client(), "Hi", model="claude-no-such-model")
    assert failed.value.status_code == 503 and failed.value.body["error"]["code"] == "model_not_found"


def test_invalid_requests_get_anthropics_error_body(gptnb) -> None:
    http = httpx.Client()
    for body in ({"model": MODEL, "messages": []}, {"model": MODEL, "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]},
                 {"model": MODEL, "messages": [{"role": "robot", "content": "x"}]}, {"model": MODEL, "temperature": 3, "messages": [{"role": "user", "content": "x"}]}):
        answer = http.post(f"{BASE}/v1/messages", json=body, headers=KEY_HEADERS)
        assert answer.status_code == 400, body
        assert answer.json()["type"] == "error" and answer.json()["error"]["type"] == "invalid_request_error", answer.text
    broken = http.post(f"{BASE}/v1/messages", content=b'{"model": ', headers={**KEY_HEADERS, "content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["type"] == "error"


def test_nulls_in_the_members_the_relay_decodes_are_read_as_not_given(gptnb) -> None:
    # Older anthropic SDKs sent temperature=None as "temperature": null (the current one takes it as an extra);
    # new-api decodes it to nothing and leaves it out.
    message = client().messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}], extra_body={"temperature": None})
    assert message.content[0].text and gptnb.calls.last.body["temperature"] is None
    http = httpx.Client(headers=KEY_HEADERS)
    nulls = {"system": None, "max_tokens": None, "stop_sequences": None, "top_p": None, "top_k": None, "stream": None, "tools": None, "tool_choice": None, "thinking": None}
    question = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}
    answered = http.post(f"{BASE}/v1/messages", json={**question, **nulls})
    assert answered.status_code == 200 and answered.json() == {**http.post(f"{BASE}/v1/messages", json=question).json(), "id": answered.json()["id"]}
    counted = http.post(f"{BASE}/v1/messages/count_tokens", json={**question, "system": None, "tools": None, "thinking": None})
    assert counted.status_code == 200 and counted.json() == http.post(f"{BASE}/v1/messages/count_tokens", json=question).json()
    # An empty system and an empty tool list are passed on as written (interface fields new-api keeps);
    # Anthropic's API reference sets no minimum for either, and neither does the contract.
    assert http.post(f"{BASE}/v1/messages", json={**question, "system": "", "tools": []}).status_code == 200
    # metadata is passed on to Anthropic as written, and so are the messages: a null there keeps Anthropic's rules.
    for body in ({**question, "metadata": None}, {"model": MODEL, "messages": [{"role": "user", "content": [{"type": "text", "text": None}]}]}):
        refused = http.post(f"{BASE}/v1/messages", json=body)
        assert refused.status_code == 400 and refused.json()["type"] == "error", body


def test_an_injected_fault_is_anthropics_error_and_the_sdk_retries_it(gptnb) -> None:
    gptnb.route("claude.messages.create").fail(529, times=1)
    message = client(max_retries=1).messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}])
    assert message.content and gptnb.route("claude.messages.create").call_count == 2
    assert gptnb.calls[0].status == 529 and gptnb.calls[0].response["error"]["type"] == "overloaded_error"
    gptnb.route("claude.messages.create").fail(429, "slow down")
    with pytest.raises(anthropic.RateLimitError) as limited:
        ask(client(), "Hi")
    assert limited.value.body["error"] == {"type": "rate_limit_error", "message": "slow down"}


def test_scenario_headers_and_canned_examples(gptnb) -> None:
    sdk = client(default_headers={"X-Mock-Scenario": "example=tool_use"})
    message = ask(sdk, "anything")
    assert message.stop_reason == "tool_use" and message.content[1].input == {"location": "San Francisco, CA", "unit": "celsius"}
    gptnb.route("claude.messages.create").example("stream")
    with client().messages.stream(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]) as stream:
        assert "".join(stream.text_stream) == "Hello!"


def test_a_side_effect_decides_the_answer(gptnb) -> None:
    def echo_model(call: Any) -> dict[str, Any]:
        body = {"id": "msg_canned", "type": "message", "role": "assistant", "model": call.body["model"], "stop_reason": "end_turn", "stop_sequence": None}
        return {**body, "content": [{"type": "text", "text": "canned"}], "usage": {"input_tokens": 1, "output_tokens": 1}}

    gptnb.route("claude.*").mock(side_effect=echo_model)
    assert ask(client(), "Hi").content[0].text == "canned"


def test_the_sdk_against_a_live_server(gptnb_server) -> None:
    sdk = client(gptnb_server.url)
    with sdk.messages.stream(model=MODEL, max_tokens=256, tools=[WEATHER], messages=[{"role": "user", "content": "Weather in Cairo?"}]) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert sdk.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "Hi"}]).input_tokens > 0
    assert [c.contract_id for c in gptnb_server.calls] == ["claude.messages.create", "claude.messages.count_tokens"]
