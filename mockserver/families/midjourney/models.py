"""Midjourney as a relay shows it: task plans, the task object, buttons and their customIds.

No HTTP here (moto's ``models.py``): handlers turn requests into calls on these functions.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, replace
from typing import Any

from ...media_routes import video_path
from ...taskflow import hands_out_urls, outcome_url
from ...tasks import Step, Task, TaskView

FAMILY = "midjourney"
hands_out_urls(FAMILY)
NEEDS_MODAL = frozenset({"CUSTOM_ZOOM", "INPAINT"})
# Discord's usual progress steps; a real imagine shows them over ~a minute, the mock over ~5 s.
GRID_PROGRESS = (0, 15, 31, 46, 62, 78, 93)
BLEND_RATIOS = {"PORTRAIT": (2, 3), "SQUARE": (1, 1), "LANDSCAPE": (3, 2)}
LONG_SIDE = 1024
VIDEOS_PER_TASK = 4  # a Midjourney video job makes four clips (trueai SubmitVideoDTO.BatchSize)
_ASPECT = re.compile(r"--(?:ar|aspect)\s+(\d{1,3})\s*:\s*(\d{1,3})")
_VERSION = re.compile(r"--(v|version|niji)\s+(\d+(?:\.\d+)?)")


class Shape:
    """What a finished task shows, which decides its buttons and its picture (not its action word:
    new-api records an Upscale (Subtle) as UPSCALE, a reroll of a video as REROLL)."""

    GRID = "grid"  # four images: U1-U4, reroll, V1-V4
    UPSCALE = "upscale"  # one image picked from a grid
    HD_UPSCALE = "hd_upscale"  # an upscale made larger again (Upscale Subtle / Creative / 2x / 4x)
    VIDEO = "video"  # four clips: U1-U4 of the video, reroll
    DESCRIBE = "describe"
    SHORTEN = "shorten"
    PLAIN = "plain"  # one image without follow-ups (face swap)


GRID_SHAPED = frozenset({Shape.GRID, Shape.VIDEO})
"""Shapes whose plan shows Discord's progress steps."""


def plan(shape: str, failure: str | None) -> tuple[Step, ...]:
    """The steps a task of ``shape`` goes through; a failing plan stops halfway with FAILURE."""
    steps = [Step("NOT_START", 0.0), Step("SUBMITTED", 0.3)]
    if shape in GRID_SHAPED:
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


def confirmed_plan(shape: str, failure: str | None) -> tuple[Step, ...]:
    """What a confirmed modal goes through: submitted at once, then the plan of its shape."""
    steps = plan(shape, failure)[1:]
    return tuple(replace(s, at=s.at - steps[0].at) for s in steps)


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


def upscale_pair(prompt: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The two "upscale again" buttons of an upscaled image, which depend on the model version the
    prompt ran on (trueai-org/midjourney-proxy CustomComponentModel.CreateUpscaleButtons): v5 2x/4x,
    v6 and niji 6 subtle/creative, v6.1 (the default) v6r1_*, v7 and niji 7 v7_*."""
    found = _VERSION.search(prompt or "")
    niji = bool(found) and found.group(1) == "niji"
    major, _, minor = (found.group(2) if found else "6.1").partition(".")
    if major == "5":
        return ("v5_2x", "Upscale (2x)"), ("v5_4x", "Upscale (4x)")
    if major == "7":
        return ("v7_2x_subtle", "Upscale (Subtle)"), ("v7_2x_creative", "Upscale (Creative)")
    if major == "6" and (niji or minor in ("", "0")):
        return ("v6_2x_subtle", "Upscale (Subtle)"), ("v6_2x_creative", "Upscale (Creative)")
    return ("v6r1_2x_subtle", "Upscale (Subtle)"), ("v6r1_2x_creative", "Upscale (Creative)")


def _single_image_buttons(h: str) -> list[dict[str, Any]]:
    """Vary, Vary (Region), zoom and pan: what every upscaled image offers (trueai-org/midjourney-proxy
    src/Midjourney.Base/Resources/ApiParams/upscale_buttons.json, as Discord shows them)."""
    return [
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


def buttons(task: Task) -> list[dict[str, Any]]:
    """The follow-ups a finished task offers, in the order Midjourney shows them."""
    h = message_hash(task.id)
    shape = task.data.get("shape", Shape.PLAIN)
    if shape == Shape.GRID:
        return [
            *(_button(f"MJ::JOB::upsample::{i}::{h}", f"U{i}") for i in range(1, 5)),
            _button(f"MJ::JOB::reroll::0::{h}::SOLO", emoji="🔄"),
            *(_button(f"MJ::JOB::variation::{i}::{h}", f"V{i}") for i in range(1, 5)),
        ]
    if shape == Shape.UPSCALE:
        (first, first_label), (second, second_label) = upscale_pair(task.data.get("prompt", ""))
        return [
            _button(f"MJ::JOB::upsample_{first}::1::{h}::SOLO", first_label),
            _button(f"MJ::JOB::upsample_{second}::1::{h}::SOLO", second_label),
            *_single_image_buttons(h),
        ]
    if shape == Shape.HD_UPSCALE:  # already upscaled twice: no third upscale
        return _single_image_buttons(h)
    if shape == Shape.VIDEO:  # trueai-org/midjourney-proxy TaskInfo.SetVideoUpscaleButtons
        return [
            *(_button(f"MJ::JOB::video_virtual_upscale::{i}::{h}", f"U{i}") for i in range(1, VIDEOS_PER_TASK + 1)),
            _button(f"MJ::JOB::reroll::0::{h}::SOLO", emoji="🔄"),
        ]
    if shape == Shape.DESCRIBE:
        return [*(_button(f"MJ::Job::PicReader::{i}", emoji=f"{i}️⃣") for i in range(1, 5)), _button("MJ::Picread::Retry", emoji="🔄")]
    if shape == Shape.SHORTEN:
        return [_button(f"MJ::Job::PromptAnalyzer::{i}", emoji=f"{i}️⃣") for i in range(1, 6)]
    return []


@dataclass(frozen=True)
class ButtonAction:
    action: str
    index: int
    kind: str
    """The customId's kind token (``upsample``, ``upsample_v6r1_2x_subtle``, ``pan_left`` ...)."""


_ONE_IMAGE_ACTIONS = {
    "low_variation": "LOW_VARIATION",
    "high_variation": "HIGH_VARIATION",
    "Outpaint": "ZOOM",
    "CustomZoom": "CUSTOM_ZOOM",
    "Inpaint": "INPAINT",
}


class UnknownAction(ValueError):
    """A customId the relay cannot map to an action (new-api answers 400 unknown_action)."""


def action_of(custom_id: str) -> ButtonAction:
    """new-api's reading of a customId (QuantumNous/new-api service/midjourney.go
    CoverPlusActionToNormalAction): split on ``::``; the kind is token 2 when token 1 is ``JOB``, else
    token 1; ``upsample*`` and ``variation`` take their index from token 3, everything else index 1.
    PicReader, Picread, PromptAnalyzer, video_virtual_upscale, animate_* and BOOKMARK map to nothing."""
    tokens = custom_id.split("::")
    if len(tokens) < 2 or tokens[0] != "MJ":
        raise UnknownAction(custom_id)
    kind = tokens[2] if tokens[1] == "JOB" and len(tokens) > 2 else tokens[1]
    indexed = tokens[3] if len(tokens) > 3 and tokens[3].isdigit() else None
    if "upsample" in kind:
        return ButtonAction("UPSCALE", int(indexed or 1), kind)
    if kind == "variation":
        return ButtonAction("VARIATION", int(indexed or 1), kind)
    if kind in _ONE_IMAGE_ACTIONS:
        return ButtonAction(_ONE_IMAGE_ACTIONS[kind], 1, kind)
    if "pan" in kind:
        return ButtonAction("PAN", 1, kind)
    if "reroll" in kind:
        return ButtonAction("REROLL", 1, kind)
    raise UnknownAction(custom_id)


def result_shape(parent: Task, pressed: ButtonAction) -> str:
    """What pressing ``pressed`` on ``parent`` makes: an upscale of a grid picks one image, an upscale
    of an upscale makes it larger, a reroll repeats the parent's kind, everything else is a grid."""
    parent_shape = parent.data.get("shape", Shape.PLAIN)
    if pressed.action == "UPSCALE":
        return Shape.UPSCALE if pressed.kind == "upsample" else Shape.HD_UPSCALE
    if pressed.action == "REROLL" and parent_shape == Shape.VIDEO:
        return Shape.VIDEO
    return Shape.GRID


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


def video_urls(task: Task, base_url: str) -> list[dict[str, str]]:
    """The clips of a finished video task, as new-api's videoUrls list."""
    if task.data.get("shape") != Shape.VIDEO:
        return []
    seed = task.data.get("seed_base", 0)
    return [{"url": outcome_url(task, "videos", i, base_url + video_path(seed + i))} for i in range(task.data.get("videos", VIDEOS_PER_TASK))]


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
    videos = video_urls(task, base_url) if status == "SUCCESS" else []
    return {
        "id": task.id,
        "action": task.kind,
        "customId": "",
        "botType": "",
        "prompt": "" if task.kind == "DESCRIBE" else prompt,
        "promptEn": final_prompt if status not in ("NOT_START", "MODAL") else "",
        "description": task.data.get("description", "Submit success"),
        "state": task.params.get("state") or "",
        "submitTime": int(task.created_at * 1000),
        "startTime": int(started * 1000) if started else 0,
        "finishTime": int(finished * 1000) if finished else 0,
        "imageUrl": image_url,
        "videoUrl": videos[0]["url"] if videos else "",
        "videoUrls": videos or None,
        "status": status,
        "progress": f"{view.progress}%",
        "failReason": (task.fail_reason or "") if status == "FAILURE" else "",
        "buttons": buttons(task) if status == "SUCCESS" else [],
        "maskBase64": "",
        "properties": {"finalPrompt": final_prompt if status == "SUCCESS" or task.kind not in ("DESCRIBE", "SHORTEN") else "", "finalZhPrompt": ""},
    }
