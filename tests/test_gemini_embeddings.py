"""Gemini's embedContent, batchEmbedContents and countTokens routes, through the official google-genai
SDK and raw httpx / httpx2, in-process and against a live server.

Every test asserts what the relay answers on these routes (vectors of the model's size, cut as Google
cuts them, the same for the same input; countTokens run as a generation, as new-api runs it), never a
value copied from the mock. Strict mode is on, so an answer that breaks its contract fails the test too.
"""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import types
from openai_helpers import BASE, CLIENT_MODULES

EMBEDDER = "gemini-embedding-001"
KEY = {"x-goog-api-key": "k"}


def client(base_url: str = BASE) -> genai.Client:
    return genai.Client(api_key="sk-test", http_options={"base_url": base_url})


def embed(contents: Any, model: str = EMBEDDER, **config: Any) -> list[list[float]]:
    sdk = client()  # kept while it is used: a genai.Client closes its connections when it is collected
    answer = sdk.models.embed_content(model=model, contents=contents, config=types.EmbedContentConfig(**config) if config else None)
    return [embedding.values for embedding in answer.embeddings]


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


def raw(action: str, body: dict[str, Any], model: str = EMBEDDER, version: str = "v1beta") -> httpx.Response:
    return httpx.post(f"{BASE}/{version}/models/{model}:{action}", json=body, headers=KEY)


def one(text: str, **fields: Any) -> dict[str, Any]:
    return {"content": {"parts": [{"text": text}]}, **fields}


# --- vectors ----------------------------------------------------------------------------------------


def test_the_sdk_gets_one_unit_vector_of_the_models_size_per_text(gptnb) -> None:
    first, second = embed(["What is the meaning of life?", "How do tides work?"])
    assert len(first) == len(second) == 3072
    assert norm(first) == pytest.approx(1.0) and norm(second) == pytest.approx(1.0)
    assert first != second
    # google-genai embeds through batchEmbedContents, naming the model in every request as Google wants.
    call = gptnb.calls.last
    assert call.contract_id == "gemini.models.batch_embed_contents" and call.path == f"/v1/models/{EMBEDDER}:batchEmbedContents"  # google-genai speaks v1 by default
    assert [r["model"] for r in call.body["requests"]] == [f"models/{EMBEDDER}"] * 2


def test_the_same_text_gets_the_same_vector_and_the_task_type_changes_it(gptnb) -> None:
    [once], [again] = embed("Tea"), embed("Tea")
    assert once == again
    [as_query], [as_document] = embed("Tea", task_type="RETRIEVAL_QUERY"), embed("Tea", task_type="RETRIEVAL_DOCUMENT")
    assert as_query != as_document
    assert embed("Tea", model="text-embedding-004")[0] != once[:768]


def test_output_dimensionality_cuts_the_vector_as_each_model_does(gptnb) -> None:
    [full] = embed("Rivers of China")
    [cut] = embed("Rivers of China", output_dimensionality=768)
    # gemini-embedding-001 hands the cut vector out as it is: the same numbers, a norm below 1.
    assert cut == full[:768] and norm(cut) < 0.99
    [full2] = embed("Rivers of China", model="gemini-embedding-2")
    [cut2] = embed("Rivers of China", model="gemini-embedding-2", output_dimensionality=768)
    # gemini-embedding-2 normalises the cut vector again: the same direction, length 1.
    assert norm(cut2) == pytest.approx(1.0)
    scale = norm(full2[:768])
    assert cut2 == pytest.approx([v / scale for v in full2[:768]])


def test_text_embedding_004_has_768_dimensions_and_only_gemini_embedding_2_reports_usage(gptnb) -> None:
    assert len(embed("short", model="text-embedding-004")[0]) == 768
    plain = raw("batchEmbedContents", {"requests": [one("a b c")]}).json()
    assert "usageMetadata" not in plain
    with_usage = raw("batchEmbedContents", {"requests": [one("a b c"), one("d e")]}, model="gemini-embedding-2").json()
    assert len(with_usage["embeddings"]) == 2 and with_usage["usageMetadata"]["promptTokenCount"] > 0


@CLIENT_MODULES
def test_embed_content_answers_one_embedding_under_both_api_versions(client_module: Any, gptnb) -> None:
    body = one("What is the meaning of life?", taskType="RETRIEVAL_QUERY", outputDimensionality=256)
    with client_module.Client(headers=KEY) as http:
        v1beta = http.post(f"{BASE}/v1beta/models/{EMBEDDER}:embedContent", json=body)
        v1 = http.post(f"{BASE}/v1/models/{EMBEDDER}:embedContent", json=body)
    assert v1beta.status_code == v1.status_code == 200
    assert list(v1beta.json()) == ["embedding"] and len(v1beta.json()["embedding"]["values"]) == 256
    assert v1.json() == v1beta.json()
    batched = raw("batchEmbedContents", {"requests": [body]}).json()["embeddings"][0]
    assert batched == v1beta.json()["embedding"]
    assert gptnb.calls.last.contract_id == "gemini.models.batch_embed_contents"


def test_snake_case_fields_are_dropped_as_the_relay_drops_them(gptnb) -> None:
    # new-api decodes each request into dto.GeminiEmbeddingRequest (camelCase fields only) and writes that
    # struct to Google, so output_dimensionality never arrives and the vector keeps its full size.
    answer = raw("embedContent", one("Tea", output_dimensionality=8, task_type="CLUSTERING"))
    assert answer.status_code == 200 and len(answer.json()["embedding"]["values"]) == 3072


def test_nulls_are_read_as_not_given(gptnb) -> None:
    answer = raw("embedContent", one("Tea", outputDimensionality=None, taskType=None, title=None))
    assert answer.status_code == 200 and answer.json() == raw("embedContent", one("Tea")).json()


# --- refusals -----------------------------------------------------------------------------------------


def test_bad_embedding_requests_get_the_relays_envelope(gptnb) -> None:
    refused = [
        raw("embedContent", one("")),
        raw("embedContent", {"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "AAAA"}}]}}),
        raw("embedContent", one("Tea", outputDimensionality=4096)),
        raw("embedContent", one("Tea", taskType="GUESSING")),
        raw("embedContent", {"requests": [one("Tea")]}),
        raw("batchEmbedContents", {"requests": []}),
        raw("batchEmbedContents", {"requests": [one("Tea"), one("")]}),
        raw("embedContent", one("Tea", outputDimensionality=1024), model="text-embedding-004"),
    ]
    for answer in refused:
        assert answer.status_code == 400, answer.text
        assert set(answer.json()["error"]) >= {"message", "type", "code"}, answer.text
    assert "requests[1]" in refused[6].json()["error"]["message"]
    unknown = raw("embedContent", one("Tea"), model="embedding-no-such-model")
    assert unknown.status_code == 503 and unknown.json()["error"]["code"] == "model_not_found"


# --- countTokens: what the relay really answers ----------------------------------------------------


def test_count_tokens_is_answered_with_a_generation_as_the_relay_does(gptnb) -> None:
    sdk = client()
    counted = sdk.models.count_tokens(model="gemini-2.5-flash", contents="The quick brown fox jumps over the lazy dog.")
    # new-api runs countTokens as generateContent (QuantumNous/new-api#7283): no totalTokens in the answer.
    assert counted.total_tokens is None
    call = gptnb.calls.last
    assert call.contract_id == "gemini.models.count_tokens" and call.path == "/v1/models/gemini-2.5-flash:countTokens"
    assert call.response["candidates"][0]["content"]["parts"][0]["text"]
    generated = raw("generateContent", call.body, model="gemini-2.5-flash").json()
    assert call.response["usageMetadata"] == generated["usageMetadata"]
    assert call.response["candidates"][0]["content"] == generated["candidates"][0]["content"]


def test_count_tokens_without_contents_is_refused_as_the_relay_refuses_it(gptnb) -> None:
    # Older clients send {"generateContentRequest": {...}}; new-api decodes a generateContent body and wants contents.
    wrapped = {"generateContentRequest": {"model": "models/gemini-2.5-flash", "contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}}
    answer = raw("countTokens", wrapped, model="gemini-2.5-flash")
    assert answer.status_code == 400 and "contents" in answer.json()["error"]["message"]


# --- a live server --------------------------------------------------------------------------------------


def test_the_sdk_against_a_live_server(gptnb_server) -> None:
    sdk = client(gptnb_server.url)
    answer = sdk.models.embed_content(model=EMBEDDER, contents=["one", "two"], config=types.EmbedContentConfig(output_dimensionality=128))
    assert [len(e.values) for e in answer.embeddings] == [128, 128]
    single = httpx.post(f"{gptnb_server.url}/v1beta/models/{EMBEDDER}:embedContent", json=one("one", outputDimensionality=128), headers=KEY).json()
    assert single["embedding"]["values"] == answer.embeddings[0].values
    assert sdk.models.count_tokens(model="gemini-2.5-flash", contents="Hi").total_tokens is None
    assert [c.contract_id for c in gptnb_server.calls] == ["gemini.models.batch_embed_contents", "gemini.models.embed_content", "gemini.models.count_tokens"]
