"""When a request is "the same" as a recorded one: the normalising rules replay matches by.

1. The contract must be the same (route and variant, as the mock picks them).
2. Method and path must be equal (task ids in paths come from replayed answers, so they match).
3. Query strings are compared as name -> value(s); key parameters (``key``, …) are left out.
4. Bodies are compared as data: key order and spacing do not matter. Before comparing, both sides drop
   - the values the relay reads as "not given" (the contract's ``absent_values``),
   - members whose name says they differ on every run, at any depth: ``timestamp``, ``created``,
     ``created_at``, ``request_id``, ``nonce``, ``event_id`` (and any the operator adds),
   - the contract's callback URL field (``notifyHook``, ``callback_url`` …: a test's listener port),
   and every string that is a UUID reads as ``<uuid>`` (ids a client makes up afresh each run).
   A multipart file is compared by its size and SHA-256, not its name.
5. Headers are not compared (keys, user agents and request ids differ on every run).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..absent import drop_absent
from ..contracts import Contract

IGNORED_FIELDS = frozenset({"timestamp", "created", "created_at", "request_id", "nonce", "event_id"})
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAX_DIFFERENCES = 5


class Normaliser:
    def __init__(self, ignored: Iterable[str] = (), secret_query: Iterable[str] = ()) -> None:
        self.ignored = IGNORED_FIELDS | frozenset(ignored)
        self.secret_query = frozenset(name.lower() for name in secret_query)

    def request(self, contract: Contract, method: str, path: str, query: dict[str, Any], body: Any) -> dict[str, Any]:
        """What a request is compared by: ``{"method", "path", "query", "body"}``, normalised."""
        ignored = self.ignored | _callback_field(contract)
        return {
            "method": method.upper(),
            "path": path,
            "query": {k: _query_value(v) for k, v in query.items() if k.lower() not in self.secret_query and k not in ignored},
            "body": _strip(drop_absent(body, contract.absent_values), ignored),
        }


def differences(recorded: Any, sent: Any, where: str = "", found: list[str] | None = None) -> list[str]:
    """Where two normalised requests differ, as ``place: recorded X, sent Y`` (the first few)."""
    found = [] if found is None else found
    if len(found) >= MAX_DIFFERENCES:
        return found
    if isinstance(recorded, dict) and isinstance(sent, dict):
        for key in list(recorded) + [k for k in sent if k not in recorded]:
            if key not in sent:
                found.append(f"{where}/{key}: recorded {_short(recorded[key])}, not sent")
            elif key not in recorded:
                found.append(f"{where}/{key}: sent {_short(sent[key])}, not recorded")
            else:
                differences(recorded[key], sent[key], f"{where}/{key}", found)
            if len(found) >= MAX_DIFFERENCES:
                break
    elif isinstance(recorded, list) and isinstance(sent, list) and len(recorded) == len(sent):
        for index, (a, b) in enumerate(zip(recorded, sent)):
            differences(a, b, f"{where}/{index}", found)
    elif recorded != sent:
        found.append(f"{where or '/'}: recorded {_short(recorded)}, sent {_short(sent)}")
    return found


def _callback_field(contract: Contract) -> frozenset[str]:
    callback = contract.document.get("callback")
    return frozenset({callback["field"]}) if callback else frozenset()


def _query_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_query_value(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _strip(value: Any, ignored: frozenset[str]) -> Any:
    if isinstance(value, dict):
        if {"filename", "size", "sha256"} <= value.keys():  # a described file upload
            return {"size": value["size"], "sha256": value["sha256"]}
        return {k: _strip(v, ignored) for k, v in value.items() if k not in ignored}
    if isinstance(value, list):
        return [_strip(v, ignored) for v in value]
    if isinstance(value, str) and UUID.match(value):
        return "<uuid>"
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"
