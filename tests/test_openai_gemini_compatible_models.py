"""GET /v1beta/openai/models: new-api's OpenAI-shaped model list under Gemini's OpenAI-compatible base URL.

Clients that point the OpenAI SDK at ``.../v1beta/openai/`` (Google's documented base URL for its
OpenAI compatibility) list models there; the relay answers the same list as ``GET /v1/models``.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai_helpers import AUTH, BASE, CLIENT_MODULES, KEY


def test_the_openai_sdk_lists_the_catalogue_under_the_gemini_compatible_base_url(gptnb: Any) -> None:
    listed = openai.OpenAI(base_url=f"{gptnb.url}/v1beta/openai", api_key=KEY, max_retries=0).models.list()
    direct = openai.OpenAI(base_url=gptnb.openai_base_url, api_key=KEY, max_retries=0).models.list()
    assert [m.id for m in listed] == [m.id for m in direct] and "gemini-2.5-pro" in {m.id for m in listed}
    assert gptnb.calls.last.contract_id == "openai.models.list"


@CLIENT_MODULES
def test_anthropic_headers_do_not_turn_it_into_the_claude_list(gptnb: Any, client_module: Any) -> None:
    # Only /v1/models looks at x-api-key + anthropic-version; this route always answers the OpenAI list.
    answer = client_module.get(f"{BASE}/v1beta/openai/models", headers={**AUTH, "x-api-key": KEY, "anthropic-version": "2023-06-01"})
    assert answer.status_code == 200 and answer.json()["object"] == "list"
    assert gptnb.calls.last.contract_id == "openai.models.list"


@CLIENT_MODULES
def test_no_key_is_401_and_a_post_is_not_a_route(gptnb: Any, client_module: Any) -> None:
    assert client_module.get(f"{BASE}/v1beta/openai/models").status_code == 401
    assert client_module.post(f"{BASE}/v1beta/openai/models", headers=AUTH, json={}).status_code in (404, 405)
