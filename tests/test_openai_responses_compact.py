"""Responses compaction (POST /v1/responses/compact) through the official SDK and raw httpx / httpx2.

What a compaction must do, as OpenAI documents it: every user message comes back, everything else is
folded into one compaction item the next request takes as input, and usage adds up. Strict mode is on.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import openai
import pytest
from openai_helpers import AUTH, BASE, CLIENT_MODULES, sdk

from mockserver.families.openai.response_compaction import SEALED_PREFIX

MODEL = "gpt-5-codex"


@pytest.fixture
def client(gptnb: Any) -> openai.OpenAI:
    return sdk(gptnb)


def folded(item: Any) -> list[list[str]]:
    """What the mock's compaction item stands for (its encrypted_content is base64 JSON after the prefix)."""
    assert item.encrypted_content.startswith(SEALED_PREFIX)
    return json.loads(base64.urlsafe_b64decode(item.encrypted_content[len(SEALED_PREFIX) :]))


def test_user_messages_stay_and_the_rest_is_one_compaction_item(client: openai.OpenAI) -> None:
    compacted = client.responses.compact(
        model=MODEL,
        input=[
            {"role": "user", "content": "Create a landing page for a dog café."},
            {"id": "msg_001", "type": "message", "status": "completed", "role": "assistant",
             "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": "Here is a page with a menu."}]},
            {"role": "user", "content": "Add a booking form."},
        ],
    )
    assert compacted.object == "response.compaction" and compacted.id.startswith("resp_")
    *users, last = compacted.output
    assert [u.role for u in users] == ["user", "user"]
    assert [u.content[0].text for u in users] == ["Create a landing page for a dog café.", "Add a booking form."]
    assert last.type == "compaction" and last.id.startswith("cmp_")
    assert folded(last) == [["message", "Here is a page with a menu."]]
    usage = compacted.usage
    assert usage.input_tokens > 0 and usage.total_tokens == usage.input_tokens + usage.output_tokens


def test_a_previous_response_chain_is_compacted_and_the_output_continues_it(client: openai.OpenAI) -> None:
    first = client.responses.create(model="gpt-4o-mini", input="My name is Ada.")
    compacted = client.responses.compact(model="gpt-4o-mini", previous_response_id=first.id)
    assert [item.type for item in compacted.output] == ["message", "compaction"]
    assert compacted.output[0].content[0].text == "My name is Ada."
    assert folded(compacted.output[1]) == [["message", first.output_text]]
    # What a client does next: the compacted output, plus the new turn, as the input of a new response.
    following = client.responses.create(
        model="gpt-4o-mini", input=[item.model_dump(exclude_none=True, warnings=False) for item in compacted.output] + [{"role": "user", "content": "Thanks"}]
    )
    assert following.status == "completed"


def test_an_unknown_previous_response_and_a_missing_model_are_refused(client: openai.OpenAI, gptnb: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.compact(model=MODEL, previous_response_id="resp_unknown")
    assert caught.value.code == "previous_response_not_found"
    answer = httpx.post(f"{BASE}/v1/responses/compact", headers=AUTH, json={"input": "Hi"})
    assert answer.status_code == 400 and set(answer.json()["error"]) >= {"message", "type", "code"}


@CLIENT_MODULES
@pytest.mark.parametrize(
    "body",
    [
        {"model": MODEL, "input": 42},
        {"model": MODEL, "input": "Hi", "service_tier": "cheapest"},
        {"model": 7, "input": "Hi"},
        [],
    ],
    ids=["input-number", "service-tier-word", "model-number", "not-an-object"],
)
def test_bad_bodies_get_the_relay_error(gptnb: Any, client_module: Any, body: Any) -> None:
    answer = client_module.post(f"{BASE}/v1/responses/compact", headers=AUTH, json=body)
    assert answer.status_code == 400
    assert set(answer.json()["error"]) == {"message", "type", "param", "code"}


@CLIENT_MODULES
def test_nulls_the_relay_reads_as_not_given_are_accepted(gptnb: Any, client_module: Any) -> None:
    body = {"model": MODEL, "input": "Hi", "instructions": None, "previous_response_id": None, "reasoning": None,
            "service_tier": None, "prompt_cache_key": None, "prompt_cache_retention": None}
    answer = client_module.post(f"{BASE}/v1/responses/compact", headers=AUTH, json=body)
    assert answer.status_code == 200, answer.text
    assert [item["type"] for item in answer.json()["output"]] == ["message", "compaction"]


def test_the_sdk_compacts_against_the_live_server(gptnb_server: Any) -> None:
    client = openai.OpenAI(base_url=gptnb_server.openai_base_url, api_key="sk-test", max_retries=0)
    compacted = client.responses.compact(model=MODEL, input="Summarise our plan.")
    assert compacted.output[-1].type == "compaction"
