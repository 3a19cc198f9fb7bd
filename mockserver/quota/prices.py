"""What an answer costs, in new-api's quota points, the way the relay prices it.

new-api keeps quota in points, ``QuotaPerUnit`` = 500 000 of them to the dollar (QuantumNous/new-api
common/constants.go). A model is priced either per call (``defaultModelPrice``, dollars) or by tokens
(``defaultModelRatio``: ratio 1 is $0.002 per 1K tokens, so a prompt token costs ``ratio`` points
and a completion token ``ratio * completion ratio``), both from QuantumNous/new-api
setting/ratio_setting/model_ratio.go; a model with neither gets ratio 37.5 there. Families new-api
does not price (Kling, Luma, the image tools …) cost what a GPTNB deployment sets for them; the mock
charges ``FAMILY_PRICE`` so their tasks drain a quota too. Audio by the second is billed at whisper's
$0.006 a minute.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import text as texts
from ..usage import Usage

if TYPE_CHECKING:
    from ..pipeline import Call

QUOTA_PER_UNIT = 500_000
DEFAULT_RATIO = 37.5
AUDIO_SECOND_PRICE = 0.006 / 60

# Per-call prices in dollars (new-api defaultModelPrice).
MODEL_PRICE: dict[str, float] = {
    "suno_music": 0.1, "suno_lyrics": 0.01, "dall-e-3": 0.04, "imagen-3.0-generate-002": 0.03,
    "black-forest-labs/flux-1.1-pro": 0.04, "gpt-4-gizmo-*": 0.1, "mj_video": 0.8, "mj_imagine": 0.1,
    "mj_edits": 0.1, "mj_variation": 0.1, "mj_reroll": 0.1, "mj_blend": 0.1, "mj_modal": 0.1, "mj_zoom": 0.1,
    "mj_shorten": 0.1, "mj_high_variation": 0.1, "mj_low_variation": 0.1, "mj_pan": 0.1, "mj_inpaint": 0,
    "mj_custom_zoom": 0, "mj_describe": 0.05, "mj_upscale": 0.05, "swap_face": 0.05, "mj_upload": 0.05,
    "sora-2": 0.3, "sora-2-pro": 0.5, "gpt-4o-mini-tts": 0.3, "veo-3.0-generate-001": 0.4,
    "veo-3.0-fast-generate-001": 0.15, "veo-3.1-generate-preview": 0.4, "veo-3.1-fast-generate-preview": 0.15,
}

# Token ratios (new-api defaultModelRatio), the models GPTNB's docs use; exact names before globs.
MODEL_RATIO: dict[str, float] = {
    "gpt-4o-mini*": 0.075, "gpt-4o-realtime*": 2.5, "gpt-4o-mini-realtime*": 0.3, "gpt-4o-audio*": 1.25,
    "gpt-4o": 1.25, "gpt-4o-2024-05-13": 2.5, "gpt-4o-*": 1.25, "chatgpt-4o-latest": 2.5,
    "gpt-4.1-nano*": 0.05, "gpt-4.1-mini*": 0.2, "gpt-4.1*": 1.0, "gpt-4-turbo*": 5, "gpt-4-all": 15,
    "gpt-4-gizmo-*": 15, "gpt-4o-gizmo-*": 2.5, "gpt-4-32k*": 30, "gpt-4*": 15, "gpt-image-1": 2.5,
    "gpt-5-nano*": 0.025, "gpt-5-mini*": 0.125, "gpt-5*": 0.625, "gpt-3.5-turbo": 0.25, "gpt-3.5-turbo-0125": 0.25,
    "gpt-3.5-turbo-1106": 0.5, "gpt-3.5-turbo-instruct": 0.75, "gpt-3.5*": 0.75, "o1-mini*": 0.55, "o1-pro*": 75,
    "o1*": 7.5, "o3-mini*": 0.55, "o3-pro*": 10, "o3*": 1.0, "o4-mini*": 0.55, "whisper-1": 15, "tts-1": 7.5,
    "tts-1-1106": 7.5, "tts-1-hd*": 15, "text-embedding-3-small": 0.01, "text-embedding-3-large": 0.065,
    "text-embedding-ada-002": 0.05, "text-moderation*": 0.1, "claude-3-haiku*": 0.125, "claude-3-5-haiku*": 0.5,
    "claude-haiku-4*": 0.5, "claude-3-opus*": 7.5, "claude-opus-4-2*": 7.5, "claude-opus-4-1*": 7.5, "claude-opus*": 2.5,
    "claude-*sonnet*": 1.5, "gemini-2.0-flash*": 0.05, "gemini-2.5-flash-lite*": 0.05, "gemini-2.5-flash*": 0.15,
    "gemini-2.5-pro*": 0.625, "gemini-1.5-pro*": 1.25, "gemini-1.5-flash*": 0.075, "deepseek-chat": 0.135,
    "deepseek-reasoner": 0.275,
}

FAMILY_PRICE: dict[str, float] = {"default": 0.1, "picwish": 0.02, "mewx": 0.05, "docmee": 0.1, "ideogram": 0.08, "sd": 0.08}
"""The mock's per-call dollars for families without a new-api default price (GPTNB sets its own)."""

PriceName = Callable[["Call"], str | None]
_price_names: dict[str, PriceName | str] = {
    "suno.submit.music": "suno_music", "suno.official.generate": "suno_music", "suno.submit.lyrics": "suno_lyrics",
}


def priced_as(*contract_ids: str) -> Callable[[PriceName], PriceName]:
    """A family names the price of its calls (Midjourney's action buttons, say) by registering here."""

    def register(function: PriceName) -> PriceName:
        for contract_id in contract_ids:
            _price_names[contract_id] = function
        return function

    return register


def format_quota(points: int) -> str:
    """As new-api's logger.FormatQuota shows it with the default (dollar) display: ``＄0.002000``."""
    return f"＄{points / QUOTA_PER_UNIT:.6f}"


def parse_amount(text: str) -> int:
    """Quota points (``500000``) or dollars (``$1.5``, ``＄1.5``)."""
    raw = text.strip()
    dollars = raw[:1] in ("$", "＄")
    try:
        value = float(raw[1:] if dollars else raw)
    except ValueError:
        raise ValueError(f"{text!r}: expected quota points (500000) or dollars ($1.50)") from None
    if not math.isfinite(value) or value < 0 or (not dollars and not value.is_integer()):
        raise ValueError(f"{text!r}: expected quota points (a whole number, 0 or more) or dollars ($1.50)")
    return round(value * QUOTA_PER_UNIT) if dollars else int(value)


def _lookup(table: dict[str, float], name: str) -> float | None:
    if name in table:
        return table[name]
    return next((value for glob, value in table.items() if fnmatch.fnmatchcase(name, glob)), None)


def completion_ratio(model: str) -> float:
    """new-api's hard-coded completion ratios (getHardcodedCompletionModelRatio), the common cases."""
    if model.endswith("-all") or "-gizmo-" in model:
        return 2
    if model.startswith("gpt-4o"):
        return 3 if model == "gpt-4o-2024-05-13" else 4
    if model.startswith("gpt-5"):
        return 8
    if model.startswith(("gpt-4-turbo", "gpt-4.5")) or model.endswith("1106"):
        return 3 if not model.startswith("gpt-4.5") else 2
    if model.startswith("gpt-4"):
        return 2
    if model.startswith(("o1", "o3")):
        return 4
    if model.startswith("gpt-3.5"):
        return 3 if model == "gpt-3.5-turbo" or model.endswith("0125") else 4 / 3
    if model.startswith("claude"):
        return 5
    if model.startswith("gemini-2.5-pro"):
        return 8
    if model.startswith("gemini-2.5-flash"):
        return 4 if "lite" in model else 2.5 / 0.3
    if model.startswith("gemini"):
        return 4
    return 1


@dataclass(frozen=True)
class Price:
    per_call: int | None = None
    """Quota points per call (per image for ``n`` images), or None for token pricing."""
    ratio: float = DEFAULT_RATIO
    completion: float = 1.0

    def of(self, usage: Usage | None, count: int = 1) -> int:
        """Points for an answer with this usage (``count``: images or results per-call prices multiply)."""
        if self.per_call is not None:
            return self.per_call * count
        if usage is None:
            return 0
        tokens = usage.input_tokens + usage.output_tokens * self.completion
        points = tokens * self.ratio + usage.seconds * AUDIO_SECOND_PRICE * QUOTA_PER_UNIT
        return max(math.ceil(points), 1) if self.ratio and (tokens or usage.seconds) else 0


def price_for(call: Call) -> Price | None:
    """How the relay prices this request; None for what it does not charge (queries, lists)."""
    contract = call.contract
    if contract.cost != "paid":
        return None
    name = _price_names.get(contract.id)
    name = name(call) if callable(name) else name
    model = call.model
    if name is None and model is not None and _lookup(MODEL_PRICE, model) is not None:
        name = model
    if name is not None:
        return Price(per_call=round((_lookup(MODEL_PRICE, name) or 0) * QUOTA_PER_UNIT))
    if model is not None:
        return Price(ratio=_lookup(MODEL_RATIO, model) or DEFAULT_RATIO, completion=completion_ratio(model))
    dollars = FAMILY_PRICE.get(contract.family, FAMILY_PRICE["default"])
    return Price(per_call=round(dollars * QUOTA_PER_UNIT))


def estimate(call: Call, price: Price) -> int:
    """What the relay holds back before answering: a per-call price, or the prompt's tokens (and
    ``max_tokens`` when given) at the model's ratio, as new-api's pre-consume does."""
    if price.per_call is not None:
        return price.per_call * count_of(call)
    body = call.body if isinstance(call.body, dict) else {}
    ceiling = next((body[k] for k in ("max_completion_tokens", "max_tokens", "max_output_tokens") if isinstance(body.get(k), int)), 0)
    return price.of(Usage(prompt_tokens(call), ceiling))


def prompt_tokens(call: Call) -> int:
    """The request's text in tokens, as the relay counts a prompt it must bill without upstream usage."""
    return texts.count_tokens(" ".join(_strings(call.body))) if isinstance(call.body, dict) else 0


def count_of(call: Call) -> int:
    """How many results one call asks for, where the relay multiplies a per-call price (images' ``n``)."""
    n = call.body.get("n") if isinstance(call.body, dict) else None
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 1 else 1


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, v in value.items() if key != "model" for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
