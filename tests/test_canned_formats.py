"""The same rules in Claude Messages and Gemini: conditions read from each format's own request shape,
canned turns rendered by each format's own handler (bodies, named event streams, usage), through the
anthropic and google-genai SDKs."""

from __future__ import annotations

import anthropic
import pytest
from google import genai
from google.genai import errors, types
from openai_helpers import BASE

from mockserver import text

CLAUDE = "claude-sonnet-4-20250514"
GEMINI = "gemini-2.0-flash"
WEATHER_CLAUDE = {"name": "get_weather", "description": "Weather in a city", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
WEATHER_GEMINI = types.Tool(function_declarations=[types.FunctionDeclaration(name="get_weather", description="Weather in a city", parameters={"type": "OBJECT", "properties": {"city": {"type": "STRING"}}})])
WORDS = "The ferry leaves at noon; 风大时停航."


def claude() -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=BASE, api_key="sk-test", max_retries=0)


def gemini() -> genai.Client:
    return genai.Client(api_key="sk-test", http_options={"base_url": BASE})


def test_claude_reads_the_last_user_text_the_system_and_the_tools(gptnb) -> None:
    gptnb.add_rule({"match": {"user_message": "ferry", "system_message": "/harbour master/", "tool_name": "get_weather"}, "reply": {"content": WORDS}})
    sdk = claude()
    asked = {"model": CLAUDE, "max_tokens": 256, "system": [{"type": "text", "text": "You are the harbour master."}], "tools": [WEATHER_CLAUDE]}
    message = sdk.messages.create(messages=[{"role": "user", "content": [{"type": "text", "text": "When is the ferry?"}]}], **asked)
    assert [b.text for b in message.content] == [WORDS] and message.stop_reason == "end_turn"
    assert message.usage.output_tokens == len(text.tokenize(WORDS))
    with sdk.messages.stream(messages=[{"role": "user", "content": "the ferry?"}], **asked) as stream:
        deltas = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(deltas) == WORDS and final.content[0].text == WORDS
    assert sdk.messages.create(model=CLAUDE, max_tokens=256, messages=[{"role": "user", "content": "the ferry?"}]).content[-1].text != WORDS


def test_claude_tool_use_then_its_result_answered_by_tool_call_id(gptnb) -> None:
    gptnb.add_rule({"match": {"tool_name": "get_weather", "has_tool_result": False}, "reply": {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}, "id": "toolu_01oslo"}]}})
    gptnb.add_rule({"match": {"tool_call_id": "toolu_01oslo", "tool_result": "snow"}, "reply": {"content": "Snow in Oslo."}})
    sdk = claude()
    first = sdk.messages.create(model=CLAUDE, max_tokens=256, tools=[WEATHER_CLAUDE], messages=[{"role": "user", "content": "Weather in Oslo?"}])
    (call,) = first.content
    assert (call.type, call.id, call.name, call.input, first.stop_reason) == ("tool_use", "toolu_01oslo", "get_weather", {"city": "Oslo"}, "tool_use")
    turn = [
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": [c.model_dump() for c in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01oslo", "content": "snow, -3C"}]},
    ]
    with sdk.messages.stream(model=CLAUDE, max_tokens=256, tools=[WEATHER_CLAUDE], messages=turn) as stream:
        assert stream.get_final_message().content[0].text == "Snow in Oslo."


def test_claude_refusal_and_error_in_anthropics_shape(gptnb) -> None:
    gptnb.add_rule({"match": {"user_message": "forbidden"}, "reply": {"refusal": "I can't help with that."}})
    gptnb.add_rule({"match": {"user_message": "busy"}, "reply": {"error": {"message": "Overloaded", "type": "overloaded_error"}, "status": 529}})
    sdk = claude()
    refused = sdk.messages.create(model=CLAUDE, max_tokens=256, messages=[{"role": "user", "content": "something forbidden"}])
    assert refused.stop_reason == "refusal" and refused.content[0].text == "I can't help with that."
    with pytest.raises(anthropic.APIStatusError) as raised:
        sdk.messages.create(model=CLAUDE, max_tokens=256, messages=[{"role": "user", "content": "are you busy"}])
    assert raised.value.status_code == 529 and "Overloaded" in str(raised.value)


def test_gemini_reads_contents_system_instruction_and_declarations(gptnb) -> None:
    gptnb.add_rule({"match": {"user_message": "ferry", "system_message": "harbour", "model": "gemini-2.0-*"}, "reply": {"content": WORDS}})
    sdk = gemini()
    config = types.GenerateContentConfig(system_instruction="You are the harbour master.", candidate_count=2)
    answer = sdk.models.generate_content(model=GEMINI, contents="When is the ferry?", config=config)
    assert [c.content.parts[0].text for c in answer.candidates] == [WORDS, WORDS]
    assert answer.usage_metadata.candidates_token_count == 2 * len(text.tokenize(WORDS))
    streamed = "".join(chunk.text or "" for chunk in sdk.models.generate_content_stream(model=GEMINI, contents="the ferry", config=types.GenerateContentConfig(system_instruction="harbour")))
    assert streamed == WORDS
    assert sdk.models.generate_content(model=GEMINI, contents="the ferry").text != WORDS  # no system instruction


def test_gemini_function_calls_then_the_response_answered(gptnb) -> None:
    calls = [{"name": "get_weather", "arguments": {"city": "Oslo"}}, {"name": "get_weather", "arguments": {"city": "Bergen"}}]
    gptnb.add_rule({"match": {"tool_name": "get_weather", "has_tool_result": False}, "reply": {"tool_calls": calls}})
    gptnb.add_rule({"match": {"tool_call_id": "get_weather", "tool_result": "snow"}, "reply": {"content": "Snow in both."}})
    sdk = gemini()
    config = types.GenerateContentConfig(tools=[WEATHER_GEMINI], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    first = sdk.models.generate_content(model=GEMINI, contents="Weather in Oslo and Bergen?", config=config)
    assert [(c.name, c.args) for c in first.function_calls] == [("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Bergen"})]
    turn = [
        types.Content(role="user", parts=[types.Part(text="Weather in Oslo and Bergen?")]),
        first.candidates[0].content,
        types.Content(role="user", parts=[types.Part.from_function_response(name="get_weather", response={"weather": "snow"})]),
    ]
    assert sdk.models.generate_content(model=GEMINI, contents=turn, config=config).text == "Snow in both."


def test_gemini_refusal_is_a_safety_stop_and_errors_take_the_relays_shape(gptnb) -> None:
    gptnb.add_rule({"match": {"user_message": "forbidden"}, "reply": {"refusal": "I can't help with that."}})
    gptnb.add_rule({"match": {"user_message": "quota"}, "reply": {"error": "quota exceeded", "status": 429}})
    sdk = gemini()
    refused = sdk.models.generate_content(model=GEMINI, contents="something forbidden")
    assert refused.candidates[0].finish_reason == types.FinishReason.SAFETY and refused.text == "I can't help with that."
    with pytest.raises(errors.ClientError) as raised:
        sdk.models.generate_content(model=GEMINI, contents="over quota")
    assert raised.value.code == 429 and "quota exceeded" in str(raised.value)


def test_gemini_embeddings_match_their_text_and_answer_the_given_vectors(gptnb) -> None:
    gptnb.add_rule({"match": {"input_text": "harbour"}, "reply": {"embedding": [[0.5, 0.5], [1.0, 0.0]]}})
    sdk = gemini()
    one = sdk.models.embed_content(model="gemini-embedding-001", contents="the harbour at dawn")
    assert [e.values for e in one.embeddings] == [[0.5, 0.5]]
    both = sdk.models.embed_content(model="gemini-embedding-001", contents=["harbour", "boats"])
    assert [e.values for e in both.embeddings] == [[0.5, 0.5], [1.0, 0.0]]
    assert len(sdk.models.embed_content(model="gemini-embedding-001", contents="mountains").embeddings[0].values) == 3072
