"""A key's balance as chat web UIs read it: OpenAI's legacy dashboard billing routes and /v1/credits.

new-api serves GET /dashboard/billing/subscription, /dashboard/billing/usage (both also under /v1) and
/v1/credits with TokenAuth only (router/dashboard.go), answering from the token's quota
(controller/billing.go). The mock's keys are unlimited tokens, so it answers as the relay answers one.
Through the official SDK's raw GET (it has no billing methods; its base URL ends in /v1), and raw
httpx / httpx2 the way NextChat and new-api's own channel balance check call them. Strict mode is on.
"""

from __future__ import annotations

from typing import Any

import pytest
from openai_helpers import AUTH, BASE, CLIENT_MODULES, sdk

from mockserver.families.openai.billing import Account, credits, subscription, usage

UNLIMITED_SUBSCRIPTION = {
    "object": "billing_subscription",
    "has_payment_method": True,
    "soft_limit_usd": 100000000,
    "hard_limit_usd": 100000000,
    "system_hard_limit_usd": 100000000,
    "access_until": 0,
}


def test_the_sdk_reads_the_subscription_and_usage_under_v1(gptnb: Any) -> None:
    client = sdk(gptnb)
    assert client.get("/dashboard/billing/subscription", cast_to=object) == UNLIMITED_SUBSCRIPTION
    assert gptnb.calls.last.path == "/v1/dashboard/billing/subscription"
    assert gptnb.calls.last.contract_id == "openai.billing.subscription"
    used = client.get("/dashboard/billing/usage", cast_to=object, options={"params": {"start_date": "2025-01-01", "end_date": "2025-01-16"}})
    assert used == {"object": "list", "total_usage": 0}
    assert client.get("/credits", cast_to=object) == {"data": {"total_usage": 100000000}}
    assert gptnb.calls.last.contract_id == "openai.billing.credits"


@CLIENT_MODULES
def test_nextchat_shows_the_balance_from_both_answers(gptnb: Any, client_module: Any) -> None:
    # ChatGPTNextWeb/NextChat app/client/platforms/openai.ts usage(): both requests at the root, then
    # used = round(total_usage) / 100 and total = round(hard_limit_usd * 100) / 100.
    used = client_module.get(f"{BASE}/dashboard/billing/usage", params={"start_date": "2025-01-01", "end_date": "2025-01-16"}, headers=AUTH)
    subs = client_module.get(f"{BASE}/dashboard/billing/subscription", headers=AUTH)
    assert used.status_code == subs.status_code == 200
    assert "error" not in used.json()
    assert round(used.json()["total_usage"]) / 100 == 0
    assert round(subs.json()["hard_limit_usd"] * 100) / 100 == 100000000
    assert [call.contract_id for call in gptnb.calls][-2:] == ["openai.billing.usage", "openai.billing.subscription"]


@CLIENT_MODULES
def test_new_apis_own_balance_check_of_an_upstream_relay(gptnb: Any, client_module: Any) -> None:
    # controller/channel-billing.go updateChannelBalance: subscription, then usage with dates, and
    # balance = hard_limit_usd - total_usage / 100.
    subs = client_module.get(f"{BASE}/v1/dashboard/billing/subscription", headers=AUTH).json()
    used = client_module.get(f"{BASE}/v1/dashboard/billing/usage", params={"start_date": "2025-01-01", "end_date": "2025-01-16"}, headers=AUTH).json()
    assert subs["has_payment_method"] is True
    assert subs["hard_limit_usd"] - used["total_usage"] / 100 == 100000000


@CLIENT_MODULES
@pytest.mark.parametrize("path", ["/dashboard/billing/subscription", "/v1/dashboard/billing/subscription", "/dashboard/billing/usage", "/v1/dashboard/billing/usage", "/v1/credits"])
def test_no_key_is_the_relays_401_and_only_get_is_served(gptnb: Any, client_module: Any, path: str) -> None:
    refused = client_module.get(f"{BASE}{path}")
    assert refused.status_code == 401 and refused.json()["error"]["message"]
    assert client_module.post(f"{BASE}{path}", headers=AUTH, json={}).status_code in (404, 405)


def test_a_limited_token_is_answered_in_dollars_of_500000_points() -> None:
    # What controller/billing.go computes for a token with quota, in the default USD display.
    token = Account(remaining=7_500_000, used=2_500_000, expires_at=1767225600)
    assert subscription(token) == {**UNLIMITED_SUBSCRIPTION, "soft_limit_usd": 20, "hard_limit_usd": 20, "system_hard_limit_usd": 20, "access_until": 1767225600}
    assert usage(Account(remaining=0, used=625_000)) == {"object": "list", "total_usage": 125}
    # controller/billing_test.go: a token with 2 x QuotaPerUnit left has data.total_usage 2.0.
    assert credits(Account(remaining=1_000_000)) == {"data": {"total_usage": 2.0}}
    assert subscription(Account(remaining=1, expires_at=-1))["access_until"] == 0
