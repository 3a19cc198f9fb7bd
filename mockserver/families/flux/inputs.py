"""What each of BFL's input models accepts beyond the union the contract states.

One contract serves every /flux/v1/{model}; BFL validates each model's body with its own pydantic
model (BFL's OpenAPI, https://api.bfl.ai/openapi.json): FLUX.1 [pro]/[dev]/1.1 take width/height
256-1440 in steps of 32 and default the prompt to "", FLUX.2 takes any size from 64 and null sizes but
requires a prompt, guidance and safety ranges differ. A breach is FastAPI's 422 detail items.
"""

from __future__ import annotations

from typing import Any

FLUX2 = "flux-2-"  # a trailing "-" names every model of the family
SIZED_FLUX1 = ("flux-pro", "flux-dev", "flux-pro-1.1")
PROMPT_REQUIRED = ("flux-kontext-", FLUX2)
# Options a model's input takes as null; elsewhere null is not an integer / a boolean.
NULLABLE_ONLY_ON = {
    "width": ((FLUX2,), "Input should be a valid integer", "int_type"),
    "height": ((FLUX2,), "Input should be a valid integer", "int_type"),
    "prompt_upsampling": (("flux-2-flex", "flux-pro-1.0-fill", "flux-pro-1.0-expand"), "Input should be a valid boolean", "bool_type"),
}
# (field, models, minimum, maximum, multiple of)
RANGES: tuple[tuple[str, tuple[str, ...], float, float, int | None], ...] = (
    ("width", SIZED_FLUX1, 256, 1440, 32),
    ("height", SIZED_FLUX1, 256, 1440, 32),
    ("guidance", ("flux-pro", "flux-dev"), 1.5, 5, None),
    ("guidance", ("flux-2-flex",), 1.5, 10, None),
    ("guidance", ("flux-pro-1.0-fill", "flux-pro-1.0-expand"), 1.5, 100, None),
    ("steps", ("flux-pro-1.0-fill", "flux-pro-1.0-expand"), 15, 50, None),
    ("safety_tolerance", (FLUX2,), 0, 5, None),
)


def applies(model: str, names: tuple[str, ...]) -> bool:
    return any(model.startswith(name) if name.endswith("-") else model == name for name in names)


def _item(field: str, msg: str, kind: str) -> dict[str, Any]:
    return {"loc": ["body", field], "msg": msg, "type": kind}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def problems(body: dict[str, Any], model: str) -> list[dict[str, Any]]:
    """BFL's 422 detail items for what ``model``'s input refuses in ``body`` (empty when it takes it)."""
    found = []
    if applies(model, PROMPT_REQUIRED) and body.get("prompt") is None:
        found.append(_item("prompt", "Field required", "missing"))
    for field, (models, msg, kind) in NULLABLE_ONLY_ON.items():
        if field in body and body[field] is None and not applies(model, models):
            found.append(_item(field, msg, kind))
    for field, models, low, high, step in RANGES:
        value = body.get(field)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not applies(model, models):
            continue
        if value < low:
            found.append(_item(field, f"Input should be greater than or equal to {_number(low)}", "greater_than_equal"))
        elif value > high:
            found.append(_item(field, f"Input should be less than or equal to {_number(high)}", "less_than_equal"))
        elif step and value % step:
            found.append(_item(field, f"Input should be a multiple of {step}", "multiple_of"))
    return found
