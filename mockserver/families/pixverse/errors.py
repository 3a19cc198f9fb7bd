"""Pixverse answers errors in the DuoMi template's shapes (QuantumNous/new-api relay/relay_task.go (task_not_exist, HTTP 400), the Pixverse template page @接口说明): Pika's builder."""

from __future__ import annotations

from ...errors import error_builder
from ..pika.errors import duomi_error

error_builder("pixverse")(duomi_error)
