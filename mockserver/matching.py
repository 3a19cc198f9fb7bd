"""A rule's ``match``: conditions on a request, compiled once and tested per request, all ANDed.

Text conditions (``user_message``, ``system_message``, ``tool_result``, ``input_text``) take a substring
or a ``/regex/`` (flags after the slash: ``/hello/i``), or a list of them that must all hold. Name
conditions (``model``, ``tool_name``, ``api_key``, ``namespace``) take an exact name, a glob
(``gpt-4o*``) or a ``/regex/``. Whatever a format calls these things, ``conversation.read`` finds them.
``header`` and ``query`` map names to a text condition (or true / false: present / absent);
``body`` maps JSON paths to a value condition: a text condition for strings, equality for anything
else, ``{"exists": bool}`` or ``{"equals": value}``. ``sequence_index`` (the nth call that meets the
other conditions, from 0) is counted by the rule book, which alone knows the order of calls.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from .jsonpath import JsonPath, JsonPathError

if TYPE_CHECKING:
    from .conversation import Facts
    from .pipeline import Call

_REGEX = re.compile(r"^/(.*)/([imsx]*)$", re.S)
_FLAGS = {"i": re.I, "m": re.M, "s": re.S, "x": re.X}

Condition = Callable[["Call"], bool]


class MatchError(ValueError):
    """A condition that cannot be understood; the message names it."""


def _regex(spec: str, where: str) -> re.Pattern[str] | None:
    found = _REGEX.match(spec)
    if found is None or len(spec) < 2:
        return None
    flags = 0
    for letter in found.group(2):
        flags |= _FLAGS[letter]
    try:
        return re.compile(found.group(1), flags)
    except re.error as exc:
        raise MatchError(f"{where}: {spec!r} is not a valid regular expression ({exc})") from None


def text_test(spec: Any, where: str) -> Callable[[str | None], bool]:
    """A substring or /regex/ (or a list of them, all required) as a test on a text that may be absent."""
    if isinstance(spec, list) and spec and all(isinstance(s, str) for s in spec):
        tests = [text_test(s, where) for s in spec]
        return lambda text: all(test(text) for test in tests)
    if not isinstance(spec, str):
        raise MatchError(f"{where}: expected a string (substring or /regex/) or a list of strings, got {_shown(spec)}")
    pattern = _regex(spec, where)
    if pattern is not None:
        return lambda text: text is not None and pattern.search(text) is not None
    return lambda text: text is not None and spec in text


def name_test(spec: Any, where: str) -> Callable[[str | None], bool]:
    """An exact name, a glob or a /regex/ as a test on a name that may be absent."""
    if not isinstance(spec, str) or not spec:
        raise MatchError(f"{where}: expected a name, a glob or a /regex/, got {_shown(spec)}")
    pattern = _regex(spec, where)
    if pattern is not None:
        return lambda name: name is not None and pattern.search(name) is not None
    if any(ch in spec for ch in "*?["):
        return lambda name: name is not None and fnmatch.fnmatchcase(name, spec)
    return lambda name: name == spec


def _value_test(spec: Any, where: str) -> Callable[[list[Any]], bool]:
    """A condition on the values a JSON path reaches: any one of them satisfying it is enough."""
    if isinstance(spec, dict) and len(spec) == 1 and "exists" in spec:
        wanted = spec["exists"]
        if not isinstance(wanted, bool):
            raise MatchError(f"{where}.exists: expected true or false")
        return lambda values: bool(values) == wanted
    if isinstance(spec, dict) and len(spec) == 1 and "equals" in spec:
        expected = spec["equals"]
        return lambda values: any(_same(v, expected) for v in values)
    if isinstance(spec, str):
        test = text_test(spec, where)
        return lambda values: any(isinstance(v, str) and test(v) for v in values)
    return lambda values: any(_same(v, spec) for v in values)


def _same(value: Any, expected: Any) -> bool:
    # JSON equality: true is not 1, 1 is 1.0.
    if isinstance(value, bool) or isinstance(expected, bool):
        return type(value) is type(expected) and value == expected
    return bool(value == expected)


def _shown(value: Any) -> str:
    return orjson.dumps(value).decode()[:80] if value is not None else "null"


def _facts(call: Call) -> Facts:
    return call.facts


def _compile(name: str, spec: Any) -> Condition:
    where = f"match.{name}"
    if name in ("user_message", "system_message", "tool_result", "input_text"):
        test = text_test(spec, where)
        return lambda call: test(getattr(_facts(call), name))
    if name == "model":
        named = name_test(spec, where)
        return lambda call: named(_facts(call).model)
    if name == "tool_name":
        named = name_test(spec, where)
        return lambda call: any(named(tool) for tool in _facts(call).tool_names)
    if name == "tool_call_id":
        named = name_test(spec, where)
        return lambda call: any(named(ident) for ident in _facts(call).tool_call_ids)
    if name == "has_tool_result":
        if not isinstance(spec, bool):
            raise MatchError(f"{where}: expected true or false")
        return lambda call: _facts(call).has_tool_result == spec
    if name == "turn_index":
        if not isinstance(spec, int) or isinstance(spec, bool) or spec < 0:
            raise MatchError(f"{where}: expected a non-negative integer (assistant turns before this request)")
        return lambda call: _facts(call).assistant_turns == spec
    if name == "api_key":
        named = name_test(spec, where)
        return lambda call: named(call.api_key)
    if name == "namespace":
        named = name_test(spec, where)
        return lambda call: named(call.state.namespace)
    if name in ("header", "query"):
        return _mapping_condition(name, spec)
    if name == "body":
        return _body_condition(spec)
    raise MatchError(f"unknown condition match.{name}; known: {', '.join(sorted(CONDITIONS))}")


def _mapping_condition(name: str, spec: Any) -> Condition:
    if not isinstance(spec, dict) or not spec:
        raise MatchError(f"match.{name}: expected an object of {name} names to conditions")
    tests: list[tuple[str, Callable[[str | None], bool]]] = []
    for key, wanted in spec.items():
        where = f"match.{name}.{key}"
        if isinstance(wanted, bool):
            tests.append((key, (lambda value, present=wanted: (value is not None) == present)))
        else:
            tests.append((key, text_test(wanted, where)))
    if name == "header":
        return lambda call: all(test(call.headers.get(key)) for key, test in tests)

    def query(call: Call) -> bool:
        return all(test(_query_text(call.query.get(key))) for key, test in tests)

    return query


def _query_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _body_condition(spec: Any) -> Condition:
    if not isinstance(spec, dict) or not spec:
        raise MatchError('match.body: expected an object of JSON paths to conditions, e.g. {"$.prompt": "/lighthouse/"}')
    tests: list[tuple[JsonPath, Callable[[list[Any]], bool]]] = []
    for path, wanted in spec.items():
        try:
            tests.append((JsonPath(path), _value_test(wanted, f"match.body[{path!r}]")))
        except JsonPathError as exc:
            raise MatchError(f"match.body: {exc}") from None
    return lambda call: all(test(path.values(call.body)) for path, test in tests)


CONDITIONS = frozenset(
    {
        "model",
        "user_message",
        "system_message",
        "tool_name",
        "tool_call_id",
        "tool_result",
        "has_tool_result",
        "turn_index",
        "input_text",
        "header",
        "query",
        "api_key",
        "namespace",
        "body",
        "sequence_index",
    }
)
CONVERSATION = frozenset({"user_message", "system_message", "tool_name", "tool_call_id", "tool_result", "has_tool_result", "turn_index"})
"""Conditions only a request with a conversation (a chat-like format) can meet."""


class Match:
    """The compiled ``match`` of one rule; ``spec`` is kept as given, so the rule stays plain data."""

    def __init__(self, spec: Any) -> None:
        if not isinstance(spec, dict):
            raise MatchError(f"match: expected an object of conditions, got {_shown(spec)}")
        self.spec = dict(spec)
        sequence = spec.get("sequence_index")
        if sequence is not None and (not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0):
            raise MatchError("match.sequence_index: expected a non-negative integer (0 is the first matching call)")
        self.sequence_index: int | None = sequence
        self.conditions = [_compile(name, value) for name, value in spec.items() if name != "sequence_index"]
        self.needs_conversation = bool(CONVERSATION & spec.keys())
        self.needs_input = "input_text" in spec
        # Rules with the same conditions but different sequence_index count their calls together.
        others = {k: v for k, v in spec.items() if k != "sequence_index"}
        self.group = orjson.dumps(others, option=orjson.OPT_SORT_KEYS).decode()

    def __call__(self, call: Call) -> bool:
        return all(condition(call) for condition in self.conditions)

    def __repr__(self) -> str:
        return f"Match({self.spec!r})"
