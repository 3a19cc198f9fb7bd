"""What a request says, read the same way whatever its format: the facts steering rules match on.

Each format registers a reader for its contracts in its family module (``@reads(...)``). A chat-like
format only turns its request into ``Turn``s (system, user, assistant, tool result) and the tools it
offers; ``facts_of`` reads the last user message, the system prompt, the tool results and the rest
from those, once for every format. Other readers give the text to embed, moderate or speak. A reader also says which canned reply kinds the contract's handler renders
(``content``, ``tool_calls``, ``refusal``, ``embedding``), so a rule with such a reply only reaches
contracts that can give it. Matching asks ``read(call)`` and never looks at a format itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .contracts import Contract
    from .pipeline import Call

TURN_KINDS = frozenset({"content", "tool_calls", "refusal"})
"""Canned reply kinds that make up one assistant turn."""


@dataclass(frozen=True)
class Facts:
    model: str | None = None
    user_message: str | None = None
    """The text of the last user turn that has text (a turn of only tool results or images has none)."""
    system_message: str | None = None
    """Every system (and developer) instruction, joined by new lines."""
    tool_names: tuple[str, ...] = ()
    """The tools the request offers the model."""
    tool_call_ids: tuple[str, ...] = ()
    """The calls the trailing tool results answer (the request ends with them)."""
    tool_result: str | None = None
    """The text of the last of those tool results."""
    has_tool_result: bool = False
    """The current turn (everything after the last user message) carries a tool result."""
    assistant_turns: int = 0
    input_text: str | None = None
    """What an embedding, moderation or speech request is about (several inputs joined by new lines)."""


@dataclass(frozen=True)
class Turn:
    """One message of a conversation, as every format's reader hands it over."""

    role: str
    """system, user, assistant or tool (a tool's result)."""
    text: str | None
    """Its words; None when it has none (only images, only tool calls)."""
    call_id: str | None = None
    """For a tool result: the call it answers."""


def facts_of(model: str | None, turns: list[Turn], tools: Iterable[str]) -> Facts:
    """The facts of a conversation, read as aimock reads one: the last user message with text; the
    current turn is everything after the last user message; the results that end it answer calls."""
    users = [i for i, t in enumerate(turns) if t.role == "user"]
    spoken = [t for t in turns if t.role == "user" and t.text is not None]
    trailing = list(itertools.takewhile(lambda t: t.role == "tool", reversed(turns)))[::-1]
    return Facts(
        model=model,
        user_message=spoken[-1].text if spoken else None,
        system_message=joined(t.text for t in turns if t.role == "system"),
        tool_names=tuple(name for name in tools if isinstance(name, str)),
        tool_call_ids=tuple(t.call_id for t in trailing if t.call_id is not None),
        tool_result=trailing[-1].text if trailing else None,
        has_tool_result=any(t.role == "tool" for t in turns[users[-1] + 1 if users else 0 :]),
        # Consecutive assistant items (a reasoning item, then a call) are one turn of the model's.
        assistant_turns=sum(1 for i, t in enumerate(turns) if t.role == "assistant" and (i == 0 or turns[i - 1].role != "assistant")),
    )


Reader = Callable[["Call"], Facts]


@dataclass(frozen=True)
class Format:
    reader: Reader
    renders: frozenset[str]
    """Canned reply kinds the contract's handler renders."""


_formats: dict[str, Format] = {}


def reads(*contract_ids: str, renders: Iterable[str] = ()) -> Callable[[Reader], Reader]:
    """Register how the requests of these contracts are read, and which canned kinds they render."""

    def register(reader: Reader) -> Reader:
        for contract_id in contract_ids:
            if contract_id in _formats:
                raise ValueError(f"two readers for {contract_id}")
            _formats[contract_id] = Format(reader, frozenset(renders))
        return reader

    return register


def read(call: Call) -> Facts:
    found = _formats.get(call.contract.id)
    if found is not None:
        return found.reader(call)
    return Facts(model=model_of(call.contract, call.body))


def reads_request(contract_id: str) -> bool:
    return contract_id in _formats


def renders(contract_id: str) -> frozenset[str]:
    found = _formats.get(contract_id)
    return found.renders if found else frozenset()


def model_of(contract: Contract, body: Any) -> str | None:
    """The model a request names: the field the relay routes on, else a plain ``model``."""
    if not isinstance(body, dict):
        return None
    value = body.get(contract.models.field if contract.models else "model")
    return value if isinstance(value, str) else None


def joined(texts: Iterable[str | None]) -> str | None:
    """Several texts as one (None when there are none), as a substring condition reads them."""
    kept = [t for t in texts if t is not None]
    return "\n".join(kept) if kept else None
