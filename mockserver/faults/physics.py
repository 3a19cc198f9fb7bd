"""Stream physics: how fast a streamed answer arrives (time to first token, tokens per second, jitter).

``Physics`` is a small value a rule, a model profile, the serve-wide settings or a declarative reply
can carry; the most specific one that sets a field wins (``over``). Each streamed event counts as one
token, which is what a delta event carries. ``Pacer`` turns physics into due times on an absolute
schedule, so the time spent producing and sending an event does not slow the stream down.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, fields, replace
from typing import Any

PROFILE_KEYS = {"ttft": "ttft_ms", "tps": "tps", "jitter": "jitter_ms"}


@dataclass(frozen=True)
class Physics:
    ttft_ms: float | None = None
    """Milliseconds from the response head to the first event."""
    tps: float | None = None
    """Events (tokens) per second after the first."""
    jitter_ms: int | None = None
    """Each gap between events moves by up to this many milliseconds either way (seeded)."""
    jitter_share: float | None = None
    """Each wait moves by up to this share of itself either way (seeded): a rule's ``stream`` profile,
    whose ``jitter`` aimock writes as a fraction."""

    def over(self, base: Physics | None) -> Physics:
        """These physics, with what they leave unset taken from ``base``."""
        if base is None:
            return self
        return replace(base, **{f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None})

    def __bool__(self) -> bool:
        return bool(self.ttft_ms or self.tps or self.jitter_ms)

    def as_fields(self) -> dict[str, Any]:
        return {key: getattr(self, name) for key, name in PROFILE_KEYS.items() if getattr(self, name) is not None}


class Pacer:
    """Due times of a stream's events under ``physics``, counted from when the pacer starts."""

    def __init__(self, physics: Physics, rng: random.Random) -> None:
        self.first = (physics.ttft_ms or 0) / 1000
        self.gap = 1 / physics.tps if physics.tps else 0.0
        self.jitter = (physics.jitter_ms or 0) / 1000
        self.share = physics.jitter_share or 0.0
        self.rng = rng
        self.start: float | None = None
        self.due = 0.0

    def step(self, index: int) -> float:
        """Seconds from when event ``index - 1`` was due to when event ``index`` is (from the start for
        the first)."""
        step = self.first if index == 0 else self.gap + (self.rng.uniform(-self.jitter, self.jitter) if self.jitter else 0.0)
        if self.share and step:
            step *= 1 + self.rng.uniform(-self.share, self.share)
        return max(step, 0.0)

    async def wait(self, index: int, extra_ms: int = 0) -> None:
        """Sleep until event ``index`` is due; ``extra_ms`` (a stall) pushes it and every later event back."""
        loop = asyncio.get_running_loop()
        if self.start is None:
            self.start = loop.time()
        self.due = (0.0 if index == 0 else self.due) + self.step(index) + extra_ms / 1000
        delay = self.start + self.due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif index % 64 == 63:
            await asyncio.sleep(0)  # a stream that has fallen behind still lets other streams run
