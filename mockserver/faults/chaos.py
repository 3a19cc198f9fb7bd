"""Probabilistic chaos that repeats: the same seed and the same order of requests in a namespace give
the same faults, with any number of workers and replicas.

``Chaos`` is a probability and a mix of scenarios (``reset``, ``drop_after=2``, ``code=503`` …); the
``Dice`` decide, request by request, whether one strikes and which. Each request that meets chance
takes a generator of its own, numbered in its namespace by the store, so one request's outcome never
shifts the next's.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from ..state import NamespaceState

T = TypeVar("T")
DRAWS = "dice"
"""The namespace's counter of draws (dropped with it: a reset mock repeats what it did)."""

DEFAULT_MIX = ("reset", "empty", "garbage", "truncate=16", "slow_headers=2000", "drop_after=2", "malformed_at=1", "no_done", "code=500", "code=503", "code=429")
"""What a relay in trouble does most: connections that die, streams cut short, the usual 5xx and 429."""


@dataclass(frozen=True)
class Chaos:
    probability: float
    """Share of requests that get a fault, 0..1."""
    mix: tuple[str, ...] = DEFAULT_MIX
    """Scenario items to choose from (each in the X-Mock-Scenario grammar)."""


class Dice:
    """Seeded draws, numbered per namespace in the store: the n-th request of a namespace that needs
    chance (chaos, jitter, garbage bytes) gets the n-th generator, whichever worker or replica answers."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    async def draw(self, space: NamespaceState) -> random.Random:
        number = await space.store.count(space.namespace, DRAWS)
        return random.Random(f"{self.seed}:{number}")


def strike(rng: random.Random, probability: float, candidates: Sequence[T]) -> T | None:
    """A candidate with chance ``probability`` (None otherwise, or when nothing can apply)."""
    hit = rng.random() < probability
    pick = rng.random()
    return candidates[int(pick * len(candidates))] if hit and candidates else None
