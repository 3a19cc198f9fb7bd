"""What the relay charges for a Midjourney call: new-api's ``mj_*`` price names, one per action
(relay/relay-mj.go names the price after the action; the prices are defaultModelPrice's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...quota.prices import priced_as
from . import models

if TYPE_CHECKING:
    from ...pipeline import Call

_SUBMITS = {
    "midjourney.submit.imagine": "mj_imagine",
    "midjourney.submit.blend": "mj_blend",
    "midjourney.submit.describe": "mj_describe",
    "midjourney.submit.shorten": "mj_shorten",
    "midjourney.insight_face.swap": "swap_face",
    "midjourney.submit.modal": "mj_modal",
}
_ACTIONS = {
    "UPSCALE": "mj_upscale", "VARIATION": "mj_variation", "REROLL": "mj_reroll", "LOW_VARIATION": "mj_low_variation",
    "HIGH_VARIATION": "mj_high_variation", "PAN": "mj_pan", "ZOOM": "mj_zoom", "CUSTOM_ZOOM": "mj_custom_zoom", "INPAINT": "mj_inpaint",
}
_LETTERS = {"U": "UPSCALE", "V": "VARIATION", "R": "REROLL"}


@priced_as(*_SUBMITS, "midjourney.submit.change", "midjourney.submit.simple_change", "midjourney.submit.action")
def price_name(call: Call) -> str | None:
    contract = call.contract.id
    if contract in _SUBMITS:
        return _SUBMITS[contract]
    body = call.body if isinstance(call.body, dict) else {}
    if contract == "midjourney.submit.change":
        return _ACTIONS.get(str(body.get("action")), "mj_variation")
    if contract == "midjourney.submit.simple_change":
        content = str(body.get("content") or "").strip()
        letter = next((c.upper() for c in reversed(content) if c.upper() in _LETTERS), "V")
        return _ACTIONS[_LETTERS[letter]]
    try:
        return _ACTIONS[models.action_of(str(body.get("customId") or "")).action]
    except models.UnknownAction:
        return "mj_variation"  # refused by the handler anyway; a failed answer costs nothing
