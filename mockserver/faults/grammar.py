"""The words that ask for faults and physics, in a scenario header and in rule JSON.

Header: ``X-Mock-Scenario: drop_after=3; ttft=800`` (items ``key=value`` or bare flags such as
``no_done``). Rule JSON: the same names as fields, numbers as numbers, flags as ``true``, pairs as the
header's ``"N:MS"`` string. Every complaint starts with the key and the value it got, so a 400 says
exactly which instruction was not understood.
"""

from __future__ import annotations

from typing import Any

from ..config import MAX_DELAY_MS
from .callback_faults import CALLBACK_KEYS, CallbackFault, callback_fault
from .plan import FaultPlan
from .physics import PROFILE_KEYS, Physics

MAX_MS = MAX_DELAY_MS
"""The longest wait any fault or physics may ask for: the cap every steered delay has."""
MAX_EVENTS = 1_000_000
MAX_TPS = 10_000.0
CLOSE_CODES = range(1000, 5000)
RESERVED_CLOSE_CODES = {1004, 1005, 1006, 1015}  # never sent in a close frame (RFC 6455 §7.4.1)

FLAGS = ("no_done", "duplicate_done", "missing_usage", "reset", "empty", "garbage")
COUNTS = ("drop_after", "malformed_at", "id_change_at", "truncate")
PAIRS = {"stall_at": "N:MS (event index, milliseconds)", "close_after": "N:CODE (server events, WebSocket close code)"}
FAULT_KEYS = (*COUNTS, *PAIRS, *FLAGS, "slow_headers")
KEYS = (*FAULT_KEYS, *PROFILE_KEYS, *CALLBACK_KEYS)
CONNECTION_ENDERS = ("reset", "empty", "garbage")


class FaultSpecError(ValueError):
    """A fault or physics instruction that cannot be understood; the message names the key."""


def _shown(key: str, raw: Any) -> str:
    return key if raw is None else f"{key}={raw}"


def integer(key: str, raw: Any, low: int, high: int, unit: str, what: str | None = None) -> int:
    """A whole number from a header value or a JSON number; ``what`` names it when ``unit`` is not enough."""
    needs = f"{_shown(key, raw)}: needs {what or f'a whole number of {unit}'}"
    if isinstance(raw, bool) or raw is None:
        raise FaultSpecError(needs)
    if isinstance(raw, str):
        text = raw.strip()
        if not text.lstrip("-").isdigit():
            raise FaultSpecError(needs)
        raw = int(text)
    if not isinstance(raw, int):
        raise FaultSpecError(needs)
    if not low <= raw <= high:
        raise FaultSpecError(f"{key}={raw}: must be {what or unit} between {low} and {high}")
    return raw


def number(key: str, raw: Any, low: float, high: float, what: str) -> float:
    if isinstance(raw, bool) or raw is None:
        raise FaultSpecError(f"{_shown(key, raw)}: needs {what}")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise FaultSpecError(f"{key}={raw}: needs {what}") from None
    if not low <= value <= high:  # also refuses nan
        raise FaultSpecError(f"{key}={raw}: must be {what}")
    return value


def check_ms(key: str, raw: Any) -> int:
    return integer(key, raw, 0, MAX_MS, "milliseconds")


def check_tps(key: str, raw: Any) -> float:
    value = number(key, raw, 0, MAX_TPS, f"tokens per second, above 0 and at most {MAX_TPS:g}")
    if value <= 0:
        raise FaultSpecError(f"{key}={raw}: must be tokens per second, above 0 and at most {MAX_TPS:g}")
    return value


def _pair(key: str, raw: Any) -> tuple[int, int]:
    text = raw if isinstance(raw, str) else None
    first, sep, second = (text or "").partition(":")
    if not sep:
        raise FaultSpecError(f"{_shown(key, raw)}: expected {PAIRS[key]}, e.g. {key}=2:{'500' if key == 'stall_at' else '4000'}")
    try:
        index = integer(key, first, 0, MAX_EVENTS, "events")
        if key == "stall_at":
            return index, check_ms(key, second)
        code = integer(key, second, CLOSE_CODES.start, CLOSE_CODES.stop - 1, "", "a WebSocket close code")
    except FaultSpecError as exc:  # say it about the whole pair the client wrote
        raise FaultSpecError(f"{key}={raw}: {str(exc).split(': ', 1)[1]}") from None
    if code in RESERVED_CLOSE_CODES or 1016 <= code < 3000:
        raise FaultSpecError(f"{key}={raw}: {code} is not a close code a server may send; use 1000-1014 or 3000-4999")
    return index, code


def _flag(key: str, raw: Any) -> bool:
    if raw is None or raw is True:
        return True
    if raw is False:
        return False
    raise FaultSpecError(f"{key}={raw}: {key} takes no value (write just {key}, or true in rule JSON)")


def parse_items(items: dict[str, Any]) -> tuple[FaultPlan | None, Physics | None, CallbackFault | None]:
    """Take the fault, physics and callback keys out of ``items`` (header items or rule fields), judge
    them and the way they combine; what is left in ``items`` is for steering to read."""
    faults: dict[str, Any] = {}
    physics: dict[str, Any] = {}
    callbacks: dict[str, Any] = {}
    for key in [k for k in items if k in KEYS]:
        raw = items.pop(key)
        if key in FLAGS:
            faults[key] = _flag(key, raw)
        elif key in COUNTS:
            low = 1 if key == "id_change_at" else 0  # from event 0 on is a different id, not a change
            faults[key] = integer(key, raw, low, MAX_EVENTS, "events" if key != "truncate" else "bytes")
        elif key in PAIRS:
            faults[key] = _pair(key, raw)
        elif key == "slow_headers":
            faults[key] = check_ms(key, raw)
        elif key in PROFILE_KEYS:
            physics[PROFILE_KEYS[key]] = check_tps(key, raw) if key == "tps" else check_ms(key, raw)
        else:
            callbacks[key] = raw
    plan = FaultPlan(**faults)
    if plan:
        _check_combination(plan)
    return plan or None, Physics(**physics) if physics else None, callback_fault(callbacks) if callbacks else None


def physics_from_fields(data: dict[str, Any], where: str) -> Physics:
    """``{"ttft": 300, "tps": 50, "jitter": 20}`` (any subset) -> Physics; complaints name the field."""
    unknown = set(data) - PROFILE_KEYS.keys()
    if unknown:
        raise FaultSpecError(f"{where}: unknown physics fields {', '.join(sorted(unknown))}; use ttft, tps, jitter")
    try:
        _, physics, _ = parse_items(dict(data))
    except FaultSpecError as exc:
        raise FaultSpecError(f"{where}: {exc}") from None
    return physics or Physics()


def _check_combination(plan: FaultPlan) -> None:
    enders = [name for name in (*CONNECTION_ENDERS, "truncate") if plan.asks(name)]
    if len(enders) > 1:
        raise FaultSpecError(f"{' and '.join(enders)} each end the connection their own way; ask for one")
    if enders and plan.stream_faults:
        stream = next(name for name in FaultPlan.STREAM_ONLY if plan.asks(name))
        raise FaultSpecError(f"{enders[0]} and {stream}: {enders[0]} cuts the answer at the connection, so {stream} could never happen; ask for one")
    if plan.no_done and plan.duplicate_done:
        raise FaultSpecError("no_done and duplicate_done contradict each other; ask for one")
    if plan.drop_after is not None:
        if plan.duplicate_done or plan.no_done:
            other = "duplicate_done" if plan.duplicate_done else "no_done"
            raise FaultSpecError(f"drop_after={plan.drop_after} and {other}: drop_after already ends the stream before its terminator")
        for name in FaultPlan.EVENT_INDEXES:
            index = getattr(plan, name)
            if index is not None and index >= plan.drop_after:
                raise FaultSpecError(f"{name}={index}: past drop_after={plan.drop_after}, so it could never happen")
        if plan.stall_at is not None and plan.stall_at[0] >= plan.drop_after:
            raise FaultSpecError(f"stall_at={plan.stall_at[0]}:{plan.stall_at[1]}: past drop_after={plan.drop_after}, so it could never happen")
    if plan.close_after is not None and plan.drop_after is not None:
        raise FaultSpecError("close_after and drop_after both end the WebSocket session; ask for one")
