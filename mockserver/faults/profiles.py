"""Physics per model: a profile file maps model name globs to ``ttft`` / ``tps`` / ``jitter``.

``builtin`` is the profile shipped beside this module (``model_physics.json``), with figures of the
order public latency dashboards show for each model family; any JSON file of the same shape replaces it.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

from .grammar import FaultSpecError, physics_from_fields
from .physics import Physics

BUILTIN = "builtin"
BUILTIN_FILE = Path(__file__).with_name("model_physics.json")


class ModelPhysics:
    """Model globs mapped to physics; an exact name wins, then the first matching glob in file order."""

    def __init__(self, entries: dict[str, Physics], source: str) -> None:
        self.entries = entries
        self.source = source

    def for_model(self, model: str | None) -> Physics | None:
        if model is None:
            return None
        found = self.entries.get(model)
        if found is not None:
            return found
        return next((physics for glob, physics in self.entries.items() if fnmatch.fnmatchcase(model, glob)), None)

    @classmethod
    def load(cls, source: str) -> ModelPhysics:
        """``builtin`` or a JSON file ``{"model glob": {"ttft": ms, "tps": n, "jitter": ms}}``."""
        path = BUILTIN_FILE if source == BUILTIN else Path(source)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FaultSpecError(f"model physics {source}: {exc}") from None
        if not isinstance(document, dict):
            raise FaultSpecError(f"model physics {source}: expected a JSON object of model globs")
        entries = {}
        for glob, data in document.items():
            if glob.startswith("$"):  # "$comment"
                continue
            if not isinstance(data, dict):
                raise FaultSpecError(f'model physics {source}: {glob!r} must map to {{"ttft": ms, "tps": n, "jitter": ms}}')
            entries[glob] = physics_from_fields(data, f"model physics {source}, {glob!r}")
        return cls(entries, source)
