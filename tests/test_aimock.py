"""aimock's own example fixture files (fixtures/aimock, copied unchanged from its npm package) are
served as they are: every entry answers the request it matches with the reply it defines.

The expectations are read from the files themselves, so each entry is checked against what aimock
says it means, through the official openai SDK.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from mockserver.resources import fixtures_dir
from mockserver.rulefiles import RuleFileError
from openai_helpers import async_sdk, sdk

AIMOCK = fixtures_dir() / "aimock"
FILES = sorted(p for p in AIMOCK.rglob("*.json") if not p.name.startswith("openai-live"))
LIVE = sorted(AIMOCK.glob("openai-live-*.json"))


def entries(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["fixtures"]


def chat_request(match: dict[str, Any]) -> dict[str, Any]:
    """A chat request that meets exactly the entry's conditions."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": match.get("userMessage", "Hi")}]
    if "toolCallId" in match:
        call = {"id": match["toolCallId"], "type": "function", "function": {"name": "a_tool", "arguments": "{}"}}
        messages += [{"role": "assistant", "content": None, "tool_calls": [call]}, {"role": "tool", "tool_call_id": match["toolCallId"], "content": "ok"}]
    request: dict[str, Any] = {"model": match.get("model", "gpt-4o-mini"), "messages": messages}
    if "toolName" in match:
        request["tools"] = [{"type": "function", "function": {"name": match["toolName"], "parameters": {"type": "object", "properties": {}}}}]
    return request


def expected_turn(response: dict[str, Any]) -> tuple[str | None, list[tuple[str, Any]]]:
    """(content, [(tool name, arguments)]) as aimock's fixture defines the turn."""
    if "blocks" in response:
        text = "".join(b["text"] for b in response["blocks"] if b["type"] == "text") or None
        calls = [(b["name"], _arguments(b["arguments"])) for b in response["blocks"] if b["type"] == "toolCall"]
        return text, calls
    content = response.get("content")
    content = json.dumps(content) if isinstance(content, (dict, list)) else content
    return content, [(c["name"], _arguments(c["arguments"])) for c in response.get("toolCalls", ())]


def _arguments(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def check_entry(client: openai.OpenAI, entry: dict[str, Any]) -> None:
    match, response = entry["match"], entry["response"]
    if "embedding" in response:
        answer = client.embeddings.create(model="text-embedding-3-small", input=match["inputText"])
        assert answer.data[0].embedding == pytest.approx(response["embedding"])
        return
    if "error" in response:
        with pytest.raises(openai.APIStatusError) as raised:
            client.chat.completions.create(**chat_request(match))
        assert raised.value.status_code == response.get("status", 500)
        error = raised.value.body
        assert response["error"]["message"] in error["message"] and error["type"] == response["error"]["type"] and error["code"] == response["error"]["code"]
        return
    reply = client.chat.completions.create(**chat_request(match))
    content, calls = expected_turn(response)
    message = reply.choices[0].message
    assert message.content == content
    assert [(c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls or ()] == calls
    assert reply.choices[0].finish_reason == ("tool_calls" if calls else "stop")


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(AIMOCK).as_posix() for p in FILES])
def test_every_entry_of_aimocks_example_files_answers_as_it_defines(gptnb, path: Path) -> None:
    loaded = gptnb.load_fixtures(path)
    assert len(loaded) == len(entries(path))
    client = sdk(gptnb)
    for entry in entries(path):  # in file order, so sequenceIndex entries come in their order
        check_entry(client, entry)


def test_a_sequence_runs_out_and_the_generated_reply_takes_over(gptnb) -> None:
    gptnb.load_fixtures(AIMOCK / "examples" / "llm" / "sequential-responses.json")
    client = sdk(gptnb)
    jokes = [e["response"]["content"] for e in entries(AIMOCK / "examples" / "llm" / "sequential-responses.json")]
    asked = [client.chat.completions.create(**chat_request({"userMessage": "tell me a joke"})).choices[0].message.content for _ in range(4)]
    assert asked[:3] == jokes
    assert asked[3].startswith('You said: "tell me a joke"')


def test_a_literal_userMessage_is_a_substring_as_in_aimock(gptnb) -> None:
    # aimock's file loader keeps ".*" a string, and its router tests strings with includes(): a message
    # must contain the two characters ".*" to get the injected 429.
    gptnb.load_fixtures(AIMOCK / "examples" / "llm" / "error-injection.json")
    client = sdk(gptnb)
    assert "You said" in client.chat.completions.create(**chat_request({"userMessage": "any question"})).choices[0].message.content
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(**chat_request({"userMessage": "match .* please"}))


def test_the_streaming_physics_entry_streams_its_content_with_its_profile(gptnb) -> None:
    path = AIMOCK / "examples" / "llm" / "streaming-physics.json"
    (entry,) = entries(path)
    (rule,) = gptnb.load_fixtures(path)
    assert rule.stream is not None and (rule.stream.ttft, rule.stream.tps, rule.stream.jitter) == (200, 40, 0.1)
    stream = sdk(gptnb).chat.completions.create(**chat_request(entry["match"]), stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == entry["response"]["content"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 10


def test_truncate_after_chunks_cuts_the_stream_as_aimock_does(gptnb, tmp_path: Path) -> None:
    entry = {"match": {"userMessage": "cut me"}, "response": {"content": "one two three four five six seven eight"}, "truncateAfterChunks": 2}
    path = tmp_path / "cut.json"
    path.write_text(json.dumps({"fixtures": [entry]}))
    (rule,) = gptnb.load_fixtures(path)
    assert not any("truncateAfterChunks" in note for note in rule.notes)
    seen = []
    with pytest.raises((openai.APIConnectionError, httpx2.RemoteProtocolError)):  # older SDKs do not wrap it
        for chunk in sdk(gptnb).chat.completions.create(**chat_request(entry["match"]), stream=True):
            seen.append(chunk)
    assert len(seen) == 2
    assert gptnb.calls.last.fault == "drop_after=2"


def test_truncate_after_chunks_below_one_is_refused_as_aimock_refuses_it(gptnb, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"fixtures": [{"match": {"userMessage": "x"}, "response": {"content": "y"}, "truncateAfterChunks": 0}]}))
    with pytest.raises(RuleFileError, match=r"bad\.json: fixtures\[0\]: truncateAfterChunks must be a whole number >= 1"):
        gptnb.load_fixtures(path)


@pytest.mark.anyio
async def test_aimock_entries_answer_the_async_client_and_the_responses_api(gptnb) -> None:
    path = AIMOCK / "example-greeting.json"
    gptnb.load_fixtures(path)
    hello = entries(path)[0]["response"]["content"]
    client = async_sdk(gptnb)
    reply = await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}])
    assert reply.choices[0].message.content == hello
    response = await client.responses.create(model="gpt-4o-mini", input="hello")
    assert response.output_text == hello


def test_the_rag_pipeline_answers_chat_and_embeddings_from_one_file(gptnb) -> None:
    path = AIMOCK / "examples" / "llamaindex" / "rag-pipeline.json"
    gptnb.load_fixtures(path)
    client = sdk(gptnb)
    vectors = client.embeddings.create(model="text-embedding-3-small", input=["What is gravity?", "orbital mechanics and planetary motion"])
    assert [d.embedding for d in vectors.data] == [pytest.approx([0.9, 0.1, 0.05]), pytest.approx([0.9, 0.1, 0.05])]  # the first input matched


@pytest.mark.parametrize("path", LIVE, ids=[p.name for p in LIVE])
def test_entries_without_a_counterpart_are_skipped_with_the_reason(gptnb, path: Path) -> None:
    from mockserver import rulefiles

    loaded = rulefiles.load([path], gptnb.registry, strict=True)
    assert loaded.rules == []
    assert len(loaded.skipped) == len(entries(path))
    assert all(f"{path}: fixtures[" in s and "GPT-Live sessions have no counterpart" in s for s in loaded.skipped)
