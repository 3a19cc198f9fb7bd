"""Canned replies: what a steering rule answers with, as plain data read from JSON (or YAML).

A reply is one kind of answer:
- an assistant turn (``content``, ``tool_calls``, ``refusal``) or an ``embedding``, which the
  contract's own handler renders, so it streams with the same framing and usage as a generated one;
- an ``error`` (``{"message", "type", "code", "param"}`` or a message) with its ``status``, in the
  family's own error shape;
- a whole ``body`` (with its ``status``), or a documented ``example`` by name;
- a ``task`` outcome for async families: ``{"fail": reason}``, or the ``images`` / ``audio`` /
  ``videos`` URLs the finished task hands out, reached on the clock like any task;
- nothing at all (a rule that only delays or paces the generated answer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from .conversation import TURN_KINDS
from .parsing import MAX_JSON_DEPTH, too_deep


class ReplyError(ValueError):
    """A reply that cannot be understood; the message names the field."""


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str
    """JSON text of the arguments object, as the wire carries it."""
    id: str | None = None
    """The call id; the mock makes one up when it is not given."""

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments, **({"id": self.id} if self.id else {})}


@dataclass(frozen=True)
class ErrorReply:
    message: str
    type: str | None = None
    code: str | int | None = None
    param: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in (("message", self.message), ("type", self.type), ("code", self.code), ("param", self.param)) if v is not None}


MEDIA_KINDS = ("images", "audio", "videos")


@dataclass(frozen=True)
class TaskOutcome:
    fail: str | None = None
    """The task fails with this reason (in the family's own failure fields)."""
    urls: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The finished task's media by kind (images, audio, videos), in the order the family lists them."""

    def as_json(self) -> dict[str, Any]:
        return {"fail": self.fail} if self.fail is not None else {kind: list(urls) for kind, urls in self.urls.items()}


@dataclass(frozen=True)
class Canned:
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    refusal: str | None = None
    embedding: tuple[tuple[float, ...], ...] | None = None
    """One vector for every input, or one per input."""
    error: ErrorReply | None = None
    status: int | None = None
    body: Any = None
    example: str | None = None
    task: TaskOutcome | None = None

    @property
    def kinds(self) -> frozenset[str]:
        """What this reply consists of (``content``, ``tool_calls``, ``error``, ``task`` ...)."""
        present = {
            "content": self.content is not None,
            "tool_calls": bool(self.tool_calls),
            "refusal": self.refusal is not None,
            "embedding": self.embedding is not None,
            "error": self.error is not None,
            "body": self.body is not None,
            "example": self.example is not None,
            "task": self.task is not None,
        }
        return frozenset(kind for kind, here in present.items() if here)

    @property
    def rendered(self) -> frozenset[str]:
        """The kinds the contract's handler renders (the rest the pipeline answers itself)."""
        return self.kinds & (TURN_KINDS | {"embedding"})

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.content is not None:
            data["content"] = self.content
        if self.tool_calls:
            data["tool_calls"] = [c.as_json() for c in self.tool_calls]
        if self.refusal is not None:
            data["refusal"] = self.refusal
        if self.embedding is not None:
            data["embedding"] = [list(v) for v in self.embedding] if len(self.embedding) > 1 else list(self.embedding[0])
        if self.error is not None:
            data["error"] = self.error.as_json()
        if self.status is not None:
            data["status"] = self.status
        if self.body is not None:
            data["body"] = self.body
        if self.example is not None:
            data["example"] = self.example
        if self.task is not None:
            data["task"] = self.task.as_json()
        return data


STATUS_RULE = (
    "expected an error status (400-599) to answer with the family's error, or 200-599 with a canned body or example; "
    "statuses below 400 without a body are not injected (a client could not tell them from a real answer)"
)
REPLY_FIELDS = frozenset({"content", "tool_calls", "refusal", "embedding", "error", "status", "message", "body", "example", "task", "fail_task"})
"""Fields of a reply; ``message`` and ``fail_task`` are the short forms of ``error`` and ``task.fail``."""

# Kinds that cannot share one reply: each is a whole answer of its own.
_ALONE = frozenset({"embedding", "error", "body", "example"})


def canned_from_json(data: Any, where: str = "reply") -> Canned:
    """A reply from its JSON form, with a complaint naming the field for anything unexpected."""
    if not isinstance(data, dict):
        raise ReplyError(f"{where}: expected an object, got {_shown(data)}")
    unknown = set(data) - REPLY_FIELDS
    if unknown:
        raise ReplyError(f"{where}: unknown reply fields {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(REPLY_FIELDS))}")
    status = data.get("status")
    if status is not None:
        canned = data.get("body") is not None or data.get("example") is not None
        if not _is_int(status) or not (200 if canned else 400) <= status <= 599:
            raise ReplyError(f"{where}.status: {STATUS_RULE}, got {_shown(status)}")
    if too_deep(data.get("body")):
        raise ReplyError(f"{where}.body nests deeper than {MAX_JSON_DEPTH} levels")
    content = _text(data, "content", where)
    refusal = _text(data, "refusal", where)
    error = _error(data, where, status)
    reply = Canned(
        content=content,
        tool_calls=_tool_calls(data.get("tool_calls"), where),
        refusal=refusal,
        embedding=_embedding(data.get("embedding"), where),
        error=error,
        status=500 if error is not None and status is None else status,
        body=data.get("body"),
        example=_text(data, "example", where),
        task=_task(data, where),
    )
    others = reply.kinds - {"task"}
    alone = others & _ALONE
    if len(alone) > 1 or (alone and others - alone):
        raise ReplyError(f"{where}: {' and '.join(sorted(others))} cannot be combined: each is a whole reply")
    if reply.task is not None and others:
        raise ReplyError(f"{where}: a task outcome stands alone (the family answers the submit itself), not beside {', '.join(sorted(others))}")
    if reply.refusal is not None and (reply.content is not None or reply.tool_calls):
        raise ReplyError(f"{where}: a refusal is the whole turn (no content or tool_calls beside it)")
    if status is not None and reply.rendered:
        raise ReplyError(f"{where}.status: {', '.join(sorted(reply.rendered))} is answered with the contract's own status; use error for a failure")
    return reply


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    return orjson.dumps(value).decode()[:80]


def _text(data: dict[str, Any], name: str, where: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if name == "content" and isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()  # structured output written as JSON, as aimock allows
    if not isinstance(value, str):
        raise ReplyError(f"{where}.{name}: expected a string, got {_shown(value)}")
    return value


def _tool_calls(value: Any, where: str) -> tuple[ToolCall, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise ReplyError(f"{where}.tool_calls: expected a non-empty list of {{name, arguments, id}}")
    calls = []
    for index, entry in enumerate(value):
        at = f"{where}.tool_calls[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
            raise ReplyError(f"{at}: expected an object with a name (and arguments)")
        unknown = set(entry) - {"name", "arguments", "id"}
        if unknown:
            raise ReplyError(f"{at}: unknown fields {', '.join(sorted(unknown))}; allowed: name, arguments, id")
        arguments = entry.get("arguments", {})
        if isinstance(arguments, str):
            try:
                parsed = orjson.loads(arguments)
            except orjson.JSONDecodeError:
                raise ReplyError(f"{at}.arguments: not valid JSON: {arguments[:80]!r}") from None
        else:
            parsed = arguments
        if not isinstance(parsed, dict):
            raise ReplyError(f"{at}.arguments: expected a JSON object (or its text), got {_shown(parsed)}")
        ident = entry.get("id")
        if ident is not None and (not isinstance(ident, str) or not ident):
            raise ReplyError(f"{at}.id: expected a non-empty string")
        text = arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode()
        calls.append(ToolCall(entry["name"], text, ident))
    return tuple(calls)


def _embedding(value: Any, where: str) -> tuple[tuple[float, ...], ...] | None:
    if value is None:
        return None
    vectors = value if isinstance(value, list) and value and all(isinstance(v, list) for v in value) else [value]
    for index, vector in enumerate(vectors):
        if not isinstance(vector, list) or not vector or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in vector):
            at = f"{where}.embedding" + (f"[{index}]" if len(vectors) > 1 else "")
            raise ReplyError(f"{at}: expected a non-empty list of numbers (or a list of such vectors, one per input)")
    return tuple(tuple(float(x) for x in vector) for vector in vectors)


def _error(data: dict[str, Any], where: str, status: int | None) -> ErrorReply | None:
    value = data.get("error")
    message = data.get("message")
    if message is not None and not isinstance(message, str):
        raise ReplyError(f"{where}.message: expected a string")
    if value is None:
        if status is not None and status >= 400 and data.get("body") is None:
            return ErrorReply(message or f"injected fault: HTTP {status}")
        if message is not None:
            raise ReplyError(f"{where}.message: says what an error reply reports; give a status of 400 or more (or an error)")
        return None
    if isinstance(value, str):
        return ErrorReply(value)
    if not isinstance(value, dict) or not isinstance(value.get("message"), str):
        raise ReplyError(f"{where}.error: expected a message, or an object with a message (and type, code, param)")
    unknown = set(value) - {"message", "type", "code", "param"}
    if unknown:
        raise ReplyError(f"{where}.error: unknown fields {', '.join(sorted(unknown))}; allowed: message, type, code, param")
    for name in ("type", "param"):
        if value.get(name) is not None and not isinstance(value[name], str):
            raise ReplyError(f"{where}.error.{name}: expected a string")
    code = value.get("code")
    if code is not None and not isinstance(code, (str, int)):
        raise ReplyError(f"{where}.error.code: expected a string or an integer")
    return ErrorReply(value["message"], value.get("type"), code, value.get("param"))


def _task(data: dict[str, Any], where: str) -> TaskOutcome | None:
    value = data.get("task")
    short = data.get("fail_task")
    if short is not None:
        if value is not None:
            raise ReplyError(f"{where}: give fail_task or task, not both")
        value = {"fail": short}
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        raise ReplyError(f'{where}.task: expected {{"fail": reason}} or {{"images" | "audio" | "videos": [URL, ...]}}')
    unknown = set(value) - {"fail", *MEDIA_KINDS}
    if unknown:
        raise ReplyError(f"{where}.task: unknown fields {', '.join(sorted(unknown))}; allowed: fail, {', '.join(MEDIA_KINDS)}")
    if "fail" in value:
        if len(value) > 1:
            raise ReplyError(f"{where}.task: a failing task hands out no media; give fail alone")
        if not isinstance(value["fail"], str) or not value["fail"]:
            raise ReplyError(f"{where}.task.fail: expected the failure reason (a non-empty string)")
        return TaskOutcome(fail=value["fail"])
    urls = {}
    for kind in MEDIA_KINDS:
        given = value.get(kind)
        if given is None:
            continue
        given = [given] if isinstance(given, str) else given
        if not isinstance(given, list) or not given or not all(isinstance(u, str) and u.startswith(("http://", "https://")) for u in given):
            raise ReplyError(f"{where}.task.{kind}: expected http(s) URLs (a string or a list)")
        urls[kind] = tuple(given)
    return TaskOutcome(urls=urls)
