"""The mock's sense of time.

``real``: wall time, optionally sped up. ``manual``: stands still until told to move (admin API,
fixture). ``step``: wall time for timestamps, but tasks move one step per poll (see tasks.py).
"""

from __future__ import annotations

import math
import threading
import time

REAL = "real"
MANUAL = "manual"
STEP = "step"
MODES = (REAL, MANUAL, STEP)
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
        self._origin_wall = time.time()
        self._origin = self._origin_wall if start is None else start
        self._manual = self._origin
        self._offset = 0.0

    def now(self) -> float:
        """Seconds since the epoch, as the mock sees it."""
        if self.mode == MANUAL:
            return self._manual
        return self._origin + (time.time() - self._origin_wall) * self.speed + self._offset

    def advance(self, seconds: float) -> float:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("advance by a finite, non-negative number of seconds (the clock only moves forward)")
        if self.now() + seconds > LATEST:
            raise ValueError(f"the clock cannot pass {LATEST:.0f} (9999-12-31); advance by at most {max(LATEST - self.now(), 0):.0f} s")
        with self._lock:
            if self.mode == MANUAL:
                self._manual += seconds
            else:
                self._offset += seconds
        return self.now()

    def set(self, timestamp: float) -> float:
        if not math.isfinite(timestamp) or timestamp > LATEST:
            raise ValueError(f"set the clock to a finite epoch time up to {LATEST:.0f} (9999-12-31)")
        with self._lock:
            current = self.now()
            if timestamp < current:
                raise ValueError("the clock only moves forward")
            return self.advance(timestamp - current)

    def restarted(self) -> Clock:
        """A clock of the same mode and speed starting from now (what reset gives back)."""
        return Clock(self.mode, self.speed)

    def as_dict(self) -> dict[str, object]:
        return {"mode": self.mode, "speed": self.speed, "now": self.now()}
