"""What the store answers about quota: a key's account and a rate window after a count.

The state itself (balances, what each key used, rate windows, in-flight counts) lives in the store,
per namespace, so workers and replicas over one Redis count together (``store/base.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """A rate window after a count: ``used`` of its limit, and seconds until the oldest entry leaves."""

    used: int
    frees_in: float
    """Seconds until the oldest entry in the window expires (0 when the window is empty)."""
    allowed: bool = True


@dataclass
class Account:
    balance: int | None
    """Quota left (None: unlimited, no quota was set for the key)."""
    used: int = 0
    requests: int = 0

    def as_dict(self) -> dict[str, int | None]:
        return {"balance": self.balance, "used": self.used, "requests": self.requests}
