"""Moderations: every input classified in OpenAI's thirteen categories, flagged by the words it holds.

A word list per category decides the flags, so a test can ask for a flagged or a clean result by
what it sends; the scores of the other categories stay small and repeat for the same input.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from ...conversation import Facts, joined, reads
from ...ids import derived_int
from ...replies import JsonReply, Reply
from .. import handles

if TYPE_CHECKING:
    from ...pipeline import Call

DEFAULT_MODEL = "omni-moderation-latest"  # new-api fills it in when the request names none
# Category -> words that flag it. Sub-categories flag their parent too, as OpenAI's results do.
LEXICON = {
    "harassment": ("idiot", "loser", "stupid"),
    "harassment/threatening": ("i will hurt you", "watch your back"),
    "hate": ("hate all", "inferior race"),
    "hate/threatening": ("exterminate them",),
    "illicit": ("steal", "counterfeit", "buy drugs"),
    "illicit/violent": ("make a bomb", "build a weapon"),
    "self-harm": ("hurt myself", "self-harm"),
    "self-harm/intent": ("i want to die", "end my life"),
    "self-harm/instructions": ("how to cut myself",),
    "sexual": ("explicit sex", "nude"),
    "sexual/minors": ("underage",),
    "violence": ("kill", "murder", "attack", "stab"),
    "violence/graphic": ("gore", "dismember"),
}
CATEGORIES = tuple(LEXICON)
# Categories the omni models also judge on images (OpenAI's moderation guide).
IMAGE_CATEGORIES = frozenset({"self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "violence", "violence/graphic"})


def _inputs(value: Any) -> list[tuple[str, bool]]:
    """(text, has an image) per result: one per string, one for a list of multimodal parts."""
    if isinstance(value, str):
        return [(value, False)]
    if all(isinstance(v, str) for v in value):
        return [(v, False) for v in value]
    text = " ".join(p.get("text", "") for p in value if isinstance(p, dict) and p.get("type") == "text")
    return [(text, any(isinstance(p, dict) and p.get("type") == "image_url" for p in value))]


def _result(text: str, with_image: bool, seed: int) -> dict[str, Any]:
    lowered = " ".join(re.findall(r"[\w'/-]+", text.lower()))
    hits = {c for c, words in LEXICON.items() if any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in words)}
    hits |= {c.split("/")[0] for c in hits}
    scores = {}
    for category in CATEGORIES:
        noise = derived_int(seed, text, category) % 10_000
        scores[category] = round(0.9 + noise / 100_000, 6) if category in hits else round(noise / 1_000_000, 8)
    applied = {c: ["text", "image"] if with_image and c in IMAGE_CATEGORIES else ["text"] for c in CATEGORIES}
    return {
        "flagged": bool(hits),
        "categories": {c: c in hits for c in CATEGORIES},
        "category_scores": scores,
        "category_applied_input_types": applied,
    }


@reads("openai.moderations.create")
def moderation_facts(call: Call) -> Facts:
    return Facts(model=call.body.get("model"), input_text=joined(text for text, _ in _inputs(call.body.get("input") or "")))


@handles("openai.moderations.create")
def moderate(call: Call) -> Reply:
    model = call.body.get("model") or DEFAULT_MODEL
    results = [_result(text, image, call.seed) for text, image in _inputs(call.body["input"])]
    return JsonReply({"id": f"modr-{os.urandom(16).hex()}", "model": model, "results": results})
