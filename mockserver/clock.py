"""The mock's sense of time.

``real``: wall time, optionally sped up. ``manual``: stands still until told to move (admin API,
fixture). ``step``: wall time for timestamps, but tasks move one step per poll (see tasks.py).

A clock is a handful of numbers (``fields()``), so a store can keep one per namespace and every
worker reading those numbers sees the same time.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

REAL = "real"
MANUAL = "manual"
STEP = "step"
MODES = (REAL, MANUAL, STEP)
FIELDS = ("mode", "speed", "origin", "origin_wall", "offset", "manual")
LATEST = 253_402_300_799.0
"""The clock never passes 9999-12-31T23:59:59Z: every date format and integer timestamp still works there."""


class Clock:
    def __init__(self, mode: str = REAL, speed: float = 1.0, start: float | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"clock mode must be one of {', '.join(MODES)}, not {mode!r}")
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.mode = mode
        self.speed = speed
        self._lock = threading.RLock()
        self.origin_wall = time.time()
        self.origin = self.origin_wall if start is None else start
        self.manual = self.origin
        self.offset = 0.0

    def now(self) -> float:
        """Seconds since the epoch, as the mock sees it."""
        if self.mode == MANUAL:
            return self.manual
        return self.origin + (time.time() - self.origin_wall) * self.speed + self.offset

    def wall_time_of(self, moment: float) -> float | None:
        """When, in wall time, this clock shows ``moment``; None when only a person moves it."""
        if self.mode == MANUAL:
            return None
        return self.origin_wall + (moment - self.origin - self.offset) / self.speed

    def advance(self, seconds: float) -> float:
        self.check_advance(seconds)
        with self._lock:
            if self.mode == MANUAL:
                self.manual += seconds
            else:
                self.offset += seconds
        return self.now()

    def check_advance(self, seconds: float) -> None:
        """Refuse a move backwards, by a non-number, or past the latest date."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("advance by a finite, non-negative number of seconds (the clock only moves forward)")
        if self.now() + seconds > LATEST:
            raise ValueError(f"the clock cannot pass {LATEST:.0f} (9999-12-31); advance by at most {max(LATEST - self.now(), 0):.0f} s")

    def set(self, timestamp: float) -> float:
        with self._lock:
            return self.advance(self.until(timestamp))

    def until(self, timestamp: float) -> float:
        """Seconds from now to ``timestamp``, which must be a finite time not in the past."""
        if not math.isfinite(timestamp) or timestamp > LATEST:
            raise ValueError(f"set the clock to a finite epoch time up to {LATEST:.0f} (9999-12-31)")
        distance = timestamp - self.now()
        if distance < 0:
            raise ValueError("the clock only moves forward")
        return distance

    def fields(self) -> dict[str, Any]:
        """What a store keeps of this clock."""
        return {name: getattr(self, name) for name in FIELDS}

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Clock:
        clock = cls(str(fields["mode"]), float(fields["speed"]))
        clock.origin, clock.origin_wall = float(fields["origin"]), float(fields["origin_wall"])
        clock.offset, clock.manual = float(fields["offset"]), float(fields["manual"])
        return clock

    def as_dict(self) -> dict[str, object]:
        return {"mode": self.mode, "speed": self.speed, "now": self.now()}
