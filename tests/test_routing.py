"""The router: static paths, parameters, Google's ``{model}:action`` segments, and the method deciding
between templates that match the same path, whatever order the contracts come in."""

from __future__ import annotations

import itertools

import pytest

from mockserver.contracts import default_registry
from mockserver.routing import Router, compile_path

REGISTRY = default_registry()
# Templates that all match /v1/models/<something>: new-api serves GET /v1/models/:model beside the
# Gemini relay on POST /v1/models/*path (router/relay-router.go).
OVERLAPPING = ["openai.models.retrieve", "gemini.models.generate_content", "gemini.models.stream_generate_content"]


@pytest.mark.parametrize("order", list(itertools.permutations(OVERLAPPING)), ids=lambda o: ">".join(c.split(".")[-1] for c in o))
def test_the_method_and_the_most_specific_template_win_in_any_order(order: tuple[str, ...]) -> None:
    router = Router(REGISTRY[contract_id] for contract_id in order)

    def served(method: str, path: str) -> tuple[str, dict[str, str]]:
        match = router.match(path, method)
        assert match is not None, f"{method} {path}"
        return match.route.methods[method][-1].id, match.params

    assert served("POST", "/v1/models/gemini-2.0-flash:generateContent") == ("gemini.models.generate_content", {"model": "gemini-2.0-flash"})
    assert served("POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent") == ("gemini.models.stream_generate_content", {"model": "gemini-2.5-pro"})
    assert served("GET", "/v1/models/gpt-4o-mini") == ("openai.models.retrieve", {"model": "gpt-4o-mini"})


def test_a_path_no_route_serves_for_the_method_still_matches_for_the_404() -> None:
    router = Router([REGISTRY["openai.models.retrieve"]])
    match = router.match("/v1/models/gpt-4o-mini", "DELETE")
    assert match is not None and "DELETE" not in match.route.methods
    assert router.match("/v2/nothing", "GET") is None


def test_a_parameter_stops_at_slashes_but_not_at_colons() -> None:
    pattern = compile_path("/v1beta/models/{model}:generateContent")
    assert pattern.match("/v1beta/models/gemini-2.0-flash:generateContent").group("model") == "gemini-2.0-flash"
    assert pattern.match("/v1beta/models/a/b:generateContent") is None
    assert pattern.match("/v1beta/models/gemini:streamGenerateContent") is None
