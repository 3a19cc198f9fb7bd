"""Embedding vectors every format hands out: deterministic unit vectors, one per text and model."""

from __future__ import annotations

import math
import random

from .ids import derived_int


def unit_vector(text: str, model: str, dimensions: int, seed: int) -> list[float]:
    """A vector of length 1 in ``dimensions`` dimensions, the same for the same text, model and seed."""
    rng = random.Random(derived_int(model, text, seed))
    vector = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    return normalised(vector)


def normalised(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]
