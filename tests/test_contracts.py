"""The contracts themselves: meta-schema, examples, references, and that the mock serves each one."""

from __future__ import annotations

import json

import pytest

from mockserver.contracts import ContractError, ContractRegistry, default_registry
from mockserver.examples import example_files, examples_of
from mockserver.families import load_all
from mockserver.resources import contracts_dir, fixtures_dir
from mockserver.responses import ResponseJudge
from mockserver import sse
from mockserver.sse import parse

REGISTRY = default_registry()
CONTRACTS = sorted(REGISTRY.contracts)
EXAMPLES = [(cid, e.name) for cid in CONTRACTS for e in examples_of(REGISTRY[cid])]


def test_every_contract_satisfies_the_meta_schema() -> None:
    assert REGISTRY.meta_violations() == {}


def test_a_broken_contract_is_reported_by_the_meta_schema(tmp_path) -> None:
    (tmp_path / "contract.schema.json").write_text((contracts_dir() / "contract.schema.json").read_text())
    family = tmp_path / "demo"
    family.mkdir()
    broken = json.loads((contracts_dir() / "openai" / "openai.models.list.json").read_text())
    broken["method"] = "FETCH"
    del broken["responses"]
    (family / "demo.broken.json").write_text(json.dumps(broken))
    with pytest.raises(ContractError) as raised:
        ContractRegistry.load(tmp_path)
    message = str(raised.value)
    assert "demo/demo.broken.json: method" in message and '"responses" is a required property' in message


def test_contract_files_are_named_after_their_ids_and_family() -> None:
    for contract in REGISTRY:
        assert contract.uri.endswith(f"/{contract.family}/{contract.id}.json")
        assert contract.id.split(".")[0] == contract.family


def test_every_contract_has_a_handler_or_answers_its_example() -> None:
    handlers = load_all()
    for contract in REGISTRY:
        assert contract.id in handlers or contract.examples, contract.id


def test_variants_point_at_a_contract_on_the_same_route() -> None:
    for contract in REGISTRY:
        if contract.variant_of:
            base = REGISTRY[contract.variant_of]
            assert (base.method, base.path) == (contract.method, contract.path)


def test_every_example_file_is_listed_by_a_contract() -> None:
    listed = {e["file"] for c in REGISTRY for e in c.examples}
    on_disk = {p.relative_to(fixtures_dir()).as_posix() for p in example_files()}
    assert on_disk - listed == set()


@pytest.mark.parametrize(("contract_id", "name"), EXAMPLES)
def test_example_request_satisfies_its_contract(contract_id: str, name: str) -> None:
    contract = REGISTRY[contract_id]
    example = next(e for e in examples_of(contract) if e.name == name)
    request = example.request
    assert request["method"] == contract.method
    if "body" in request:
        assert REGISTRY.check(contract.pointer("request", "body")).violations(request["body"]) == []


@pytest.mark.parametrize(("contract_id", "name"), EXAMPLES)
def test_example_response_satisfies_its_contract(contract_id: str, name: str) -> None:
    contract = REGISTRY[contract_id]
    example = next(e for e in examples_of(contract) if e.name == name)
    response = example.response
    judge = ResponseJudge(contract, REGISTRY)
    status = response["status"]
    if "frames" in response:
        for index, event in enumerate(response["frames"]["server"]):
            assert judge.frame_violations(status, event, index) == [], event["type"]
        for index, event in enumerate(response["frames"]["client"]):
            assert judge.frame_violations(status, event, index, side="client_event") == [], event["type"]
    elif "events" in response:
        named_by = contract.event_stream(status).get("named_by")  # replayed examples are named as the contract says
        for index, event in enumerate(response["events"]):
            item = sse.named(event, named_by)
            assert judge.event_violations(status, sse.payload(item), index, sse.name(item)) == []
        assert response.get("terminator") == judge.terminator(status)
    elif "body" in response:
        assert judge.body_violations(status, response["content_type"], response["body"]) == []
    elif "text" in response:
        assert judge.body_violations(status, response["content_type"], response["text"]) == []
    else:
        assert not isinstance(judge.media(status, response["content_type"]), str)


def test_schemas_reject_what_the_docs_forbid() -> None:
    chat = REGISTRY["openai.chat.completions"]
    body = REGISTRY.check(chat.pointer("request", "body"))
    good = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    assert body.violations(good) == []
    assert body.violations({**good, "temperature": 3})[0].field == "temperature"
    assert body.violations({**good, "n": 0})[0].field == "n"
    assert body.violations({"model": "gpt-4o-mini"})[0].keyword == "required"
    assert body.violations({**good, "vendor_extra": True}) == []  # relays ignore unknown fields
    judge = ResponseJudge(chat, REGISTRY)
    reply = json.loads((fixtures_dir() / "openai" / "chat.completions.basic.json").read_text())["response"]["body"]
    reply["choices"][0]["finish_reason"] = "bogus"
    assert any("finish_reason" in v for v in judge.body_violations(200, "application/json", reply))


def test_sse_reader_takes_streams_apart() -> None:
    events = parse(': ping\n\ndata: {"a": 1}\n\nevent: x\ndata: 2\ndata: 3\n\ndata: [DONE]\n\n')
    assert [(e.event, e.data) for e in events] == [(None, '{"a": 1}'), ("x", "2\n3"), (None, "[DONE]")]


def test_lifecycles_name_real_query_contracts_and_consistent_words() -> None:
    from mockserver.lifecycles import lifecycles

    for name, lifecycle in lifecycles().items():
        for submit in (c for c in REGISTRY if c.kind == "task-submit" and c.behavior.get("lifecycle") == name):
            query = REGISTRY[lifecycle.query_for(submit.id)]
            assert query.kind in ("task-query", "sse"), (name, query.kind)
        words = set(lifecycle.words())
        assert lifecycle.terminal <= words and lifecycle.success <= lifecycle.terminal, name
        assert lifecycle.submit_id.startswith("/") and lifecycle.status.startswith("/"), name


def test_every_submit_contract_has_a_lifecycle_that_describes_it() -> None:
    from mockserver.lifecycles import lifecycles

    from mockserver.lifecycles import unfollowed

    described = lifecycles().keys() | unfollowed().keys()
    missing = sorted(f"{c.id} ({c.behavior.get('lifecycle')})" for c in REGISTRY if c.kind == "task-submit" and c.behavior.get("lifecycle") not in described)
    assert missing == [], f"submit contracts whose lifecycle contracts/_lifecycles.json does not describe: {missing}"
