"""Midjourney as a relay shows it: task plans, the task object, buttons and their customIds.

No HTTP here (moto's ``models.py``): handlers turn requests into calls on these functions.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

from ...taskflow import hands_out_urls, outcome_url
from ...tasks import Step, Task, TaskView

FAMILY = "midjourney"
hands_out_urls(FAMILY)
RUNNING = ("NOT_START", "SUBMITTED", "IN_PROGRESS")
GRID_ACTIONS = frozenset({"IMAGINE", "VARIATION", "REROLL", "BLEND", "PAN", "ZOOM", "HIGH_VARIATION", "LOW_VARIATION", "CUSTOM_ZOOM", "INPAINT"})
NEEDS_MODAL = frozenset({"CUSTOM_ZOOM", "INPAINT"})
# Discord's usual progress steps; a real imagine shows them over ~a minute, the mock over ~5 s.
GRID_PROGRESS = (0, 15, 31, 46, 62, 78, 93)
BLEND_RATIOS = {"PORTRAIT": (2, 3), "SQUARE": (1, 1), "LANDSCAPE": (3, 2)}
LONG_SIDE = 1024
_ASPECT = re.compile(r"--(?:ar|aspect)\s+(\d{1,3})\s*:\s*(\d{1,3})")


def plan(action: str, failure: str | None) -> tuple[Step, ...]:
    """The steps a task of ``action`` goes through; a failing plan stops halfway with FAILURE."""
    steps = [Step("NOT_START", 0.0), Step("SUBMITTED", 0.3)]
    if action in GRID_ACTIONS:
        steps += [Step("IN_PROGRESS", 0.8 + i * 0.6, p) for i, p in enumerate(GRID_PROGRESS)]
        end = 0.8 + len(GRID_PROGRESS) * 0.6
    else:  # upscale, describe, shorten, face swap: quicker and with fewer visible steps
        steps += [Step("IN_PROGRESS", 0.6, 0), Step("IN_PROGRESS", 1.0, 50)]
        end = 1.5
    if failure:
        return (*steps[: max(3, len(steps) // 2)], Step("FAILURE", end / 2 + 0.5, 100, failed=True))
    return (*steps, Step("SUCCESS", end, 100))


def modal_plan() -> tuple[Step, ...]:
    """An action that needs a modal waits in MODAL (outside the queue) until /submit/modal."""
    return (Step("MODAL", 0.0),)


def message_hash(task_id: str) -> str:
    """The Discord message hash buttons carry: a UUID that is stable for the task."""
    return str(uuid.UUID(bytes=hashlib.sha256(f"mj-hash:{task_id}".encode()).digest()[:16], version=4))


def image_size(prompt: str, dimensions: str | None = None) -> tuple[int, int]:
    """Pixel size from ``--ar w:h`` in the prompt (or blend's dimensions), long side 1024."""
    found = _ASPECT.search(prompt or "")
    w, h = (int(found.group(1)), int(found.group(2))) if found else BLEND_RATIOS.get(dimensions or "SQUARE", (1, 1))
    if w <= 0 or h <= 0:
        w, h = 1, 1
    if w >= h:
        return LONG_SIDE, max(1, round(LONG_SIDE * h / w))
    return max(1, round(LONG_SIDE * w / h)), LONG_SIDE


def _button(custom_id: str, label: str = "", emoji: str = "") -> dict[str, Any]:
    return {"customId": custom_id, "emoji": emoji, "label": label, "type": 2, "style": 2}


def buttons(task: Task) -> list[dict[str, Any]]:
    """The follow-ups a finished task offers, in the order Midjourney shows them."""
    h = message_hash(task.id)
    if task.kind in GRID_ACTIONS:
        return [
            *(_button(f"MJ::JOB::upsample::{i}::{h}", f"U{i}") for i in range(1, 5)),
            _button(f"MJ::JOB::reroll::0::{h}::SOLO", emoji="🔄"),
            *(_button(f"MJ::JOB::variation::{i}::{h}", f"V{i}") for i in range(1, 5)),
        ]
    if task.kind == "UPSCALE":
        version = "v5_2x" if "--v 5" in task.params.get("prompt", "") else "v6r1_2x_subtle"
        second = "v5_4x" if version == "v5_2x" else "v6r1_2x_creative"
        return [
            _button(f"MJ::JOB::upsample_{version}::1::{h}::SOLO", "Upscale (2x)" if version == "v5_2x" else "Upscale (Subtle)"),
            _button(f"MJ::JOB::upsample_{second}::1::{h}::SOLO", "Upscale (4x)" if second == "v5_4x" else "Upscale (Creative)"),
            _button(f"MJ::JOB::low_variation::1::{h}::SOLO", "Vary (Subtle)", "🪄"),
            _button(f"MJ::JOB::high_variation::1::{h}::SOLO", "Vary (Strong)", "🪄"),
            _button(f"MJ::Inpaint::1::{h}::SOLO", "Vary (Region)", "🖌️"),
            _button(f"MJ::Outpaint::50::1::{h}::SOLO", "Zoom Out 2x", "🔍"),
            _button(f"MJ::Outpaint::75::1::{h}::SOLO", "Zoom Out 1.5x", "🔍"),
            _button(f"MJ::CustomZoom::{h}", "Custom Zoom", "🔍"),
            _button(f"MJ::JOB::pan_left::1::{h}::SOLO", emoji="⬅️"),
            _button(f"MJ::JOB::pan_right::1::{h}::SOLO", emoji="➡️"),
            _button(f"MJ::JOB::pan_up::1::{h}::SOLO", emoji="⬆️"),
            _button(f"MJ::JOB::pan_down::1::{h}::SOLO", emoji="⬇️"),
        ]
    if task.kind == "DESCRIBE":
        return [*(_button(f"MJ::Job::PicReader::{i}", emoji=f"{i}️⃣") for i in range(1, 5)), _button("MJ::Picread::Retry", emoji="🔄")]
    if task.kind == "SHORTEN":
        return [_button(f"MJ::Job::PromptAnalyzer::{i}", emoji=f"{i}️⃣") for i in range(1, 6)]
    return []


@dataclass(frozen=True)
class ButtonAction:
    action: str
    index: int


class UnknownAction(ValueError):
    """A customId the relay cannot map to an action (new-api answers 400 unknown_action)."""


def action_of(custom_id: str) -> ButtonAction:
    """new-api's reading of a customId: split on ``::``; the kind is token 2 after JOB, else token 1."""
    tokens = custom_id.split("::")
    if len(tokens) < 2 or tokens[0] != "MJ":
        raise UnknownAction(custom_id)
    kind = tokens[2] if tokens[1].upper() == "JOB" and len(tokens) > 2 else tokens[1]
    index = int(tokens[3]) if tokens[1].upper() == "JOB" and len(tokens) > 3 and tokens[3].isdigit() else 1
    if kind.startswith("upsample"):
        return ButtonAction("UPSCALE", index)
    mapped = {"variation": "VARIATION", "low_variation": "LOW_VARIATION", "high_variation": "HIGH_VARIATION", "reroll": "REROLL", "Outpaint": "ZOOM", "CustomZoom": "CUSTOM_ZOOM", "Inpaint": "INPAINT"}
    if kind in mapped:
        return ButtonAction(mapped[kind], index)
    if kind.startswith("pan_"):
        return ButtonAction("PAN", index)
    raise UnknownAction(custom_id)


def describe_text(seed: int) -> str:
    subjects = ("a quiet harbour at dawn", "a fox resting in fresh snow", "a paper lantern over a river", "an old library lit by candles", "a glass greenhouse in rain")
    styles = ("soft watercolor", "cinematic lighting", "ink wash", "isometric 3d render", "oil painting")
    picks = [(subjects[(seed + i) % 5], styles[(seed // 5 + i) % 5]) for i in range(4)]
    return "\n\n".join(f"{n}️⃣ {subject}, {style} --ar 4:3" for n, (subject, style) in enumerate(picks, start=1))


def shorten_text(prompt: str) -> str:
    words = [w for w in re.findall(r"[\w']+", prompt) if not w.startswith("-")][:8] or ["subject"]
    important = " ".join(f"**{w}**" if len(w) > 4 else w for w in words)
    shortened = [", ".join(words[: max(1, len(words) - i)]) for i in range(5)]
    return f"## Important tokens\n{important}\n## Shortened prompts\n" + "\n\n".join(f"{i}️⃣ {s}" for i, s in enumerate(shortened, start=1))


def task_object(view: TaskView, base_url: str) -> dict[str, Any]:
    """The task as new-api serves it on fetch (every key present; 0 and "" for unset)."""
    task = view.task
    status = view.status
    started = next((view.entered(i) for i, s in enumerate(task.steps[: view.index + 1]) if s.status == "IN_PROGRESS"), None)
    finished = view.entered(view.index) if status in ("SUCCESS", "FAILURE") else None
    prompt = task.data.get("prompt", "")
    image_url = ""
    if task.data.get("has_image") and status == "SUCCESS":
        image_url = outcome_url(task, "images", 0, f"{base_url}/mj/image/{task.id}")
    elif task.data.get("has_image") and status == "IN_PROGRESS" and view.progress > 0:
        image_url = f"{base_url}/mj/image/{task.id}?rand={int(view.now * 1e9)}"  # the grid as it renders
    final_prompt = task.data.get("final_prompt", prompt)
    return {
        "id": task.id,
        "action": task.kind,
        "customId": "",
        "botType": "",
        "prompt": "" if task.kind == "DESCRIBE" else prompt,
        "promptEn": final_prompt if status not in ("NOT_START", "MODAL") else "",
        "description": "Submit success",
        "state": task.params.get("state") or "",
        "submitTime": int(task.created_at * 1000),
        "startTime": int(started * 1000) if started else 0,
        "finishTime": int(finished * 1000) if finished else 0,
        "imageUrl": image_url,
        "videoUrl": "",
        "videoUrls": None,
        "status": status,
        "progress": f"{view.progress}%",
        "failReason": (task.fail_reason or "") if status == "FAILURE" else "",
        "buttons": buttons(task) if status == "SUCCESS" else [],
        "maskBase64": "",
        "properties": {"finalPrompt": final_prompt if status == "SUCCESS" or task.kind not in ("DESCRIBE", "SHORTEN") else "", "finalZhPrompt": ""},
    }
