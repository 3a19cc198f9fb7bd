"""Does this request want a stream? (How fast a stream arrives is physics: faults/physics.py.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .pipeline import Call


def wants_stream(call: Call) -> bool:
    """True when the request satisfies the contract's ``behavior.streams_when`` schema."""
    if "streams_when" not in call.contract.behavior:
        return False
    return call.state.registry.check(call.contract.pointer("behavior", "streams_when")).is_valid(call.body)
