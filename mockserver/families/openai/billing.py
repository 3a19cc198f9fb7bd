"""A key's balance as chat web UIs ask for it: OpenAI's legacy dashboard billing routes and ``/v1/credits``.

new-api answers them from the token's quota points (QuantumNous/new-api controller/billing.go), shown in
the site's display currency, dollars by default: points / ``QuotaPerUnit``. The subscription's limits
are everything the token was given (left + used), the usage what it has used in cents, the credits what
is left; an unlimited token's limits and credits read 100000000.

The mock keeps no quota, so every key is what new-api calls an unlimited token that never expires and
has used nothing, and the routes answer as the relay answers such a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...replies import JsonReply, Reply
from .. import handles

if TYPE_CHECKING:
    from ...pipeline import Call

QUOTA_PER_UNIT = 500_000
"""Quota points to one dollar (common.QuotaPerUnit)."""
UNLIMITED_AMOUNT = 100_000_000
"""What GetSubscription and GetCredits answer for a token with UnlimitedQuota."""


@dataclass(frozen=True)
class Account:
    """A token's quota as new-api keeps it, in points."""

    remaining: int | None
    """Points left; None for an unlimited token."""
    used: int = 0
    expires_at: int = 0
    """Unix seconds the token expires at; 0 when it never does (new-api's -1 is answered as 0)."""


UNLIMITED = Account(remaining=None)


def dollars(points: int) -> float:
    return points / QUOTA_PER_UNIT


def subscription(account: Account) -> dict[str, Any]:
    """GetSubscription: every limit is what the token was given, left plus used."""
    amount = UNLIMITED_AMOUNT if account.remaining is None else dollars(account.remaining + account.used)
    return {
        "object": "billing_subscription",
        "has_payment_method": True,
        "soft_limit_usd": amount,
        "hard_limit_usd": amount,
        "system_hard_limit_usd": amount,
        "access_until": max(account.expires_at, 0),
    }


def usage(account: Account) -> dict[str, Any]:
    """GetUsage: what the token used, in cents, whatever dates were asked for."""
    return {"object": "list", "total_usage": dollars(account.used) * 100}


def credits(account: Account) -> dict[str, Any]:
    """GetCredits: what is left, under the name total_usage."""
    return {"data": {"total_usage": UNLIMITED_AMOUNT if account.remaining is None else dollars(account.remaining)}}


@handles("openai.billing.subscription", stateless=True)
def get_subscription(call: Call) -> Reply:
    return JsonReply(subscription(UNLIMITED))


@handles("openai.billing.usage", stateless=True)
def get_usage(call: Call) -> Reply:
    return JsonReply(usage(UNLIMITED))


@handles("openai.billing.credits", stateless=True)
def get_credits(call: Call) -> Reply:
    return JsonReply(credits(UNLIMITED))
