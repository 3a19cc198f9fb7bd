"""The OpenAI routes new-api registers as "not implemented": files, legacy fine-tunes, model deletion.

A client calling them must see what the relay answers, not the mock's 404 for an unknown path: the
channel distributor's 400 when the request names no model, 503 for a model no channel serves, and the
handler's 501 api_not_implemented for a served model. Through the official SDK where it has the
method, raw httpx / httpx2 otherwise. Strict mode is on.
"""

from __future__ import annotations

import io
from typing import Any

import openai
import pytest
from openai_helpers import AUTH, BASE, CLIENT_MODULES, sdk

from mockserver.contracts import default_registry
from pytest_plugin.checks import CheckFailure, Exchange, not_a_server_error

NOT_IMPLEMENTED = {"message": "API not implemented", "type": "new_api_error", "param": "", "code": "api_not_implemented"}


@pytest.fixture
def client(gptnb: Any) -> openai.OpenAI:
    return sdk(gptnb)


def refused_for_no_model(caught: pytest.ExceptionInfo[openai.APIStatusError]) -> None:
    assert caught.value.status_code == 400
    error = caught.value.body
    assert error["type"] == "new_api_error" and error["message"].startswith("未指定模型名称，模型名称不能为空 (request id: ")


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.files.list(),
        lambda c: c.files.retrieve("file-abc123"),
        lambda c: c.files.delete("file-abc123"),
        lambda c: c.files.content("file-abc123"),
        lambda c: c.files.create(file=("data.jsonl", io.BytesIO(b'{"prompt": "a"}\n'), "application/jsonl"), purpose="fine-tune"),
    ],
    ids=["list", "retrieve", "delete", "content", "create"],
)
def test_the_files_api_is_refused_for_naming_no_model(client: openai.OpenAI, call: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        call(client)
    refused_for_no_model(caught)


def test_deleting_a_served_model_reaches_the_relays_501(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client.models.delete("gpt-4o-mini")
    assert caught.value.status_code == 501 and caught.value.body == NOT_IMPLEMENTED
    assert "request id" not in caught.value.message  # RelayNotImplemented writes its body itself


def test_deleting_a_fine_tuned_model_no_channel_serves_is_503(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        client.models.delete("ft:gpt-4o-mini:acme::abc123")
    assert caught.value.status_code == 503 and caught.value.code == "model_not_found"


def test_retrieving_a_model_still_works_beside_the_delete_route(client: openai.OpenAI) -> None:
    assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"


@CLIENT_MODULES
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/fine-tunes"),
        ("GET", "/v1/fine-tunes/ft-abc"),
        ("POST", "/v1/fine-tunes/ft-abc/cancel"),
        ("GET", "/v1/fine-tunes/ft-abc/events"),
    ],
)
def test_legacy_fine_tunes_without_a_model_get_the_distributors_400(gptnb: Any, client_module: Any, method: str, path: str) -> None:
    answer = client_module.request(method, f"{BASE}{path}", headers=AUTH)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith("未指定模型名称")


@CLIENT_MODULES
def test_a_legacy_fine_tune_naming_a_served_model_reaches_the_501(gptnb: Any, client_module: Any) -> None:
    answer = client_module.post(f"{BASE}/v1/fine-tunes", headers=AUTH, json={"training_file": "file-abc123", "model": "gpt-4o-mini"})
    assert answer.status_code == 501 and answer.json() == {"error": NOT_IMPLEMENTED}
    unserved = client_module.post(f"{BASE}/v1/fine-tunes", headers=AUTH, json={"training_file": "file-abc123", "model": "curie"})
    assert unserved.status_code == 503


@CLIENT_MODULES
@pytest.mark.parametrize(
    ("body", "status"),
    [({"model": 5}, 400), ({"training_file": "file-abc123"}, 400)],
    ids=["model-not-a-string", "no-model"],
)
def test_bad_fine_tune_bodies_are_4xx_in_the_relay_shape(gptnb: Any, client_module: Any, body: dict[str, Any], status: int) -> None:
    answer = client_module.post(f"{BASE}/v1/fine-tunes", headers=AUTH, json=body)
    assert answer.status_code == status
    assert set(answer.json()["error"]) == {"message", "type", "param", "code"}


@CLIENT_MODULES
def test_a_missing_key_is_still_401(gptnb: Any, client_module: Any) -> None:
    assert client_module.get(f"{BASE}/v1/files").status_code == 401


def test_the_journal_records_the_calls(gptnb: Any, client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError):
        client.models.delete("gpt-4o-mini")
    assert gptnb.calls.last.contract_id == "openai.models.delete" and gptnb.calls.last.status == 501


@pytest.mark.parametrize(
    ("contract_id", "status", "caught"),
    [
        ("openai.models.delete", 501, False),  # the relay's documented answer: the route works as it should
        ("openai.models.delete", 500, True),  # any other 5xx is still a server error
        ("openai.images.variations", 501, True),  # a route with a documented success gets no such pass
        ("openai.chat.completions", 501, True),
    ],
)
def test_only_a_documented_refusal_passes_the_server_error_check(contract_id: str, status: int, caught: bool) -> None:
    registry = default_registry()
    exchange = Exchange(registry[contract_id], status, {"content-type": "application/json"}, b'{"error": {}}')
    if caught:
        with pytest.raises(CheckFailure):
            not_a_server_error(exchange, registry)
    else:
        not_a_server_error(exchange, registry)
