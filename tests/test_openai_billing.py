"""A key's balance as chat web UIs read it: OpenAI's legacy dashboard billing routes and /v1/credits.

new-api serves GET /dashboard/billing/subscription, /dashboard/billing/usage (both also under /v1) and
/v1/credits with TokenAuth only (router/dashboard.go), answering from the token's quota
(controller/billing.go). The mock answers from the key's account in its quota ledger; a key without a
quota is an unlimited token.
Through the official SDK's raw GET (it has no billing methods; its base URL ends in /v1), and raw
httpx / httpx2 the way NextChat and new-api's own channel balance check call them. Strict mode is on.
"""

from __future__ import annotations

from typing import Any

import pytest
from openai_helpers import AUTH, BASE, CLIENT_MODULES, sdk

from mockserver.families.openai.billing import credits, subscription, usage
from mockserver.quota.ledger import Account

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


def test_a_key_with_quota_shows_what_it_was_given_used_and_has_left(gptnb: Any) -> None:
    gptnb.quota.set("sk-test", "$2")
    client = sdk(gptnb)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Ping"}])
    account = gptnb.quota.accounts()["sk-test"]
    assert account["used"] > 0 and account["balance"] == 1_000_000 - account["used"]
    assert client.get("/dashboard/billing/subscription", cast_to=object) == {
        **UNLIMITED_SUBSCRIPTION, "soft_limit_usd": 2, "hard_limit_usd": 2, "system_hard_limit_usd": 2,
    }
    assert client.get("/dashboard/billing/usage", cast_to=object)["total_usage"] == pytest.approx(account["used"] / 500_000 * 100)
    assert client.get("/credits", cast_to=object)["data"]["total_usage"] == pytest.approx(account["balance"] / 500_000)
    assert gptnb.quota.accounts()["sk-test"]["used"] == account["used"]  # reading the balance costs nothing


@CLIENT_MODULES
def test_another_key_without_quota_stays_unlimited(gptnb: Any, client_module: Any) -> None:
    gptnb.quota.set("sk-test", "$2")
    other = {"Authorization": "Bearer sk-other"}
    assert client_module.get(f"{BASE}/dashboard/billing/subscription", headers=other).json() == UNLIMITED_SUBSCRIPTION


@CLIENT_MODULES
def test_a_used_up_key_is_refused_as_it_authenticates(gptnb: Any, client_module: Any) -> None:
    # TokenAuth guards these routes too: new-api's ValidateUserToken refuses an exhausted token with 401.
    gptnb.quota.set("sk-test", 0)
    refused = client_module.get(f"{BASE}/dashboard/billing/subscription", headers=AUTH)
    assert refused.status_code == 401 and "该令牌额度已用尽" in refused.json()["error"]["message"]


def test_amounts_are_dollars_of_500000_points() -> None:
    # What controller/billing.go computes for a token with quota, in the default USD display.
    token = Account(balance=7_500_000, used=2_500_000)
    assert subscription(token) == {**UNLIMITED_SUBSCRIPTION, "soft_limit_usd": 20, "hard_limit_usd": 20, "system_hard_limit_usd": 20}
    assert usage(Account(balance=0, used=625_000)) == {"object": "list", "total_usage": 125}
    # controller/billing_test.go: a token with 2 x QuotaPerUnit left has data.total_usage 2.0.
    assert credits(Account(balance=1_000_000)) == {"data": {"total_usage": 2.0}}
