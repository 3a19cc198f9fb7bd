"""Bad input never yields a 500: hypothesis draws requests that break one rule of every contract."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from mockserver.app import MockApp
from mockserver.config import Settings
from mockserver.contracts import default_registry
from mockserver.journal import violations
from mockserver.responses import ResponseJudge
from mockserver.store import DEFAULT_NAMESPACE, run_sync
from pytest_plugin.bridge import ASGIBridge
from pytest_plugin.strategies import GeneratedRequest, invalid_requests

REGISTRY = default_registry()
BASE = "https://goapi.gptnb.ai"


@pytest.fixture(scope="module")
def client():
    app = MockApp(Settings(strict=True))
    bridge = ASGIBridge(app)
    with httpx.Client(transport=httpx.MockTransport(bridge.handle_sync)) as http:
        yield http, app
    bridge.close()


@pytest.mark.parametrize("contract_id", sorted(REGISTRY.contracts))
def test_invalid_requests_get_the_family_error_never_a_500(contract_id: str, client) -> None:
    http, app = client
    judge = ResponseJudge(REGISTRY[contract_id], REGISTRY)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(request=invalid_requests(contract_id))
    def check(request: GeneratedRequest) -> None:
        response = http.request(**request.httpx_kwargs(BASE))
        status, content_type, body = response.status_code, response.headers["content-type"], response.json()
        assert status < 500, f"{request.rule}: HTTP {status} {response.text[:300]}"
        # 4xx, or a business error in the family's 200 envelope (Midjourney code 4) where the contract says so.
        assert judge.is_error(status, content_type, body), f"{request.rule}: not answered as an error: HTTP {status} {response.text[:300]}"
        assert judge.body_violations(status, content_type, body) == [], request.rule

    check()
    assert violations(run_sync(app.state.store.journal(DEFAULT_NAMESPACE))) == []
