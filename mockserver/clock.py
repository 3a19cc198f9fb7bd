"""The mock's sense of time.

``real``: wall time, optionally sped up. ``manual``: stands still until told to move (admin API,
fixture). ``step``: wall time for timestamps, but tasks move one step per poll (see tasks.py).
"""

from __future__ import annotations

import threading
import time

REAL = "real"
MANUAL = "manual"
STEP = "step"
MODES = (REAL, MANUAL, STEP)


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
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            if self.mode == MANUAL:
                self._manual += seconds
            else:
                self._offset += seconds
        return self.now()

    def set(self, timestamp: float) -> float:
        with self._lock:
            current = self.now()
            if timestamp < current:
                raise ValueError("the clock only moves forward")
            return self.advance(timestamp - current)

    def as_dict(self) -> dict[str, object]:
        return {"mode": self.mode, "speed": self.speed, "now": self.now()}
