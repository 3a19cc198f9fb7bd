"""Drift: what recorded traffic did that the contracts do not say, and the patch that would make them say it.

Every cassette is read against its contract: the request body (when the upstream accepted it), the
answer's status and media type, its body, every event of a stream, every WebSocket frame, and the
status words its task went through. Each way they part is a *case* (``schema_walk`` finds them),
counted over all recordings. ``drift_patch.proposal`` turns the cases into JSON Patch operations on
the file each fix belongs in (a contract, a family's ``_defs.json``, ``_lifecycles.json``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import parsing, sse
from ..absent import drop_absent
from ..contracts import BASE_URI, Contract, ContractRegistry
from ..errors import ApiError
from ..lifecycles import parse_lifecycles
from ..responses import BodyReader, ResponseJudge
from .cassette import Cassette, body_value, chunk_bytes
from .schema_walk import Finding, Loc, SchemaWalker

LIFECYCLES_FILE = "_lifecycles.json"
REQUEST_MEDIA = (parsing.JSON, parsing.MULTIPART, parsing.URLENCODED)
MAX_VALUES = 20  # values kept per case, to infer a schema from; enough to see the variety
MAX_NAMED = 5  # cassettes named per case


@dataclass
class Case:
    """One way traffic parted from a contract, at one place, with how often it happened."""

    contract: str
    kind: str
    where: str
    detail: str
    target: Loc | None = None
    name: str = ""
    count: int = 0
    exchanges: list[str] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def saw(self, cassette: str, value: Any) -> None:
        self.count += 1
        if cassette not in self.exchanges:
            self.exchanges.append(cassette)
        if len(self.values) < MAX_VALUES and value is not None:
            self.values.append(value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "kind": self.kind,
            "where": self.where,
            "finding": self.detail,
            "count": self.count,
            "exchanges": len(self.exchanges),
            "seen_in": self.exchanges[:MAX_NAMED],
            "schema": str(self.target) if self.target else None,
        }


class Drift:
    """Reads cassettes into cases; ``patches()`` proposes the fix per file."""

    def __init__(self, registry: ContractRegistry) -> None:
        self.registry = registry
        self.walker = SchemaWalker(registry)
        self.lifecycles = parse_lifecycles(registry.documents.get(LIFECYCLES_FILE, {}))
        self.cases: dict[tuple[Any, ...], Case] = {}
        self.read = 0
        self._statuses: dict[tuple[str, str], list[tuple[float, Any, str, str]]] = {}
        """(lifecycle, task id) -> (when, status word, cassette, contract) per poll."""

    def add_all(self, cassettes: Iterable[Cassette]) -> Drift:
        for cassette in cassettes:
            self.add(cassette)
        self._status_words()
        return self

    @property
    def found(self) -> list[Case]:
        return sorted(self.cases.values(), key=lambda c: (c.contract, -c.count, c.kind, c.detail))

    # ---- reading one exchange ----

    def add(self, cassette: Cassette) -> None:
        self.read += 1
        request = cassette.request
        contract = self.registry.contracts.get(cassette.contract or "")
        if contract is None:
            what = f"{request['method']} {request['path']}"
            self._case(cassette, (cassette.contract or "(none)", "no_contract", what), "no_contract", "route", f"{what}: no contract describes it" if cassette.contract is None else f"{what}: recorded as {cassette.contract}, which no contract has", contract=cassette.contract or "(none)")
            return
        file = contract.uri[len(BASE_URI) :]
        judge = ResponseJudge(contract, self.registry)
        accepted = upstream_accepted(cassette, judge)
        body = request_body(cassette)
        refused_media = unaccepted_media(cassette, contract)
        if accepted and refused_media is not None:
            self._case(cassette, (contract.id, "new_request_media", refused_media), "new_request_media", "request", f"the upstream accepted a {refused_media or '(no type)'} body; the contract takes {', '.join(contract.content_types)}", contract=contract.id, extra={"media": refused_media})
        elif accepted and body is not None and "body" in contract.request:
            self._walk(cassette, contract, drop_absent(body, contract.absent_values), Loc(file, ("request", "body")), "request body")
        if cassette.frames:
            self._frames(cassette, contract, file)
        else:
            self._response(cassette, contract, file, judge)
        task = cassette.task
        if task and task.get("role") == "poll" and "status" in task and task.get("lifecycle") in self.lifecycles:
            self._statuses.setdefault((task["lifecycle"], task["id"]), []).append((cassette.started_at, task["status"], cassette.name, contract.id))

    def _response(self, cassette: Cassette, contract: Contract, file: str, judge: ResponseJudge) -> None:
        status, media = cassette.status, cassette.media_type.split(";", 1)[0].strip().lower()
        key = contract.response_key(status)
        if key is None:
            self._case(cassette, (contract.id, "new_status", status, media), "new_status", f"response {status}", f"status {status} ({media or 'no body'}) is not among the contract's responses", contract=contract.id, value=self._sample(cassette, media), extra={"status": status, "media": media})
            return
        content = contract.responses[key]["content"]
        if media not in content:
            self._case(cassette, (contract.id, "new_media", key, media), "new_media", f"response {status}", f"content type {media or '(none)'} is not declared for {key}", contract=contract.id, value=self._sample(cassette, media), extra={"key": key, "media": media})
            return
        entry = content[media]
        where = Loc(file, ("responses", key, "content", media))
        if "schema" in entry:
            value = _answer_json(cassette) if media.endswith("json") else body_value(cassette.response.get("body"))
            if value is None and media.endswith("json"):
                return  # not JSON at all: the verdict says so; there is no shape to learn from
            self._body(cassette, contract, value, where.child("schema"), status, key, media, judge)
        elif "sse" in entry:
            self._stream(cassette, contract, entry["sse"], where.child("sse"), status)

    def _body(self, cassette: Cassette, contract: Contract, value: Any, loc: Loc, status: int, key: str, media: str, judge: ResponseJudge) -> None:
        findings = self.walker.walk(value, loc)
        reshaped = judge.is_error(status, media, value) and any(f.path == "" and f.kind in ("missing_required", "type_change") for f in findings)
        if reshaped:  # a different error body altogether: an alternative shape, not a loosened old one
            shape = tuple(sorted(value)) if isinstance(value, dict) else (type(value).__name__,)
            self._case(cassette, (contract.id, "new_error_shape", key, media, shape), "new_error_shape", f"response {status} body", f"an error body shaped {{{', '.join(shape)}}} that the {key} schema does not describe", target=loc, contract=contract.id, value=value)
            return
        self._record(cassette, contract, findings, f"response {key} body")

    def _stream(self, cassette: Cassette, contract: Contract, declared: dict[str, Any], loc: Loc, status: int) -> None:
        reader = sse.EventReader()
        events: list[sse.ReceivedEvent] = []
        try:
            for _, chunk in cassette.response_chunks():
                events += reader.feed(chunk.decode("utf-8", errors="replace"))
        except sse.SseFramingError:
            pass  # the verdict names the framing error; the events before it still teach
        terminator = declared.get("terminator")
        named_by = declared.get("named_by")
        for event in events:
            if event.data == terminator:
                continue
            try:
                payload = event.json()
            except ValueError:
                continue
            self._record(cassette, contract, self.walker.walk(payload, loc.child("event"), event=True), f"response {status} event")
            said = payload.get(named_by) if named_by and isinstance(payload, dict) else event.event
            if said != event.event:  # no patch: the contract is right that names follow the payload
                detail = f"an event named {event.event!r} whose payload's {named_by} is {said!r}"
                self._case(cassette, (contract.id, "event_name", event.event, said), "event_name", f"response {status} event", detail, contract=contract.id)
        if terminator is not None and (not events or events[-1].data != terminator):
            self._case(cassette, (contract.id, "terminator_missing", loc), "terminator_missing", f"response {status} stream", f"the stream does not end with data: {terminator}", target=loc.child("terminator"), contract=contract.id)

    def _frames(self, cassette: Cassette, contract: Contract, file: str) -> None:
        key = contract.response_key(101)
        content = contract.responses.get(key or "", {}).get("content", {})
        media = next((m for m, entry in content.items() if "websocket" in entry), None)
        if media is None:
            return
        loc = Loc(file, ("responses", key, "content", media, "websocket"))  # type: ignore[arg-type]
        for frame in cassette.frames:
            value = body_value(frame)
            if isinstance(value, (dict, list)):
                side = "server_event" if frame.get("from") == "server" else "client_event"
                self._record(cassette, contract, self.walker.walk(value, loc.child(side), event=True), f"{frame.get('from')} frame")

    def _status_words(self) -> None:
        for (name, _task), seen in self._statuses.items():
            lifecycle = self.lifecycles[name]
            previous = None
            for _, status, cassette, contract in sorted(seen, key=lambda s: s[0]):
                if lifecycle.rank(status) is None:
                    key = (contract, "unknown_status_word", name, status)
                    case = self.cases.get(key) or self.cases.setdefault(
                        key,
                        Case(contract, "unknown_status_word", f"lifecycle {name}", f"status word {status!r} is not in the {name} lifecycle", Loc(LIFECYCLES_FILE, (name, "order")), extra={"after": previous}),
                    )
                    case.saw(cassette, status)
                previous = status

    # ---- bookkeeping ----

    def _walk(self, cassette: Cassette, contract: Contract, value: Any, loc: Loc, where: str) -> None:
        self._record(cassette, contract, self.walker.walk(value, loc), where)

    def _record(self, cassette: Cassette, contract: Contract, findings: list[Finding], where: str) -> None:
        for finding in findings:
            # Each value never listed, each new type and each new case is a case of its own.
            distinct = finding.case if finding.kind in ("enum_value", "const_value", "type_change", "new_variant") else None
            key = (contract.id, finding.kind, finding.target, finding.name, _hashable(distinct))
            detail = Finding(finding.kind, _generic(finding.path), finding.target, finding.name, finding.value).describe()
            kept = None if finding.kind == "type_change" else finding.value
            self._case(cassette, key, finding.kind, where, detail, target=finding.target, name=finding.name, contract=contract.id, value=kept, extra={"type": finding.value} if finding.kind == "type_change" else None)

    def _case(self, cassette: Cassette, key: tuple[Any, ...], kind: str, where: str, detail: str, *, contract: str, target: Loc | None = None, name: str = "", value: Any = None, extra: dict[str, Any] | None = None) -> None:
        case = self.cases.get(key)
        if case is None:
            case = self.cases[key] = Case(contract, kind, where, detail, target, name, extra=extra or {})
        case.saw(cassette.name, value)

    def _sample(self, cassette: Cassette, media: str) -> Any:
        if media == "text/event-stream":
            text = b"".join(chunk_bytes(c) for c in cassette.response.get("body", {}).get("stream", [])).decode("utf-8", "replace")
            try:
                return [e.json() for e in sse.parse(text) if e.data.startswith(("{", "["))]
            except (sse.SseFramingError, ValueError):
                return []
        return _answer_json(cassette) if media.endswith("json") else None


def disagreements(cassette: Cassette, registry: ContractRegistry) -> list[str]:
    """Where a recording and ``registry`` (the contracts as they are, or as patched) disagree: the
    answer's violations, and the request's where the upstream accepted it (a request both refuse is
    agreement). Empty when the contracts describe what was recorded."""
    contract = registry.contracts.get(cassette.contract or "")
    if contract is None:
        return [f"no contract {cassette.contract!r}"] if cassette.contract else ["no contract describes this request"]
    found: list[str] = []
    judge = ResponseJudge(contract, registry)
    if upstream_accepted(cassette, judge):
        body = request_body(cassette)
        refused_media = unaccepted_media(cassette, contract)
        if refused_media is not None:
            found.append(f"request: content type {refused_media or '(none)'} is not one of {', '.join(contract.content_types)}")
        elif body is not None and "body" in contract.request:
            check = registry.check(contract.pointer("request", "body"))
            found += [f"request body {v}" for v in check.violations(drop_absent(body, contract.absent_values))]
    if cassette.frames:
        counts = {"client": 0, "server": 0}
        for frame in cassette.frames:
            side = "server" if frame.get("from") == "server" else "client"
            value = body_value(frame)
            if isinstance(value, (dict, list)):
                found += [f"{side} {v}" for v in judge.frame_violations(101, value, counts[side], side="server_event" if side == "server" else "client_event")]
            counts[side] += 1
        return found
    reader = BodyReader(judge, cassette.status, cassette.media_type, found)
    for _, chunk in cassette.response_chunks():
        reader.feed(chunk)
    reader.finish()
    return found


def upstream_accepted(cassette: Cassette, judge: ResponseJudge) -> bool:
    """Whether the upstream took the request (a WebSocket session, or an answer that is no error)."""
    if cassette.frames:
        return True
    return cassette.status < 400 and not judge.is_error(cassette.status, cassette.media_type, _answer_json(cassette))


def unaccepted_media(cassette: Cassette, contract: Contract) -> str | None:
    """The request's media type when the contract does not take it (as the mock would refuse it), else None."""
    declared = (cassette.request.get("headers") or {}).get("content-type")
    if cassette.request.get("body") is None:
        return None
    try:
        parsing.check_content_type(declared, contract.content_types, has_body=True)
    except ApiError:
        return parsing.media_type_of(declared)
    return None


def request_body(cassette: Cassette) -> Any:
    """The recorded request body as validation sees it (an uploaded file as its name)."""
    value = body_value(cassette.request.get("body"))
    if isinstance(value, dict) and "form" in (cassette.request.get("body") or {}):
        return {k: v[0]["filename"] if _is_upload(v) else v for k, v in value.items()}
    return value


def _is_upload(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict) and "sha256" in value[0]


def _answer_json(cassette: Cassette) -> Any:
    record = cassette.response.get("body") or {}
    return record.get("json")


def _generic(path: str) -> str:
    """``/choices/3/delta`` -> ``/choices/*/delta``: one case for every item of an array."""
    return re.sub(r"/\d+(?=/|$)", "/*", path)


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, (dict, list)) else value
