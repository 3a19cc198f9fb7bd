"""Pixverse answers errors in the DuoMi template's shapes (video_relay.md §1.5, §5.2): Pika's builder."""

from __future__ import annotations

from ...errors import error_builder
from ..pika.errors import duomi_error

error_builder("pixverse")(duomi_error)
