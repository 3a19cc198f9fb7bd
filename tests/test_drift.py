"""Drift: every difference planted in the stand-in upstream is found in the recordings, the proposed
patch makes the contracts accept what was recorded (and still validates against the meta-schema), and
the patched contracts still reject a broken answer."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from mockserver.contracts import ContractRegistry, default_registry
from mockserver.proxy.cassette import load
from mockserver.proxy.drift import Drift, disagreements
from mockserver.proxy.drift_patch import proposal
from mockserver.proxy.drift_cli import apply_to_copy
from mockserver.proxy.jsonpatch import PatchError, apply_patch
from mockserver.resources import contracts_dir
from mockserver.responses import ResponseJudge

from proxy_helpers import CHAT, proxy_to, record_everything, served
from standin_upstream import UNKNOWN_EVENT, StandIn


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    directory = tmp_path_factory.mktemp("recorded")
    with served(StandIn()) as upstream, proxy_to(upstream.url, record=directory) as (_, url):
        record_everything(url)
    return directory


@pytest.fixture(scope="module")
def drift(recording) -> Drift:
    return Drift(default_registry()).add_all(load(recording))


@pytest.fixture(scope="module")
def patched(recording, drift, tmp_path_factory) -> ContractRegistry:
    target = tmp_path_factory.mktemp("patched") / "contracts"
    applied = apply_to_copy(contracts_dir(), target, proposal(drift), load(recording))
    assert applied["still_breaking"] == {}
    return ContractRegistry.load(target)


def cases(drift: Drift) -> set[tuple[str, str, str]]:
    return {(c.contract, c.kind, c.detail) for c in drift.found}


def test_drift_finds_every_planted_difference(drift) -> None:
    found = cases(drift)
    chat = "openai.chat.completions"
    assert (chat, "unknown_field", "/: field 'provider' is not in the schema") in found
    assert (chat, "missing_required", "/: required field 'created' is missing") in found
    assert (chat, "enum_value", "/choices/*/finish_reason: value 'eos' is not among the listed values") in found
    assert (chat, "type_change", "/usage/total_tokens: a string, which the schema does not allow") in found
    assert (chat, "unknown_field", "/: field 'x_trace' is not in the schema") in found  # in every stream event
    assert (chat, "type_change", "/created: a string, which the schema does not allow") in found  # one stream event
    assert ("openai.responses.create", "new_variant", f"/: type {UNKNOWN_EVENT!r} is a case the schema does not describe") in found
    assert ("openai.models.retrieve", "new_error_shape", "an error body shaped {code, msg} that the 5XX schema does not describe") in found
    assert ("midjourney.task.fetch", "enum_value", "/status: value 'QUEUED' is not among the listed values") in found
    assert ("midjourney.task.fetch", "unknown_status_word", "status word 'QUEUED' is not in the midjourney lifecycle") in found
    # Nothing else: what conformed (embeddings, speech, the submit) is not drift.
    assert {c for c in found if c[0] not in (chat, "openai.responses.create", "openai.models.retrieve", "midjourney.task.fetch")} == set()
    assert len(found) == 10


def test_each_case_is_counted(drift) -> None:
    trace = next(c for c in drift.found if c.detail.endswith("'x_trace' is not in the schema"))
    assert trace.count == 3 and len(trace.exchanges) == 1  # three events of one stream
    assert trace.where == "response 200 event"


def test_the_patch_says_where_and_how_often(drift) -> None:
    patches = proposal(drift)
    assert set(patches) == {"_lifecycles.json", "midjourney/_defs.json", "openai/_defs.json", "openai/_responses.json", "openai/openai.models.retrieve.json"}
    defs = {op["path"]: op for op in patches["openai/_defs.json"]}
    assert defs["/$defs/ChatCompletionChunk/properties/x_trace"]["count"] == 3
    assert defs["/$defs/ChatCompletionChunk/properties/x_trace"]["value"]["type"] == "string"
    assert defs["/$defs/FinishReason/enum/-"] == {"op": "add", "path": "/$defs/FinishReason/enum/-", "value": "eos", "count": 1, "finding": "/choices/*/finish_reason: value 'eos' is not among the listed values"}
    assert defs["/$defs/Usage/properties/total_tokens/type"]["value"] == ["integer", "string"]
    assert "created" not in defs["/$defs/ChatCompletion/required"]["value"]
    (error,) = patches["openai/openai.models.retrieve.json"]
    assert error["op"] == "replace" and error["path"] == "/responses/5XX/content/application~1json/schema"
    assert error["value"]["anyOf"][1]["required"] == ["code", "msg"]
    assert patches["_lifecycles.json"][0]["path"] == "/midjourney/order/1/-"  # beside NOT_START, the status before it


def test_the_patched_contracts_accept_the_recording(recording, patched) -> None:
    for cassette in load(recording):
        assert disagreements(cassette, patched) == [], cassette.name
    assert [c for c in Drift(patched).add_all(load(recording)).found] == []


def test_the_patched_contracts_still_reject_a_broken_answer(patched) -> None:
    chat = ResponseJudge(patched["openai.chat.completions"], patched)
    good = {"id": "c", "object": "chat.completion", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "eos"}], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": "2"}}
    assert chat.body_violations(200, "application/json", good) == []
    assert chat.body_violations(200, "application/json", {**good, "choices": [{**good["choices"][0], "finish_reason": "bogus"}]})
    assert chat.body_violations(200, "application/json", {**good, "usage": {**good["usage"], "total_tokens": {"n": 2}}})
    assert chat.body_violations(200, "application/json", {k: v for k, v in good.items() if k != "choices"})
    errors = ResponseJudge(patched["openai.models.retrieve"], patched)
    assert errors.body_violations(500, "application/json", {"code": 1, "msg": "busy"}) == []
    assert errors.body_violations(500, "application/json", {"oops": True})
    responses = ResponseJudge(patched["openai.responses.create"], patched)
    assert responses.event_violations(200, {"type": UNKNOWN_EVENT, "sequence_number": 1, "note": "x"}, 0, UNKNOWN_EVENT) == []
    assert responses.event_violations(200, {"type": "response.completed", "sequence_number": 2}, 0, "response.completed")  # still needs its response


def test_the_cli_reports_and_applies(recording, tmp_path) -> None:
    reports = [tmp_path / "drift.json", tmp_path / "drift.md", tmp_path / "drift.html"]
    command = [sys.executable, "-m", "mockserver.cli", "drift", str(recording), "--apply", str(tmp_path / "contracts.drift")]
    result = subprocess.run(command + [a for r in reports for a in ("--report", str(r))], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr  # drift was found
    assert "drift in 4 contract(s), 10 case(s)" in result.stdout
    assert "recordings still breaking them: 0" in result.stdout
    data = json.loads(reports[0].read_text(encoding="utf-8"))
    assert data["summary"]["drift"] is True and data["applied"]["still_breaking"] == {}
    assert data["contracts"]["openai.chat.completions"][0]["count"] == 3
    assert "## openai.chat.completions" in reports[1].read_text(encoding="utf-8")
    assert "<h2>openai.models.retrieve</h2>" in reports[2].read_text(encoding="utf-8")
    again = subprocess.run([sys.executable, "-m", "mockserver.cli", "drift", str(recording), "--contracts", str(tmp_path / "contracts.drift")], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "no drift" in again.stdout
    # The shipped contracts were left alone.
    assert subprocess.run([sys.executable, "-m", "mockserver.cli", "drift", str(recording)], capture_output=True, text=True, timeout=120).returncode == 1


def test_a_request_the_upstream_accepted_is_drift_too(tmp_path) -> None:
    with served(StandIn()) as upstream, proxy_to(upstream.url, record=tmp_path) as (_, url):
        for effort in ("extreme", "extreme"):
            httpx.post(url + "/v1/chat/completions", json={**CHAT, "reasoning_effort": effort, "temperature": 2.5}, headers={"Authorization": "Bearer k"})
    found = Drift(default_registry()).add_all(load(tmp_path)).found
    requested = {(c.kind, c.detail, c.count) for c in found if c.where == "request body"}
    assert requested == {
        ("enum_value", "/reasoning_effort: value 'extreme' is not among the listed values", 2),
        ("bound", "/temperature: 2.5 is past the schema's maximum", 2),
    }


def test_undocumented_statuses_and_media_types(tmp_path) -> None:
    with served(StandIn()) as upstream, proxy_to(upstream.url, record=tmp_path / "recorded") as (_, url):
        for model in ("moved-model", "moved-model", "teapot"):
            httpx.get(url + f"/v1/models/{model}", headers={"Authorization": "Bearer k"})
    drift = Drift(default_registry()).add_all(load(tmp_path / "recorded"))
    assert {(c.kind, c.count, c.detail) for c in drift.found} == {
        ("new_status", 2, "status 301 (application/json) is not among the contract's responses"),
        ("new_media", 1, "content type text/plain is not declared for 4XX"),
    }
    ops = proposal(drift)["openai/openai.models.retrieve.json"]
    assert [(op["op"], op["path"]) for op in ops] == [("add", "/responses/301"), ("add", "/responses/4XX/content/text~1plain")]
    assert ops[0]["value"]["content"]["application/json"]["schema"]["properties"] == {"moved_to": {"type": "string"}}
    applied = apply_to_copy(contracts_dir(), tmp_path / "patched", proposal(drift), load(tmp_path / "recorded"))
    assert applied["still_breaking"] == {}


def test_a_named_event_whose_name_is_not_its_type(tmp_path) -> None:
    body = {"model": "claude-3-5-haiku-20241022", "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "Hi"}], "metadata": {"user_id": "misnamed"}}
    with served(StandIn()) as upstream, proxy_to(upstream.url, record=tmp_path) as (_, url):
        httpx.post(url + "/v1/messages", json=body, headers={"x-api-key": "k", "anthropic-version": "2023-06-01"})
    drift = Drift(default_registry()).add_all(load(tmp_path))
    assert [(c.kind, c.detail) for c in drift.found] == [("event_name", "an event named 'ping' whose payload's type is 'message_start'")]
    assert proposal(drift) == {}  # the contract is right: names follow the payload


def test_traffic_that_conforms_is_no_drift(tmp_path) -> None:
    with served(StandIn()) as upstream, proxy_to(upstream.url, record=tmp_path) as (_, url):
        httpx.post(url + "/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"}, headers={"Authorization": "Bearer k"})
        httpx.get(url + "/v1/models", headers={"Authorization": "Bearer k"})
    result = subprocess.run([sys.executable, "-m", "mockserver.cli", "drift", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("no drift: 2 recorded exchanges")


def test_an_apply_directory_that_is_not_a_copy_is_left_alone(recording, drift, tmp_path) -> None:
    (tmp_path / "precious.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ValueError, match="is not a copy of the contracts"):
        apply_to_copy(contracts_dir(), tmp_path, proposal(drift), load(recording))
    assert (tmp_path / "precious.txt").read_text(encoding="utf-8") == "keep me"


def test_json_patch_operations() -> None:
    document = {"a": {"list": [1, 2]}, "b": 1}
    patched = apply_patch(document, [{"op": "add", "path": "/a/list/-", "value": 3, "count": 9}, {"op": "replace", "path": "/b", "value": 2}, {"op": "remove", "path": "/a/list/0"}, {"op": "add", "path": "/c~1d", "value": True}])
    assert patched == {"a": {"list": [2, 3]}, "b": 2, "c/d": True} and document == {"a": {"list": [1, 2]}, "b": 1}
    with pytest.raises(PatchError, match="nothing there"):
        apply_patch(document, [{"op": "remove", "path": "/zzz"}])
    with pytest.raises(PatchError, match="unsupported"):
        apply_patch(document, [{"op": "move", "path": "/b", "from": "/a"}])


def test_drift_of_websocket_frames(tmp_path) -> None:
    import asyncio

    import websockets

    async def session(url: str) -> None:
        async with websockets.connect(url + "/v1/realtime?model=gpt-4o-realtime-preview", additional_headers={"Authorization": "Bearer k"}) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "input_audio_buffer.clear", "x_client_note": 1}))
            while json.loads(await ws.recv())["type"] != "input_audio_buffer.cleared":
                pass

    with served(StandIn()) as upstream, proxy_to(upstream.url, record=tmp_path) as (_, url):
        asyncio.run(session(url.replace("http://", "ws://")))
    found = Drift(default_registry()).add_all(load(tmp_path)).found
    assert [(c.where, c.kind, c.detail) for c in found] == [("client frame", "unknown_field", "/: field 'x_client_note' is not in the schema")]
