"""Pika endpoints: three generate modes on one path (the contract variant picks the mode) and feed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...replies import Reply
from .. import handles
from . import flow
from .models import FLAVOUR, MODES

if TYPE_CHECKING:
    from ...pipeline import Call


@handles("pika.generate.text")
def generate_text(call: Call) -> Reply:
    return flow.submit(call, FLAVOUR, "text")


@handles("pika.generate.image")
def generate_image(call: Call) -> Reply:
    return flow.submit(call, FLAVOUR, "image")


@handles("pika.generate.video")
def generate_video(call: Call) -> Reply:
    return flow.submit(call, FLAVOUR, "video")


@handles("pika.feed")
def feed(call: Call) -> Reply:
    # GET ?task_id= is the documented form; the raw-Pika alias carries the id in the path instead.
    return flow.feed(call, FLAVOUR, call.params.get("task_id") or call.query.get("task_id"), MODES)
