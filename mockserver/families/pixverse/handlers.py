"""Pixverse endpoints: generate (text, or the image variant) and feed; callbacks via the DuoMi flow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...replies import Reply
from .. import handles
from ..pika import flow
from .models import FLAVOUR, MODES

if TYPE_CHECKING:
    from ...pipeline import Call


@handles("pixverse.generate.text")
def generate_text(call: Call) -> Reply:
    return flow.submit(call, FLAVOUR, "text")


@handles("pixverse.generate.image")
def generate_image(call: Call) -> Reply:
    return flow.submit(call, FLAVOUR, "image")


@handles("pixverse.feed")
def feed(call: Call) -> Reply:
    return flow.feed(call, FLAVOUR, call.query.get("task_id"), MODES)
