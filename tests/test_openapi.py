"""The OpenAPI export: a valid 3.1 document of every contract, the same from the CLI and the admin API,
and the /__mock/docs page built from it."""

from __future__ import annotations

import copy
import html
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from mockserver.app import MockApp
from mockserver.cli import main
from mockserver.contracts import default_registry
from mockserver.docs_page import render_docs
from mockserver.openapi import HTTP_METHODS, openapi_document, openapi_path

REGISTRY = default_registry()
SCRIPT = Path(sys.executable).parent / "gptnb-mock"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "mockserver.cli"]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document(REGISTRY)


@pytest.fixture(scope="module")
def client() -> TestClient:
    with TestClient(MockApp(), base_url="http://mock.test") as client:
        yield client


def operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (method, path, operation)."""
    return {
        op["operationId"]: (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    }


# --- the document -------------------------------------------------------------------------------------


def test_the_whole_document_is_valid_openapi_3_1(document) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_one_family_is_valid_and_holds_only_that_family() -> None:
    openai = openapi_document(REGISTRY, {"openai"}, server_url="http://127.0.0.1:8000/")
    validate(openai)
    assert openai["servers"] == [{"url": "http://127.0.0.1:8000"}]
    assert [tag["name"] for tag in openai["tags"]] == ["openai"]
    assert {op["tags"][0] for _, _, op in operations(openai).values()} == {"openai"}


def test_an_unknown_family_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown family nope"):
        openapi_document(REGISTRY, {"openai", "nope"})


def test_every_contract_is_an_operation_or_a_variant_of_one(document) -> None:
    found = operations(document)
    variants = {v["id"]: op_id for op_id, (_, _, op) in found.items() for v in op.get("x-gptnb-variants", ())}
    for contract in REGISTRY:
        if contract.id in found:
            method, path, op = found[contract.id]
            assert (method, path) == (contract.method.lower(), openapi_path(contract.path))
            assert (op["summary"], op["tags"]) == (contract.title, [contract.family])
            assert op["description"].startswith(contract.summary)
            assert op.get("x-gptnb-aliases", []) == [openapi_path(a) for a in contract.aliases]
        else:
            base = variants.get(contract.id)
            assert base == contract.variant_of, f"{contract.id} is neither an operation nor a variant"
            assert contract.id in found[base][2]["description"]
    assert len(found) + len(variants) == len(REGISTRY)


def test_variants_fold_into_their_base_operation(document) -> None:
    _, _, chat = operations(document)["openai.chat.completions"]
    folded = {v["id"]: v for v in chat["x-gptnb-variants"]}
    assert {"openai.chat.gpts", "openai.chat.gpt4all_image"} <= set(folded)
    assert folded["openai.chat.gpts"]["when"]["properties"]["model"]["pattern"] == "^gpt-4o?-gizmo-"


def test_path_parameters_are_declared_and_required(document) -> None:
    for method, path, op in operations(document).values():
        declared = {p["name"] for p in op.get("parameters", ()) if p["in"] == "path"}
        templated = set(re.findall(r"{([^}]+)}", path))  # a segment may hold more than its parameter: {model}:generateContent
        assert declared == templated, f"{method.upper()} {path}"
        assert all(p["required"] for p in op.get("parameters", ()) if p["in"] == "path")


def test_request_and_response_media(document) -> None:
    found = operations(document)
    chat = found["openai.chat.completions"][2]
    assert chat["requestBody"]["required"] is True
    assert "messages" in chat["requestBody"]["content"]["application/json"]["schema"]["properties"]
    stream = chat["responses"]["200"]["content"]["text/event-stream"]
    assert stream["x-gptnb-sse"]["terminator"] == "[DONE]" and "properties" in json.dumps(stream["x-gptnb-sse"]["event"])
    # `schema` describes one event (OpenAPI 3.2's itemSchema; schemathesis reads 3.1 SSE schemas so)
    done, payload = stream["schema"]["properties"]["data"]["anyOf"]
    assert done == {"const": "[DONE]"}
    assert payload["contentMediaType"] == "application/json" and payload["contentSchema"] == stream["x-gptnb-sse"]["event"]
    assert set(chat["responses"]) >= {"200", "4XX", "5XX"}
    upload = found["openai.audio.transcriptions"][2]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["properties"]["file"] == {"type": "string", "format": "binary"}
    speech = found["openai.audio.speech"][2]["responses"]["200"]["content"]["audio/mpeg"]
    assert speech == {"schema": {"type": "string", "contentMediaType": "audio/mpeg"}}


def test_routed_models_are_listed(document) -> None:
    for contract_id, (_, _, op) in operations(document).items():
        contract = REGISTRY[contract_id]
        if contract.models is None:
            assert "x-gptnb-models" not in op
            continue
        assert op["x-gptnb-models"]["known"] == list(contract.models.known)
        body = op.get("requestBody", {}).get("content", {})
        for media in body.values():
            field = media["schema"].get("properties", {}).get(contract.models.field)
            if field is not None:
                assert field.get("examples"), contract_id  # the known models, unless the contract gave its own


def test_what_the_relay_reads_as_not_given_is_exported(document) -> None:
    found = operations(document)
    claude = found["claude.messages.create"][2]
    assert claude["x-gptnb-absent-values"] == [None] and "temperature" in claude["x-gptnb-absent-fields"] and "metadata" not in claude["x-gptnb-absent-fields"]
    gemini = found["gemini.models.generate_content"][2]
    assert gemini["x-gptnb-absent-values"] == [None] and "x-gptnb-absent-fields" not in gemini


def test_security_follows_the_auth_carriers(document) -> None:
    found = operations(document)
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"}
    assert found["openai.models.list"][2]["security"] == [{"bearerAuth": []}]
    fetch = found["midjourney.task.fetch"][2]["security"]
    assert {"bearerAuth": []} in fetch and any(
        schemes[name] == {**schemes[name], "in": "header", "name": "mj-api-secret"} for r in fetch for name in r
    )
    assert found["midjourney.image.proxy"][2]["security"] == []  # auth.required is false
    for method, path, op in found.values():
        for requirement in op["security"]:
            assert set(requirement) <= set(schemes), f"{method.upper()} {path}"


def test_no_resource_keywords_survive_dereferencing(document) -> None:
    text = json.dumps(document)
    for keyword in ('"$ref"', '"$id"', '"$schema"', '"$defs"'):
        assert keyword not in text


def test_two_exports_are_equal(document) -> None:
    again = openapi_document(default_registry())
    assert json.dumps(again, ensure_ascii=False) == json.dumps(document, ensure_ascii=False)
    assert list(document["paths"]) == sorted(document["paths"])


# --- the command line ---------------------------------------------------------------------------------


def test_the_cli_writes_the_same_document(document, tmp_path: Path) -> None:
    # A fresh process, so hash randomisation would show any order that depends on sets.
    target = tmp_path / "openapi.json"
    result = subprocess.run([*COMMAND, "openapi", "--output", str(target)], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(target.read_text(encoding="utf-8")) == document
    assert target.read_text(encoding="utf-8") == json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    assert "operations" in result.stderr


def test_the_cli_writes_to_standard_output_with_families_and_server(capsys) -> None:
    assert main(["openapi", "--family", "openai", "--family", "midjourney", "--server", "http://127.0.0.1:9000"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert written == openapi_document(REGISTRY, {"openai", "midjourney"}, "http://127.0.0.1:9000")
    assert {tag["name"] for tag in written["tags"]} == {"openai", "midjourney"}


def test_the_cli_refuses_an_unknown_family(capsys) -> None:
    assert main(["openapi", "--family", "nope"]) == 2
    assert "unknown family nope" in capsys.readouterr().err


def test_openapi_help_mentions_every_flag() -> None:
    result = subprocess.run([*COMMAND, "openapi", "--help"], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for flag in ("--family", "--server", "--output"):
        assert flag in result.stdout
    overview = subprocess.run([*COMMAND, "--help"], check=False, capture_output=True, text=True, timeout=60).stdout
    assert "gptnb-mock openapi" in overview


# --- the admin API ------------------------------------------------------------------------------------


def test_admin_serves_the_document_with_its_own_base_url(client, document) -> None:
    response = client.get("/__mock/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    served = response.json()
    assert served["servers"] == [{"url": "http://mock.test"}]
    assert {k: v for k, v in served.items() if k != "servers"} == document
    assert client.get("/__mock/openapi.json").content == response.content  # cached, and still the same


def test_admin_document_for_one_family(client) -> None:
    served = client.get("/__mock/openapi.json", params={"family": "midjourney"}).json()
    assert [tag["name"] for tag in served["tags"]] == ["midjourney"]
    refused = client.get("/__mock/openapi.json", params={"family": "nope"})
    assert refused.status_code == 400 and "unknown family" in refused.json()["error"]["message"]


def test_docs_page_lists_every_contract(client) -> None:
    response = client.get("/__mock/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script" not in page and "<link" not in page and " src=" not in page  # offline: nothing to fetch
    for contract in REGISTRY:
        assert f'id="{contract.id}"' in page, contract.id
        assert html.escape(contract.title) in page
    assert 'href="openapi.json"' in page


def test_docs_page_escapes_summaries(client, document) -> None:
    page = client.get("/__mock/docs").text
    with_brackets = [c for c in REGISTRY if "<" in c.summary]
    assert with_brackets, "expected a contract summary with '<' (gpts: gpt-4-gizmo-<g-id>)"
    for contract in with_brackets:
        assert html.escape(contract.summary) in page
    assert "<g-id>" not in page
    forged = copy.deepcopy(document)
    _, path, _ = operations(forged)["openai.models.list"]
    forged["paths"][path]["get"]["description"] = '<script>alert("x")</script> & more'
    rendered = render_docs(forged)
    assert "<script>" not in rendered
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in rendered
