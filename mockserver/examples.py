"""The documented request/response pairs in fixtures/, as data and as replies the mock can give."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import sse
from .contracts import Contract
from .media import bytes_for
from .replies import BinaryReply, JsonReply, Reply, StreamReply, TextReply
from .resources import fixtures_dir


@dataclass(frozen=True)
class Example:
    contract_id: str
    name: str
    request: dict[str, Any]
    response: dict[str, Any]
    source: str = ""


REAL_WORLD = "real_world"
AIMOCK = "aimock"
NOT_EXAMPLES = frozenset({REAL_WORLD, AIMOCK})
"""fixtures/real_world holds the real-traffic corpus and fixtures/aimock aimock's example fixture
files, not documented examples."""


def example_files() -> list[Path]:
    """Every documented example file (fixtures/<family>/<name>.json)."""
    return sorted(p for p in fixtures_dir().glob("*/*.json") if p.parent.name not in NOT_EXAMPLES)


@functools.cache
def _load(file: str) -> dict[str, Any]:
    return json.loads((fixtures_dir() / file).read_text(encoding="utf-8"))


def examples_of(contract: Contract) -> list[Example]:
    found = []
    for entry in contract.examples:
        data = _load(entry["file"])
        found.append(Example(contract.id, entry["name"], data["request"], data["response"], data.get("source", "")))
    return found


def find_example(contract: Contract, name: str) -> Example | None:
    return next((e for e in examples_of(contract) if e.name == name), None)


def reply_from_example(example: Example, contract: Contract) -> Reply:
    """The documented response, replayed: a canned answer that is known to match the docs."""
    response = example.response
    status = response.get("status", 200)
    media = response.get("content_type", "application/json")
    if "events" in response:
        named_by = contract.event_stream(status).get("named_by")
        return StreamReply(_replay(response["events"], named_by), terminator=response.get("terminator"), status=status)
    if "text" in response:
        return TextReply(response["text"], status=status, media_type=media)
    if response.get("binary"):
        return BinaryReply(bytes_for(media), media_type=media, status=status)
    return JsonReply(response.get("body"), status=status, media_type=media)


async def _replay(events: list[Any], named_by: str | None) -> AsyncIterator[Any]:
    for event in events:
        yield sse.named(event, named_by)
