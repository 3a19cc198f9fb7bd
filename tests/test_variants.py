"""Variant picking (mockserver/variants.py), the one rule the pipeline, the proxy's judge and
``gptnb-mock validate`` share: headers and query first, then the body, the base when nothing picks."""

from __future__ import annotations

import pytest

from mockserver.contracts import Contract, default_registry
from mockserver.routing import Router
from mockserver.variants import VariantPicker

REGISTRY = default_registry()
PICKER = VariantPicker(REGISTRY)
ROUTER = Router(REGISTRY)


def served(method: str, path: str) -> list[Contract]:
    match = ROUTER.match(path, method)
    assert match is not None
    return match.route.methods[method]


def picked(method: str, path: str, headers: dict[str, str], query: list[tuple[str, str]], body: object) -> str:
    candidates = PICKER.by_request(served(method, path), headers, query)
    return PICKER.by_body(candidates, body).id


@pytest.mark.parametrize(
    ("headers", "query", "expected"),
    [
        ({"x-api-key": "sk-a", "anthropic-version": "2023-06-01"}, [], "claude.models.list"),
        ({"x-goog-api-key": "g-key"}, [], "gemini.models.list_v1"),
        ({}, [("key", "g-key")], "gemini.models.list_v1"),
        ({"authorization": "Bearer sk-a"}, [], "openai.models.list"),
    ],
)
def test_headers_and_query_pick_the_models_listing(headers: dict[str, str], query: list[tuple[str, str]], expected: str) -> None:
    assert picked("GET", "/v1/models", headers, query, None) == expected


def test_a_query_word_picks_jimeng_polling_and_anything_else_submits() -> None:
    assert picked("POST", "/jimeng/", {}, [("Action", "CVSync2AsyncGetResult"), ("Version", "2022-08-31")], {}) == "jimeng.get_result"
    assert picked("POST", "/jimeng/", {}, [("Action", "CVSync2AsyncSubmitTask")], {}) == "jimeng.submit_task"
    assert picked("POST", "/jimeng/", {}, [], {}) == "jimeng.submit_task"


def test_the_body_picks_a_gpts_model_and_the_base_answers_the_rest() -> None:
    assert picked("POST", "/v1/chat/completions", {}, [], {"model": "gpt-4-gizmo-g-abc", "messages": []}) == "openai.chat.gpts"
    assert picked("POST", "/v1/chat/completions", {}, [], {"model": "gpt-4o-mini", "messages": []}) == "openai.chat.completions"


@pytest.mark.parametrize("body", [None, [], "gpt-4-gizmo-g-abc", 3])
def test_a_body_that_is_not_an_object_picks_the_base(body: object) -> None:
    assert picked("POST", "/v1/chat/completions", {}, [], body) == "openai.chat.completions"


def test_variants_that_are_all_picked_by_headers_stay_candidates_when_none_matches() -> None:
    only_picked = [REGISTRY["claude.models.list"], REGISTRY["gemini.models.list_v1"]]
    assert PICKER.by_request(only_picked, {"authorization": "Bearer sk-a"}, []) == only_picked
    assert PICKER.by_body(PICKER.by_request(only_picked, {}, []), None).id == "gemini.models.list_v1"
