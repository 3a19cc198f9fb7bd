"""A key's balance as chat web UIs ask for it: OpenAI's legacy dashboard billing routes and ``/v1/credits``.

new-api answers them from the token's quota points (QuantumNous/new-api controller/billing.go), shown in
the site's display currency, dollars by default: points / ``QuotaPerUnit``. The subscription's limits
are everything the token was given (left + used), the usage what it has used in cents, the credits what
is left; an unlimited token's limits and credits read 100000000.

The answers read the key's account in the quota ledger (``--quota``, ``gptnb.quota``, ``/__mock/quota``);
a key without a quota is what new-api calls an unlimited token. The mock's keys never expire, so
``access_until`` is always 0, as the relay answers a token without an expiry time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...quota.ledger import Account
from ...quota.prices import QUOTA_PER_UNIT
from ...replies import JsonReply, Reply
from .. import handles

if TYPE_CHECKING:
    from ...pipeline import Call

UNLIMITED_AMOUNT = 100_000_000
"""What GetSubscription and GetCredits answer for a token with UnlimitedQuota."""


def dollars(points: int) -> float:
    return points / QUOTA_PER_UNIT


def subscription(account: Account) -> dict[str, Any]:
    """GetSubscription: every limit is what the token was given, left plus used."""
    amount = UNLIMITED_AMOUNT if account.balance is None else dollars(account.balance + account.used)
    return {
        "object": "billing_subscription",
        "has_payment_method": True,
        "soft_limit_usd": amount,
        "hard_limit_usd": amount,
        "system_hard_limit_usd": amount,
        "access_until": 0,
    }


def usage(account: Account) -> dict[str, Any]:
    """GetUsage: what the token used, in cents, whatever dates were asked for."""
    return {"object": "list", "total_usage": dollars(account.used) * 100}


def credits(account: Account) -> dict[str, Any]:
    """GetCredits: what is left, under the name total_usage."""
    return {"data": {"total_usage": UNLIMITED_AMOUNT if account.balance is None else dollars(account.balance)}}


async def account_of(call: Call) -> Account:
    """The key's account; a key the ledger does not know has no quota and has been charged nothing."""
    accounts = await call.state.store.accounts(call.state.namespace)
    return accounts.get(call.api_key or "", Account(balance=None))


@handles("openai.billing.subscription")
async def get_subscription(call: Call) -> Reply:
    return JsonReply(subscription(await account_of(call)))


@handles("openai.billing.usage")
async def get_usage(call: Call) -> Reply:
    return JsonReply(usage(await account_of(call)))


@handles("openai.billing.credits")
async def get_credits(call: Call) -> Reply:
    return JsonReply(credits(await account_of(call)))
