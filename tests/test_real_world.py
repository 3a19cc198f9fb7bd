"""The real-traffic corpus (fixtures/real_world): what real clients send is accepted, what real servers
answered satisfies its contract, and what client code reads is in the mock's answers.

Each file is one exchange, or one client's flow, whose structure a public source shows (see
fixtures/real_world/README.md). The contracts are judged by it, not the other way round.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from mockserver import sse
from mockserver.contracts import default_registry
from mockserver.parsing import coerce_fields
from mockserver.resources import fixtures_dir
from mockserver.responses import ResponseJudge
from pytest_plugin.strategies import type_name

REGISTRY = default_registry()
BASE = "https://goapi.gptnb.ai"
CORPUS = fixtures_dir() / "real_world"
FORMAT = json.loads((CORPUS / "corpus.schema.json").read_text(encoding="utf-8"))
FILES = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.glob("*/*.json"))
MAX_POLLS = 40


def load(name: str) -> dict[str, Any]:
    return json.loads((CORPUS / name).read_text(encoding="utf-8"))


def with_part(part: str) -> list[str]:
    return [name for name in FILES if part in load(name)]


def test_the_corpus_exists() -> None:
    assert FILES, "fixtures/real_world holds no corpus files"


def test_every_family_has_real_traffic() -> None:
    """A family whose contracts no real request or answer has judged is still drawn from the docs alone."""
    covered = {name.split("/")[0] for name in FILES}
    assert sorted({c.family for c in REGISTRY} - covered) == []


@pytest.mark.parametrize("name", FILES)
def test_corpus_file_is_well_formed(name: str) -> None:
    data = load(name)
    jsonschema.Draft202012Validator(FORMAT).validate(data)
    assert data["contract"] in REGISTRY, f"{name}: unknown contract {data['contract']}"
    assert name.split("/")[0] == REGISTRY[data["contract"]].family, f"{name}: file it under its contract's family"
    text = json.dumps(data)
    assert not re.search(r"sk-[A-Za-z0-9]{20,}", text), f"{name}: looks like it carries a real key"
    requests = [data["request"]] if "request" in data else [step["request"] for step in data.get("flow", ())]
    for part in (p for r in requests for p in r.get("files", {}).values() if "fixture" in p):
        assert (fixtures_dir() / part["fixture"]).is_file(), f"{name}: no fixture {part['fixture']}"


# ---- what real servers answered ----


def response_violations(contract_id: str, response: dict[str, Any]) -> list[str]:
    judge = ResponseJudge(REGISTRY[contract_id], REGISTRY)
    status = response["status"]
    if "events" in response:
        # The corpus keeps each event's data; the name a contract's named_by wants is derived from it, as replays do.
        named_by = judge.contract.event_stream(status).get("named_by")
        items = [sse.named(event, named_by) for event in response["events"]]
        return [v for index, item in enumerate(items) for v in judge.event_violations(status, sse.payload(item), index, sse.name(item))]
    content_type = response.get("content_type", "application/json")
    payload = response["text"] if "text" in response else response.get("body")
    return judge.body_violations(status, content_type, payload)


@pytest.mark.parametrize("name", with_part("response"))
def test_real_response_satisfies_its_contract(name: str) -> None:
    data = load(name)
    assert response_violations(data["contract"], data["response"]) == []


@pytest.mark.parametrize("name", [n for n in with_part("response") if isinstance(load(n)["response"].get("body"), dict)])
def test_the_contract_still_rejects_a_real_response_missing_a_field_it_requires(name: str) -> None:
    """Loosening for real answers must not blind the checks: every top-level field the contract
    requires is still required (and there is at least one, or the check would accept anything)."""
    data = load(name)
    response = data["response"]
    contract = REGISTRY[data["contract"]]
    key = contract.response_key(response["status"])
    media = response.get("content_type", "application/json").split(";")[0]
    schema = REGISTRY.resolve(contract.pointer("responses", key, "content", media, "schema"))
    required = [field for field in _top_level_required(schema, response["body"]) if field in response["body"]]
    alternatives = [group for group in _top_level_alternatives(schema, response["body"]) if group <= set(response["body"])]
    assert required or alternatives, f"{name}: the contract requires none of the fields this answer has"
    for field in required:
        broken = {k: v for k, v in response["body"].items() if k != field}
        assert response_violations(data["contract"], {**response, "body": broken}), f"{name}: accepted without {field!r}"
    for group in alternatives:  # one of them is required: without all of them the answer is broken
        broken = {k: v for k, v in response["body"].items() if k not in group}
        assert response_violations(data["contract"], {**response, "body": broken}), f"{name}: accepted without any of {sorted(group)}"


def _top_level_alternatives(schema: dict[str, Any], body: Any) -> list[set[str]]:
    """Fields of which the schema requires one: of a union where several branches accept ``body``
    (Gemini's candidates or promptFeedback), the fields those branches require."""
    groups = [group for branch in schema.get("allOf", ()) if isinstance(branch, dict) for group in _top_level_alternatives(branch, body)]
    for union in ("anyOf", "oneOf"):
        matching = [b for b in schema.get(union, ()) if isinstance(b, dict) and jsonschema.Draft202012Validator(b).is_valid(body)]
        if len(matching) > 1:
            groups.append(set().union(*(_top_level_required(b, body) for b in matching)))
    return groups


def _top_level_required(schema: dict[str, Any], body: Any) -> list[str]:
    """What the schema requires of ``body``: its own and allOf's required fields, and, of a union
    (anyOf / oneOf), the fields every branch that ``body`` satisfies requires."""
    required = list(schema.get("required", ()))
    for branch in schema.get("allOf", ()):
        if isinstance(branch, dict):
            required += _top_level_required(branch, body)
    for union in ("anyOf", "oneOf"):
        matching = [b for b in schema.get(union, ()) if isinstance(b, dict) and jsonschema.Draft202012Validator(b).is_valid(body)]
        if matching:
            required += sorted(set.intersection(*(set(_top_level_required(b, body)) for b in matching)))
    return required


# ---- what real clients send, and what their code reads ----


@pytest.mark.parametrize("name", with_part("request"))
def test_real_request_satisfies_its_contract_as_the_relay_reads_it(name: str) -> None:
    data = load(name)
    contract = REGISTRY[data["contract"]]
    request = data["request"]
    body = request.get("body", form_as_read(contract, request) if "form" in request or "files" in request else None)
    if body is not None and "body" in contract.request:
        read = contract.absence.drop(body)
        assert REGISTRY.check(contract.pointer("request", "body")).violations(read) == []


def form_as_read(contract: Any, request: dict[str, Any]) -> dict[str, Any]:
    """A form as the mock reads it: values typed by the schema, each file part seen as its file name."""
    schema = REGISTRY.resolve(contract.pointer("request", "body")) if "body" in contract.request else None
    fields = coerce_fields([(k, v if isinstance(v, str) else json.dumps(v)) for k, v in request.get("form", {}).items()], schema)
    return {**fields, **{name: part["filename"] for name, part in request.get("files", {}).items()}}


@pytest.mark.gptnb(clock="step")
@pytest.mark.parametrize("name", with_part("request"))
def test_the_mock_accepts_what_real_clients_send(name: str, gptnb) -> None:
    data = load(name)
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-real-world"}) as client:
        answer = send(client, data["request"], {})
        check_answer(name, data["contract"], answer, business_error_expected=_is_business_error(data))
        check_reads(name, answer, data.get("reads", ()))
    assert gptnb.violations() == []


@pytest.mark.gptnb(clock="step")
@pytest.mark.parametrize("name", with_part("flow"))
def test_a_real_client_flow_runs_against_the_mock(name: str, gptnb) -> None:
    data = load(name)
    saved: dict[str, Any] = {}
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-real-world"}) as client:
        for number, step in enumerate(data["flow"]):
            where = f"{name} step {number}"
            answer = send(client, step["request"], saved)
            until = step.get("poll_until")
            polls = 0
            while until and not reached(answer, until):
                polls += 1
                assert polls < MAX_POLLS, f"{where}: {until['path']} never reached {until.get('in', until.get('same_as'))}"
                answer = send(client, step["request"], saved)
            check_answer(where, None, answer, business_error_expected=False)
            check_reads(where, answer, step.get("reads", ()))
            for saved_name, path in step.get("save", {}).items():
                saved[saved_name] = value_at(answer, path)
    assert gptnb.violations() == []


def reached(answer: httpx.Response, until: dict[str, Any]) -> bool:
    value = value_at(answer, until["path"])
    if "same_as" in until:
        return value is not None and value == value_at(answer, until["same_as"])
    return value in until["in"]


def send(client: httpx.Client, request: dict[str, Any], saved: dict[str, Any]) -> httpx.Response:
    filled = fill(request, saved)
    headers = {k: v for k, v in filled.get("headers", {}).items() if k.lower() != "authorization"}
    kwargs: dict[str, Any] = {"params": filled.get("query") or None, "headers": headers}
    fields = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in filled.get("form", {}).items()]
    if "files" in filled:  # multipart, even with no file part: fields go as parts without a file name
        kwargs["files"] = [(k, (None, v)) for k, v in fields] + [(name, file_part(part)) for name, part in filled["files"].items()]
    elif "form" in filled:
        kwargs["data"] = dict(fields)
    elif "body" in filled:
        kwargs["json"] = filled["body"]
    return client.request(filled["method"], filled["path"], **kwargs)


def file_part(part: dict[str, Any]) -> tuple[str, bytes, str]:
    content = (fixtures_dir() / part["fixture"]).read_bytes() if "fixture" in part else part["text"].encode()
    return part["filename"], content, part.get("content_type", "application/octet-stream")


def fill(value: Any, saved: dict[str, Any]) -> Any:
    """``{name}`` in strings becomes what an earlier step saved (a whole-string placeholder keeps its type)."""
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        if whole and whole.group(1) in saved:
            return saved[whole.group(1)]
        return re.sub(r"\{(\w+)\}", lambda m: str(saved[m.group(1)]) if m.group(1) in saved else m.group(0), value)
    if isinstance(value, dict):
        return {k: fill(v, saved) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, saved) for v in value]
    return value


def _is_business_error(data: dict[str, Any]) -> bool:
    response = data.get("response")
    if not response:
        return False
    judge = ResponseJudge(REGISTRY[data["contract"]], REGISTRY)
    return judge.is_error(response["status"], response.get("content_type", "application/json"), response.get("body"))


def check_answer(where: str, contract_id: str | None, answer: httpx.Response, *, business_error_expected: bool) -> None:
    assert answer.status_code < 400, f"{where}: the mock refused a real client's request: HTTP {answer.status_code} {answer.text[:400]}"
    if contract_id is None or business_error_expected or "json" not in answer.headers.get("content-type", ""):
        return
    judge = ResponseJudge(REGISTRY[contract_id], REGISTRY)
    assert not judge.is_error(answer.status_code, answer.headers["content-type"], answer.json()), f"{where}: answered a business error: {answer.text[:400]}"


def answer_data(answer: httpx.Response) -> Any:
    """What a client reads: the JSON body, or an event stream's data payloads in order."""
    if answer.headers.get("content-type", "").startswith("text/event-stream"):
        return [event.json() for event in sse.parse(answer.text) if event.data.startswith(("{", "["))]
    return answer.json()


def check_reads(where: str, answer: httpx.Response, reads: Any) -> None:
    if not reads:
        return
    body = answer_data(answer)
    for read in reads:
        wanted = read["type"] if isinstance(read["type"], list) else [read["type"]]
        values = values_at(body, read["path"].split("."))
        assert values, f"{where}: a client reads {read['path']}, the mock's answer has none: {answer.text[:400]}"
        for value in values:
            kind = type_name(value)
            ok = kind in wanted or (kind == "integer" and "number" in wanted)
            assert ok, f"{where}: a client reads {read['path']} as {'/'.join(wanted)}, the mock sent {kind} {value!r:.80}"


def value_at(answer: httpx.Response, path: str) -> Any:
    found = values_at(answer_data(answer), path.split("."))
    return found[0] if found else None


def values_at(node: Any, parts: list[str]) -> list[Any]:
    if not parts:
        return [node]
    head, rest = parts[0], parts[1:]
    if head == "*":
        return [v for item in node for v in values_at(item, rest)] if isinstance(node, list) else []
    if isinstance(node, list) and head.lstrip("-").isdigit():
        index = int(head)
        return values_at(node[index], rest) if -len(node) <= index < len(node) else []
    if isinstance(node, dict) and head in node:
        return values_at(node[head], rest)
    return []


def test_reading_paths_follow_lists_and_refuse_what_is_missing() -> None:
    body = {"data": [{"clip": {"audio_url": "a"}}, {"clip": {"audio_url": "b"}}], "code": 0}
    assert values_at(body, "data.*.clip.audio_url".split(".")) == ["a", "b"]
    assert values_at(body, "data.1.clip.audio_url".split(".")) == ["b"]
    assert values_at(body, "data.*.clip.video_url".split(".")) == []
    assert values_at({"data": []}, "data.*.x".split(".")) == []
    assert fill({"path": "/mj/task/{task}/fetch", "ids": "{ids}"}, {"task": "17", "ids": [1]}) == {"path": "/mj/task/17/fetch", "ids": [1]}


def test_corpus_files_are_only_where_the_format_says() -> None:
    stray = [p.relative_to(CORPUS).as_posix() for p in Path(CORPUS).rglob("*") if p.is_file() and p.suffix == ".json"]
    assert sorted(set(stray) - set(FILES) - {"corpus.schema.json"}) == []
