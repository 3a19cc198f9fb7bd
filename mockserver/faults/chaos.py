"""Probabilistic chaos that repeats: the same seed and the same order of requests give the same faults.

``Chaos`` is a probability and a mix of scenarios (``reset``, ``drop_after=2``, ``code=503`` …); the
``Dice`` decide, request by request, whether one strikes and which. Every request that meets chaos
draws the same number of times whatever happens, so one request's outcome never shifts the next's.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

DEFAULT_MIX = ("reset", "empty", "garbage", "truncate=16", "slow_headers=2000", "drop_after=2", "malformed_at=1", "no_done", "code=500", "code=503", "code=429")
"""What a relay in trouble does most: connections that die, streams cut short, the usual 5xx and 429."""


@dataclass(frozen=True)
class Chaos:
    probability: float
    """Share of requests that get a fault, 0..1."""
    mix: tuple[str, ...] = DEFAULT_MIX
    """Scenario items to choose from (each in the X-Mock-Scenario grammar)."""


class Dice:
    """One seeded generator for a mock instance, drawn from in request order (threads take turns)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def strike(self, probability: float, candidates: Sequence[T]) -> T | None:
        """A candidate with chance ``probability`` (None otherwise, or when nothing can apply)."""
        with self._lock:
            hit = self._random.random() < probability
            pick = self._random.random()
        return candidates[int(pick * len(candidates))] if hit and candidates else None

    def generator(self) -> random.Random:
        """A generator of its own for one request's jitter and garbage, seeded in request order."""
        with self._lock:
            return random.Random(self._random.getrandbits(64))

    def restart(self) -> None:
        with self._lock:
            self._random = random.Random(self.seed)
