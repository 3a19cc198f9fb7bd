"""The request path's one door into faults: which faults and physics this request gets, if any.

Built once per mock instance from its settings (serve-wide physics, a model physics profile,
serve-wide chaos), which every worker and replica is started with; what changes as requests come (the
numbered draws of chance) is in the namespace's store. For a request with no steering rule on an
instance with none of these, the request path does not call the desk: it pays for one attribute test.
"""

from __future__ import annotations

import functools
import random
from dataclasses import replace
from typing import TYPE_CHECKING

from starlette.types import Receive, Scope, Send

from ..config import Settings
from ..steering import Taken, parse_scenario
from ..streaming import wants_stream
from .chaos import Chaos, Dice, strike
from .delivery import Delivery, refuse
from .physics import Physics
from .plan import FaultPlan
from .profiles import ModelPhysics
from .wire import wire_for

if TYPE_CHECKING:
    from ..pipeline import Call
    from ..steering import Rule

FAULT_NOTE = "fault"  # Call.extras key: what the journal says this request got


class FaultDesk:
    def __init__(self, settings: Settings) -> None:
        self.physics = settings.physics or None
        self.models = ModelPhysics.load(settings.model_physics) if settings.model_physics else None
        self.chaos = settings.chaos
        self.dice = Dice(settings.chaos_seed if settings.chaos_seed is not None else settings.seed)
        self.idle = not (self.physics or self.models or self.chaos)

    async def steer(
        self, taken: Taken | None, call: Call, scope: Scope, receive: Receive, send: Send, websocket: bool = False
    ) -> tuple[Taken | None, Delivery | None]:
        """The rule (and reply) that apply once chaos has had its say (the rule's own chaos, or the
        instance's when no rule or header steers this request), and how the answer goes out (None: the
        plain way). What the request got is noted for the journal."""
        rng = None
        if taken is None:
            if self.chaos is not None:
                rng = await self.dice.draw(call.state)
                picked = self._roll(rng, self.chaos, call, websocket)
                taken = Taken(picked, picked.replies[0]) if picked is not None else None
        elif taken.rule.chaos is not None:
            rng = await self.dice.draw(call.state)
            base = replace(taken.rule, chaos=None)
            picked = self._roll(rng, taken.rule.chaos, call, websocket)
            taken = Taken(base, taken.reply) if picked is None else Taken(replace(base, faults=picked.faults), picked.replies[0])
        else:
            summary = taken.rule.fault_summary(taken.reply)
            if summary:
                call.extras[FAULT_NOTE] = summary
        return taken, await self._delivery(taken.rule if taken else None, call, scope, receive, send, websocket, rng)

    def _roll(self, rng: random.Random, chaos: Chaos, call: Call, websocket: bool) -> Rule | None:
        """The mix entry chaos picks for this request (its faults and its reply replace the rule's), or None."""
        streams = websocket or _streams(call)
        picked = strike(rng, chaos.probability, [r for r in _mix(tuple(chaos.mix)) if _fits(r.faults, streams, websocket)])
        call.extras[FAULT_NOTE] = f"chaos: {picked.fault_summary(picked.replies[0]) if picked else 'none'}"
        return picked

    async def _delivery(
        self, rule: Rule | None, call: Call, scope: Scope, receive: Receive, send: Send, websocket: bool, rng: random.Random | None
    ) -> Delivery | None:
        if self.idle and (rule is None or not (rule.faults or rule.physics or rule.stream)):
            return None
        plan = rule.faults if rule is not None else None
        physics = self._physics(rule, call, websocket)
        if not plan and not physics:
            return None
        wire = None
        if plan:
            _check_fits(plan, call, websocket)
            wire = wire_for(scope, receive, send)
            if wire is None and plan.needs_wire:
                name = next(n for n in plan.named() if n in ("reset", "empty", "garbage", "truncate", "drop_after"))
                raise refuse(name, "breaking the connection needs a real socket (gptnb-mock serve, gptnb_server) or the gptnb fixture")
        if rng is None and ((physics and (physics.jitter_ms or physics.jitter_share)) or (plan and plan.garbage)):
            rng = await self.dice.draw(call.state)
        return Delivery(plan, physics, rng or random.Random(self.dice.seed), wire)

    def _physics(self, rule: Rule | None, call: Call, websocket: bool) -> Physics | None:
        found = self.physics
        if self.models is not None:
            found = (self.models.for_model(call.model) or Physics()).over(found)
        if rule is not None and rule.physics is not None:
            found = rule.physics.over(found)
        elif rule is not None and rule.stream is not None and (websocket or _streams(call)):  # a stream profile paces streams only
            found = rule.stream.physics().over(found)
        return found or None


@functools.lru_cache(maxsize=64)
def _mix(entries: tuple[str, ...]) -> list[Rule]:
    return [parse_scenario(entry) for entry in entries]


def _streams(call: Call) -> bool:
    """Whether the answer will be an event stream: what the request asks, where the contract lets it choose."""
    return wants_stream(call) if "streams_when" in call.contract.behavior else call.contract.kind == "sse"


def _fits(plan: FaultPlan | None, streams: bool, websocket: bool) -> bool:
    """Whether a chaos pick can happen to this request at all."""
    if not plan:
        return True
    names = plan.named()
    if websocket:
        return all(name in FaultPlan.WEBSOCKET for name in names)
    return "close_after" not in names and (streams or not plan.stream_faults)


def _check_fits(plan: FaultPlan, call: Call, websocket: bool) -> None:
    """A fault asked for explicitly that cannot happen to this request is a 400 naming it."""
    names = plan.named()
    if websocket:
        for name in names:
            if name not in FaultPlan.WEBSOCKET:
                raise refuse(name, f"applies to HTTP answers, not to WebSocket sessions (these take {', '.join(FaultPlan.WEBSOCKET)})")
        return
    if "close_after" in names:
        raise refuse("close_after", "applies to WebSocket sessions only; for HTTP use drop_after or truncate")
    if plan.stream_faults and not _streams(call):
        name = next(n for n in names if n in FaultPlan.STREAM_ONLY)
        how = 'ask for a stream ("stream": true)' if "streams_when" in call.contract.behavior else f"{call.contract.id} never streams; use truncate, reset, empty or garbage"
        raise refuse(name, f"applies to event streams and this answer is not one: {how}")
