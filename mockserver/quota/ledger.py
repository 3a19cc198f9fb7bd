"""The state quota keeps: balances, what each key used, rate windows and in-flight counts.

Every change is one method, atomic on its own (a decrement, an append to a window, a gate taken),
never read-modify-write by callers, so the same interface can live in a shared store across workers.
Everything is per namespace. The in-memory ledger never awaits.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import defaultdict, deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_NAMESPACE = "default"


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


class QuotaLedger(ABC):
    @abstractmethod
    async def set_balance(self, namespace: str, key: str, amount: int) -> None: ...

    @abstractmethod
    async def balance(self, namespace: str, key: str) -> int | None:
        """Quota left for ``key``, or None when it has no quota (unlimited)."""

    @abstractmethod
    async def spend(self, namespace: str, key: str, amount: int) -> int | None:
        """Take ``amount`` from the key's balance (it may go below zero, as the relay's does after an
        answer costs more than was left) and count the request; the balance after."""

    @abstractmethod
    async def accounts(self, namespace: str) -> dict[str, Account]: ...

    @abstractmethod
    async def count(self, namespace: str, window: str, now: float, span: float, weight: int, limit: int | None) -> Window:
        """Add ``weight`` at ``now`` to a sliding window of ``span`` seconds, unless that would pass
        ``limit`` (then nothing is added and ``allowed`` is False). ``limit=None`` always adds."""

    @abstractmethod
    async def peek(self, namespace: str, window: str, now: float, span: float) -> Window: ...

    @abstractmethod
    async def enter(self, namespace: str, gate: str, limit: int) -> int | None:
        """Take a place in a gate of ``limit``; how many are in it now, or None when it is full."""

    @abstractmethod
    async def leave(self, namespace: str, gate: str) -> None: ...

    @abstractmethod
    async def in_flight(self, namespace: str) -> dict[str, int]: ...

    @abstractmethod
    async def clear(self, namespace: str) -> None:
        """Forget balances, windows and gates of the namespace."""


@dataclass
class _Space:
    accounts: dict[str, Account] = field(default_factory=dict)
    windows: dict[str, deque[tuple[float, int]]] = field(default_factory=lambda: defaultdict(deque))
    gates: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class MemoryLedger(QuotaLedger):
    def __init__(self) -> None:
        self._lock = threading.Lock()  # requests of sync clients arrive from the bridge's thread
        self._spaces: dict[str, _Space] = defaultdict(_Space)

    async def set_balance(self, namespace: str, key: str, amount: int) -> None:
        with self._lock:
            account = self._spaces[namespace].accounts.setdefault(key, Account(amount))
            account.balance = amount

    async def balance(self, namespace: str, key: str) -> int | None:
        account = self._spaces[namespace].accounts.get(key)
        return account.balance if account is not None else None

    async def spend(self, namespace: str, key: str, amount: int) -> int | None:
        with self._lock:
            account = self._spaces[namespace].accounts.setdefault(key, Account(None))
            account.used += amount
            account.requests += 1
            if account.balance is not None:
                account.balance -= amount
            return account.balance

    async def accounts(self, namespace: str) -> dict[str, Account]:
        with self._lock:
            return {key: Account(a.balance, a.used, a.requests) for key, a in self._spaces[namespace].accounts.items()}

    async def count(self, namespace: str, window: str, now: float, span: float, weight: int, limit: int | None) -> Window:
        with self._lock:
            entries = self._spaces[namespace].windows[window]
            used = _expire(entries, now, span)
            if limit is not None and used + weight > limit and used > 0:
                return Window(used, _frees_in(entries, now, span), allowed=False)
            entries.append((now, weight))
            return Window(used + weight, _frees_in(entries, now, span))

    async def peek(self, namespace: str, window: str, now: float, span: float) -> Window:
        with self._lock:
            entries = self._spaces[namespace].windows.get(window)
            if not entries:
                return Window(0, 0.0)
            return Window(_expire(entries, now, span), _frees_in(entries, now, span))

    async def enter(self, namespace: str, gate: str, limit: int) -> int | None:
        with self._lock:
            gates = self._spaces[namespace].gates
            if gates[gate] >= limit:
                return None
            gates[gate] += 1
            return gates[gate]

    async def leave(self, namespace: str, gate: str) -> None:
        with self._lock:
            gates = self._spaces[namespace].gates
            gates[gate] = max(gates[gate] - 1, 0)

    async def in_flight(self, namespace: str) -> dict[str, int]:
        with self._lock:
            return {gate: count for gate, count in self._spaces[namespace].gates.items() if count}

    async def clear(self, namespace: str) -> None:
        with self._lock:
            self._spaces.pop(namespace, None)


def _expire(entries: deque[tuple[float, int]], now: float, span: float) -> int:
    """Drop what left the window; what is left in it."""
    while entries and entries[0][0] <= now - span:
        entries.popleft()
    return sum(weight for _, weight in entries)


def _frees_in(entries: deque[tuple[float, int]], now: float, span: float) -> float:
    return max(entries[0][0] + span - now, 0.0) if entries else 0.0


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a MemoryLedger coroutine from plain code (the fixture, a reset): it never waits, so one step ends it."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("this ledger call waited for something; only the in-memory ledger can be used from sync code")
