"""Recorded exchanges answering requests again: ``gptnb-mock serve --replay DIR`` and the fixtures'
cassettes.

A request is matched to a recording by contract, then by its normalised request (``matching``). Of
several recordings that match, the first not yet played answers; once all have, the last one repeats.
The answer is the recorded bytes, exactly, at the recorded pace scaled by the timing (``real``,
``fast``, ``xN``). A poll of a recorded task is answered by the task's observed sequence of states on
the mock's clock: real and manual clocks pick the state recorded at the time elapsed since the submit
was replayed, the step clock moves one recorded state per poll. A request no recording answers falls
back to the contract-driven fake, or with ``strict`` is refused; either way the miss and its nearest
recording are reported (``misses``, the log). A recorded WebSocket session that matches (contract,
path, query) plays the server's frames again in order, each recorded client frame waited for in its
place.

The recordings are read-only data every process loads from the same files. How far the replay has got
(which recordings have played, when each recorded task was submitted and how often polled) is state
of the request's namespace, kept in the store (``Progress``): workers and replicas sharing a Redis play
one sequence, each namespace plays from the start, and a reset of the namespace rewinds it. ``misses``
is a report to whoever holds this object (the test that set up the cassette); a served mock logs
each miss in the process that met it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket

from ..clock import STEP, Clock
from ..contracts import Contract
from ..errors import ApiError
from ..journal import JournalEntry
from ..replies import BinaryReply
from ..responses import ResponseJudge
from ..store import Store
from .cassette import Cassette, body_bytes, body_value, load
from .matching import Normaliser, differences
from .tasks import polled_id
from .verdict import RequestSeen, described_body

if TYPE_CHECKING:
    from ..pipeline import Call
    from ..state import NamespaceState

log = logging.getLogger("gptnb_mock.replay")
REPLAY_HEADER = "x-gptnb-replay"
# Recorded headers that describe the recorded connection, not the answer: never replayed.
NOT_REPLAYED = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "date", "server", "content-encoding", "x-gptnb-verdict", "x-gptnb-violation"})


def parse_timing(text: str) -> float:
    """``real`` -> 1, ``fast`` -> 0, ``x4`` -> 0.25: what recorded pauses are multiplied by."""
    if text == "real":
        return 1.0
    if text == "fast":
        return 0.0
    if text.startswith("x"):
        try:
            speed = float(text[1:])
        except ValueError:
            speed = 0.0
        if speed > 0:
            return 1.0 / speed
    raise ValueError(f"replay timing is real, fast or xN (N times faster, e.g. x4), not {text!r}")


@dataclass(frozen=True)
class Miss:
    """A request no recording answers, and the recording that came closest."""

    contract: str
    request: str
    nearest: str | None
    differences: tuple[str, ...]

    def __str__(self) -> str:
        if self.nearest is None:
            return f"no recording answers {self.request} ({self.contract}): none of that contract was recorded"
        return f"no recording answers {self.request} ({self.contract}); nearest {self.nearest} differs at " + "; ".join(self.differences)


@dataclass(frozen=True)
class Progress:
    """Where a replay keeps how far it has got: a namespace of a store, and the clock its tasks move on."""

    store: Store
    namespace: str
    clock: Clock

    @classmethod
    def of(cls, space: NamespaceState) -> Progress:
        return cls(space.store, space.namespace, space.clock)


class _Timeline:
    """A recorded task: its polls in order, with their times after the submit (or the first poll)."""

    def __init__(self, submit: Cassette | None, polls: list[Cassette]) -> None:
        self.polls = polls
        start = submit.started_at if submit is not None else polls[0].started_at
        self.offsets = [max(0.0, p.started_at - start) for p in polls]

    def at(self, elapsed: float) -> Cassette:
        index = max((i for i, offset in enumerate(self.offsets) if offset <= elapsed), default=0)
        return self.polls[index]


class Replay:
    def __init__(self, cassettes: list[Cassette], *, strict: bool = False, timing: float = 1.0, ignored: frozenset[str] = frozenset(), secret_query: frozenset[str] = frozenset()) -> None:
        self.cassettes = cassettes
        self.strict = strict
        self.timing = timing
        self.normaliser = Normaliser(ignored, secret_query)
        self._by_contract: dict[str, list[Cassette]] = {}
        self._sessions: dict[str, list[Cassette]] = {}
        for cassette in cassettes:
            if cassette.contract:
                pool = self._sessions if "websocket" in cassette.data else self._by_contract
                pool.setdefault(cassette.contract, []).append(cassette)
        self._timelines = _timelines(cassettes)
        self._lock = threading.Lock()  # misses come from the fixture's bridge thread and the server's
        self.misses: list[Miss] = []
        self._requests: dict[str, dict[str, Any]] = {}

    @classmethod
    def load(cls, directory: Path, **options: Any) -> Replay:
        return cls(load(directory), **options)

    async def answer(self, call: Call) -> BinaryReply | None:
        """The pipeline's door: the recorded answer to ``call``, or None to let the fake answer."""
        body = described_body(call.body, call.files)
        return await self._answer(Progress.of(call.state), call.contract, call.method, call.path, call.params, call.query, body)

    async def answer_seen(self, progress: Progress, seen: RequestSeen, method: str, path: str, query: list[tuple[str, str]]) -> BinaryReply | None:
        """The proxy's door (recording only what is new): None sends the request to the upstream."""
        assert seen.contract is not None
        return await self._answer(progress, seen.contract, method, path, seen.params, dict(query), seen.body, fallback_quietly=True)

    async def session(self, space: NamespaceState, contract: Contract, path: str, query: dict[str, Any]) -> SessionHandler | None:
        """The WebSocket gate's door: a recorded session that matches (contract, path, query), as a
        session handler; None lets the mock's own session answer."""
        found = await self._match(Progress.of(space), contract, "GET", path, query, None, self._sessions)
        if isinstance(found, Miss):
            self._missed(found, quietly=False)
            return None
        return functools.partial(_play_session, found, self.timing)

    async def _answer(self, progress: Progress, contract: Contract, method: str, path: str, params: dict[str, str], query: dict[str, Any], body: Any, fallback_quietly: bool = False) -> BinaryReply | None:
        found = await self._task_poll(progress, contract, params, query, body) or await self._match(progress, contract, method, path, query, body, self._by_contract)
        if isinstance(found, Miss):
            self._missed(found, quietly=fallback_quietly)
            return None
        task = found.task
        if task and task.get("role") == "submit":
            await progress.store.replay_submitted(progress.namespace, task["id"], progress.clock.now())
        if self.timing:
            await asyncio.sleep(float(found.timing.get("time_to_headers_ms", 0.0)) / 1000 * self.timing)
        return self.reply(found)

    def _missed(self, miss: Miss, quietly: bool) -> None:
        """Keep the miss; say so (and, strict, refuse) unless the caller goes elsewhere for an answer."""
        with self._lock:
            self.misses.append(miss)
        if quietly:
            return
        log.warning("replay miss: %s", miss)
        if self.strict:
            raise ApiError(404, "replay_miss", f"gptnb-mock replay: {miss}")

    def reply(self, cassette: Cassette) -> BinaryReply:
        """The recorded answer: its bytes as they came, at the recorded pace times ``timing``."""
        recorded = cassette.response.get("headers", {})
        headers = {k: v for k, v in recorded.items() if k not in NOT_REPLAYED and k != "content-type" and "<redacted>" not in v}
        headers[REPLAY_HEADER] = cassette.name
        return BinaryReply(_paced(cassette.response_chunks(), self.timing), media_type=cassette.media_type, status=cassette.status, headers=headers)

    async def _match(self, progress: Progress, contract: Contract, method: str, path: str, query: dict[str, Any], body: Any, pool: dict[str, list[Cassette]]) -> Cassette | Miss:
        recorded = [(cassette, self._normalised(contract, cassette)) for cassette in pool.get(contract.id, [])]
        sent = self.normaliser.request(contract, method, path, query, body)
        matching = [cassette for cassette, was in recorded if was == sent]
        if not matching:
            nearest = min(((differences(was, sent), cassette) for cassette, was in recorded), key=lambda found: len(found[0]), default=None)
            return Miss(contract.id, f"{method} {path}", nearest[1].name if nearest else None, tuple(nearest[0]) if nearest else ())
        if len(matching) == 1:
            return matching[0]  # no choice to make, nothing to mark
        first = await progress.store.play_first(progress.namespace, [c.name for c in matching])
        return next((c for c in matching if c.name == first), matching[-1])

    def _normalised(self, contract: Contract, cassette: Cassette) -> dict[str, Any]:
        """A recording's request as matching compares it, worked out once."""
        found = self._requests.get(cassette.name)
        if found is None:
            request = cassette.request
            found = self._requests[cassette.name] = self.normaliser.request(contract, request["method"], request["path"], request.get("query") or {}, body_value(request.get("body")))
        return found

    async def _task_poll(self, progress: Progress, contract: Contract, params: dict[str, str], query: dict[str, Any], body: Any) -> Cassette | None:
        if contract.kind != "task-query":
            return None
        task_id = polled_id(contract, params, query, body)
        timeline = self._timelines.get((contract.id, task_id or ""))
        if task_id is None or timeline is None:
            return None
        clock = progress.clock
        started, polls = await progress.store.replay_polled(progress.namespace, task_id, clock.now())
        if clock.mode == STEP:
            return timeline.polls[min(polls, len(timeline.polls) - 1)]
        return timeline.at(clock.now() - started)


def _timelines(cassettes: list[Cassette]) -> dict[tuple[str, str], _Timeline]:
    submits = {c.task["id"]: c for c in cassettes if c.task and c.task.get("role") == "submit"}
    polls: dict[tuple[str, str], list[Cassette]] = {}
    for cassette in cassettes:
        task = cassette.task
        if task and task.get("role") == "poll" and cassette.contract:
            polls.setdefault((cassette.contract, task["id"]), []).append(cassette)
    return {key: _Timeline(submits.get(key[1]), sorted(found, key=lambda c: c.started_at)) for key, found in polls.items()}


async def _paced(chunks: list[tuple[float, bytes]], timing: float) -> AsyncIterator[bytes]:
    # Each chunk is due at its recorded moment after the first, measured from one start, so the small
    # overshoot of every sleep does not add up over a long stream.
    loop = asyncio.get_running_loop()
    start = loop.time()
    for at_ms, chunk in chunks:
        wait = start + at_ms / 1000 * timing - loop.time()
        if timing and wait > 0:
            await asyncio.sleep(wait)
        yield chunk


SessionHandler = Callable[["Call", WebSocket, JournalEntry], Awaitable[None]]


async def _play_session(cassette: Cassette, timing: float, call: Call, socket: WebSocket, entry: JournalEntry) -> None:
    """A recorded WebSocket session again: the server's frames in order at the recorded pace, each
    recorded client frame waited for in its place (its content is the client's business, not matched)."""
    offered = [p.strip() for p in call.headers.get("sec-websocket-protocol", "").split(",")]
    session = cassette.data["websocket"]
    await socket.accept(subprotocol=session.get("subprotocol") if session.get("subprotocol") in offered else None)
    judge = ResponseJudge(call.contract, call.state.registry) if call.state.settings.strict else None
    loop = asyncio.get_running_loop()
    start, sent = loop.time(), 0
    for frame in cassette.frames:
        due = start + frame["at_ms"] / 1000 * timing
        if frame.get("from") == "client":
            if (await socket.receive())["type"] == "websocket.disconnect":
                return
            start = loop.time() - frame["at_ms"] / 1000 * timing  # what follows is timed from the client's frame
            continue
        if timing and due > loop.time():
            await asyncio.sleep(due - loop.time())
        if "base64" in frame:
            await socket.send_bytes(body_bytes(frame))
        else:
            text = body_bytes(frame).decode()
            if judge is not None:
                entry.violations += judge.frame_violations(101, body_value(frame), sent)
            await socket.send_text(text)
        sent += 1
        entry.response = f"replayed {cassette.name}: {sent} server frames"
    close = session.get("close") or {}
    if close.get("by") == "upstream":
        await socket.close(close.get("code", 1000), close.get("reason"))
        return
    while (await socket.receive())["type"] != "websocket.disconnect":
        pass  # the recording is over; the client closes when it is done
