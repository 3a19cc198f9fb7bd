"""Values the relay reads as "not given" (request.absent_values): dropped before validation, sent by
the strategies, never counted as a broken rule."""

from __future__ import annotations

import json
import shutil

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.absent import Absence, drop_absent, is_absent, may_hold
from mockserver.app import MockApp
from mockserver.cli import main as cli
from mockserver.config import Settings
from mockserver.contracts import ContractRegistry
from mockserver.resources import contracts_dir, fixtures_dir
from mockserver.store import DEFAULT_NAMESPACE, run_sync
from pytest_plugin.bridge import ASGIBridge
from pytest_plugin.strategies import invalid_request_cases, requests, sample_requests

BASE = "https://goapi.gptnb.ai"
KLING = "kling.videos.image2video"


def test_markers_match_by_type_as_well_as_value() -> None:
    assert is_absent(0, (0,)) and is_absent(0.0, (0,)) and not is_absent(False, (0,))
    assert is_absent(False, (False,)) and not is_absent(0, (False,))
    assert is_absent(None, (None,)) and not is_absent("", (None,))
    assert is_absent([], ([],)) and not is_absent({}, ([],)) and not is_absent([0], ([],))


def test_members_are_dropped_at_every_depth_but_array_items_stay() -> None:
    body = {"a": "", "b": None, "c": {"d": "", "e": "x"}, "f": ["", {"g": "", "h": 1}], "i": 0}
    assert drop_absent(body, ("", None)) == {"c": {"e": "x"}, "f": ["", {"h": 1}], "i": 0}
    assert drop_absent(body, ()) is body


@given(body=st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_a_body_without_a_markers_spelling_has_nothing_to_drop(body) -> None:
    """The shortcut that skips the walk never skips a body the walk would change."""
    text = json.dumps(body).encode()
    for markers in (("",), (None,), (False,), ("", None), (0,), ([], {})):
        if not may_hold(text, markers):
            assert drop_absent(body, markers) == body, (markers, text)
    assert not may_hold(b'{"model":"m","n":1}', ("", None, False))
    assert may_hold(b'{"a":null}', (None,)) and may_hold(b'{"a":""}', ("",)) and may_hold(b'{"a":1}', (0,))


def test_a_declaration_with_fields_drops_only_those_members() -> None:
    absence = Absence.declared({"values": [None], "fields": ["temperature", "config.*", "tools.*.description"]})
    body = {
        "temperature": None,
        "metadata": None,
        "config": {"top_p": None, "seed": 0},
        "tools": [{"name": "f", "description": None, "parameters": {"default": None}}],
        "messages": [{"content": None}],
    }
    assert absence.drop(body) == {
        "metadata": None,
        "config": {"seed": 0},
        "tools": [{"name": "f", "parameters": {"default": None}}],
        "messages": [{"content": None}],
    }
    assert absence.covers("temperature") and not absence.covers("metadata") and not absence.covers("config")
    assert Absence.declared(["", None]).covers("anything") and not Absence.declared(None)


def test_generated_requests_send_nulls_only_where_the_relay_reads_them() -> None:
    from mockserver.contracts import default_registry

    contract = default_registry()["claude.messages.create"]
    samples = sample_requests(contract.id, 8)
    sent = {name for s in samples for name, value in s.json.items() if value is None}
    assert sent and all(contract.absence.covers(name) for name in sent), sent


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> ContractRegistry:
    """The shipped contracts, with Kling image-to-video declaring that "" and null mean not given."""
    root = tmp_path_factory.mktemp("contracts")
    shutil.copytree(contracts_dir(), root, dirs_exist_ok=True)
    path = root / "kling" / f"{KLING}.json"
    document = json.loads(path.read_text())
    document["request"]["absent_values"] = ["", None]
    path.write_text(json.dumps(document))
    return ContractRegistry.load(root)


@pytest.fixture(scope="module")
def client(registry):
    app = MockApp(Settings(strict=True), registry=registry)
    bridge = ASGIBridge(app)
    with httpx.Client(transport=httpx.MockTransport(bridge.handle_sync), base_url=BASE, headers={"Authorization": "Bearer sk-x"}) as http:
        yield http, app
    bridge.close()


def test_empty_fields_a_real_client_sends_are_read_as_not_given(client) -> None:
    http, app = client
    body = {"model_name": "kling-v1-6", "prompt": "", "image": "https://example.com/a.png", "image_tail": "", "negative_prompt": None}
    answer = http.post("/kling/v1/videos/image2video", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["code"] == 0
    # The journal keeps what was sent; only the relay's reading of it dropped the empty fields.
    assert run_sync(app.state.store.journal(DEFAULT_NAMESPACE))[-1].body == body


def test_a_required_input_sent_empty_is_still_missing(client) -> None:
    http, _ = client
    answer = http.post("/kling/v1/videos/image2video", json={"model_name": "kling-v1-6", "image": "", "image_tail": None})
    assert answer.status_code == 400, answer.text


def test_a_contract_without_the_declaration_still_refuses_empty_strings() -> None:
    from mockserver.contracts import default_registry

    assert default_registry()["openai.audio.transcriptions"].absent_values == ()


def test_broken_rules_are_counted_as_the_relay_reads_them(registry) -> None:
    cases = invalid_request_cases(KLING, registry=registry)
    for case in cases:
        if isinstance(case.json, dict) and case.rule != "missing API key":
            assert registry.check(registry[KLING].pointer("request", "body")).violations(drop_absent(case.json, ("", None))), case.rule


def test_runner_samples_send_unused_fields_empty_every_other_time(registry) -> None:
    samples = sample_requests(KLING, 4, registry=registry)
    assert any("" in s.json.values() for s in samples if isinstance(s.json, dict))


def test_generated_requests_with_empty_fields_are_answered_as_if_the_fields_were_left_out(registry, client) -> None:
    http, app = client
    seen_empty = []

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(request=requests(KLING, registry=registry))
    def check(request) -> None:
        run_sync(app.state.reset())  # each answer from the same state (external_task_id must be new)
        with_empty = http.request(**request.httpx_kwargs(BASE))
        request.json = drop_absent(request.json, ("", None))
        run_sync(app.state.reset())
        left_out = http.request(**request.httpx_kwargs(BASE))
        assert with_empty.status_code == left_out.status_code, (request, with_empty.text, left_out.text)
        assert with_empty.json().get("code") == left_out.json().get("code")
        seen_empty.append(with_empty.request.content != left_out.request.content)

    check()
    assert any(seen_empty), "the strategy never sent an unused field empty"


def test_validate_reads_a_request_as_the_relay_does_and_takes_urls(tmp_path, capsys) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
    assert cli(["validate", "--method", "POST", "--path", "https://goapi.gptnb.ai/v1/chat/completions?x=1", str(request)]) == 0
    response = tmp_path / "response.json"
    ready = json.loads((fixtures_dir() / "flux" / "task.get_result.ready.json").read_text())["response"]["body"]
    response.write_text(json.dumps(ready))
    assert cli(["validate", "--method", "GET", "--path", "/flux/v1/get_result?id=abc", "--status", "200", str(response)]) == 0
    assert "flux.task.get_result: response 200 conforms" in capsys.readouterr().out


def test_variants_read_absent_values_as_the_contract_they_vary() -> None:
    """The pipeline reads a body before it knows the variant, so a variant cannot differ."""
    from mockserver.contracts import default_registry

    registry = default_registry()
    for contract in registry:
        if contract.variant_of:
            assert contract.absent_values == registry[contract.variant_of].absent_values, contract.id
