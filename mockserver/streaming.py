"""Does this request want a stream, and a rule's stream profile (how fast a stream arrives is
physics: faults/physics.py paces every stream, whatever asked for it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .faults.physics import Physics

if TYPE_CHECKING:
    from .contracts import Contract
    from .pipeline import Call


@dataclass(frozen=True)
class StreamProfile:
    """How a stream arrives: the wait before its first event, then events per second, give or take.

    The names and units are aimock's ``streamingProfile``, so its fixtures carry over unchanged.
    """

    ttft: float = 0.0
    """Milliseconds before the first event."""
    tps: float | None = None
    """Events (tokens) per second after the first; None sends them as fast as they come."""
    jitter: float = 0.0
    """Each wait varies by up to this fraction either way (0.1: ±10%)."""

    @classmethod
    def from_json(cls, data: Any, where: str = "stream") -> StreamProfile:
        if not isinstance(data, dict) or not data:
            raise ValueError(f"{where}: expected an object with ttft (ms), tps and jitter (0..1)")
        unknown = set(data) - {"ttft", "tps", "jitter"}
        if unknown:
            raise ValueError(f"{where}: unknown fields {', '.join(sorted(unknown))}; allowed: ttft, tps, jitter")
        for name in ("ttft", "tps", "jitter"):
            value = data.get(name)
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
                raise ValueError(f"{where}.{name}: expected a non-negative number")
        if data.get("tps") == 0:
            raise ValueError(f"{where}.tps: expected more than 0 events per second")
        if (data.get("jitter") or 0) > 1:
            raise ValueError(f"{where}.jitter: expected a fraction between 0 and 1")
        return cls(float(data.get("ttft") or 0), float(data["tps"]) if data.get("tps") is not None else None, float(data.get("jitter") or 0))

    def as_json(self) -> dict[str, float]:
        return {"ttft": self.ttft, **({"tps": self.tps} if self.tps is not None else {}), "jitter": self.jitter}

    def physics(self) -> Physics:
        """The profile as the physics that pace the stream (its jitter a share of each wait)."""
        return Physics(ttft_ms=self.ttft or None, tps=self.tps, jitter_share=self.jitter or None)


def wants_stream(call: Call) -> bool:
    """True when the request satisfies the contract's ``behavior.streams_when`` schema."""
    contract = call.contract
    try:
        streams_when = _streams_when[contract]
    except KeyError:
        # A contract belongs to one registry, so its compiled check can be kept with it.
        behavior = contract.behavior
        streams_when = _streams_when[contract] = (
            call.state.registry.check(contract.pointer("behavior", "streams_when")).is_valid if "streams_when" in behavior else None
        )
    return streams_when is not None and streams_when(call.body)


_streams_when: dict[Contract, Callable[[Any], bool] | None] = {}

