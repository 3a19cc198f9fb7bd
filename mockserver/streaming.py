"""Helpers every streaming handler uses: does this request want a stream, and its pacing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .pipeline import Call


def wants_stream(call: Call) -> bool:
    """True when the request satisfies the contract's ``behavior.streams_when`` schema."""
    if "streams_when" not in call.contract.behavior:
        return False
    return call.state.registry.check(call.contract.pointer("behavior", "streams_when")).is_valid(call.body)


def paced(call: Call, events: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """``events`` with the instance's chunk delay between them (none by default: then the events
    themselves, without a generator in between)."""
    delay = call.state.settings.chunk_delay_ms / 1000
    return _delayed(events, delay) if delay else events


async def _delayed(events: AsyncIterator[Any], delay: float) -> AsyncIterator[Any]:
    async for event in events:
        yield event
        await asyncio.sleep(delay)
