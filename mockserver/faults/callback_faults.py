"""Faults of the callbacks a task sends: delivery attempts that fail, or come late.

Steered on the request that creates the task (``X-Mock-Scenario: callback_fail=503:2``): its
deliveries then fail as asked before the dispatcher's own retry schedule takes over, and every
attempt (failed on purpose or not) is in the journal with the time it was made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CALLBACK_KEYS = ("callback_fail", "callback_delay")
REFUSED = "refused"
TIMEOUT = "timeout"


@dataclass(frozen=True)
class CallbackFault:
    fail: str | None = None
    """How an attempt fails: ``refused`` (no connection), ``timeout`` (no answer in time) or an HTTP status."""
    attempts: int | None = None
    """How many attempts of each delivery fail (None: every one, so the delivery is given up)."""
    delay_ms: int = 0
    """Wait this long before the first attempt of each delivery."""

    def status(self) -> int | None:
        return int(self.fail) if self.fail is not None and self.fail.isdigit() else None

    def fails(self, attempt: int) -> bool:
        """Whether attempt ``attempt`` (0-based) of a delivery fails on purpose."""
        return self.fail is not None and (self.attempts is None or attempt < self.attempts)

    def describe(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.as_fields().items())

    def as_fields(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.fail is not None:
            found["callback_fail"] = self.fail + (f":{self.attempts}" if self.attempts is not None else "")
        if self.delay_ms:
            found["callback_delay"] = self.delay_ms
        return found


def callback_fault(items: dict[str, Any]) -> CallbackFault:
    """``callback_fail=KIND[:N]`` (KIND: refused, timeout or a status 400-599) and ``callback_delay=MS``."""
    from .grammar import FaultSpecError, check_ms, integer

    fail, attempts, delay = None, None, 0
    if "callback_delay" in items:
        delay = check_ms("callback_delay", items["callback_delay"])
    if "callback_fail" in items:
        raw = items["callback_fail"]
        kind, sep, count = str(raw).partition(":") if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ("", "", "")
        kind = kind.strip().lower()
        if kind not in (REFUSED, TIMEOUT) and not (kind.isdigit() and 400 <= int(kind) <= 599):
            raise FaultSpecError(
                f"callback_fail={raw}: expected refused, timeout or an HTTP error status (400-599), "
                "optionally :N failing attempts (callback_fail=503:2)"
            )
        if sep:
            attempts = integer("callback_fail", count, 1, 100, "attempts")
        fail = kind
    return CallbackFault(fail, attempts, delay)
