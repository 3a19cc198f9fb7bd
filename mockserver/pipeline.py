"""The request's path through the mock, one step each:

route -> variant by headers / query -> auth -> parse -> variant by body -> validate -> route the model
-> [quota] admit -> steering [-> faults, physics] -> handler
-> [strict] check the reply against the contract -> journal -> send [-> quota settles].

Everything a step needs from a contract is prepared once, in ``Prepared``; the per-request work is
lookups and compiled validators.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import inspect
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from . import conversation, errors, namespaces, parsing, sse
from .canned import Canned
from .compaction import compact
from .contracts import Contract
from .conversation import Facts
from .families import is_stateless
from .errors import ApiError, ErrorContext
from .examples import find_example, reply_from_example
from .faults.delivery import Delivery
from .faults.desk import FAULT_NOTE
from .headers import HeaderMap
from .ids import request_id, request_id_headers, request_id_raw_headers
from .journal import JournalEntry, Timeline
from .metrics import NO_CONTRACT, NO_NAMESPACE, Metrics
from .quota.desk import Admission, admit
from .replies import BinaryReply, JsonReply, Reply, SseEvent, StreamReply, TextReply
from .responses import ResponseJudge
from .routing import Router
from .state import MockState, NamespaceState
from .steering import SCENARIO_HEADERS, Rule, ScenarioError, Taken, parse_scenario
from .store import DEFAULT_NAMESPACE, Entered, StoreUnavailable
from .variants import VariantPicker

log = logging.getLogger("gptnb_mock")
# A header by its lower-case name (as ASGI servers give them), without HeaderMap's case folding: the
# pipeline's own lookups run several times a request and always spell the name in lower case.
_HEADER = dict.get
REPLIES = (JsonReply, TextReply, BinaryReply, StreamReply)
CLIENT_CLOSED = 499  # journalled (never sent) for a client that left before its answer, as nginx logs it


class ClientGone(Exception):
    """The client disconnected while the mock was still waiting to answer."""


@dataclass
class Call:
    """One request as a handler sees it: already authenticated, parsed and validated."""

    contract: Contract
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, Any]
    headers: HeaderMap
    body: Any
    files: dict[str, list[parsing.Upload]]
    api_key: str | None
    scope: Scope
    """The ASGI scope it came with (where links to the mock point: see ``base_url``)."""
    request_id: str
    state: NamespaceState
    extras: dict[str, Any] = field(default_factory=dict)
    rule: Rule | None = None
    """The steering rule that answers, if one does."""
    canned: Canned | None = None
    """The steering rule's reply this handler renders (an assistant turn, an embedding, a task outcome)."""

    @functools.cached_property
    def facts(self) -> Facts:
        """What the request says (model, last user message, tools ...), read once when a rule asks."""
        return conversation.read(self)

    @functools.cached_property
    def base_url(self) -> str:
        """Where links the mock hands out point: the host the request came to, in its namespace (worked
        out when a handler first asks: most never do)."""
        return base_url(self.scope, self.headers, self.state.namespace)

    @property
    def seed(self) -> int:
        """The request's own ``seed`` when it has one, else the instance's."""
        seed = self.body.get("seed") if isinstance(self.body, dict) else None
        return seed if isinstance(seed, int) and not isinstance(seed, bool) else self.state.settings.seed

    @property
    def model(self) -> str | None:
        """The model the request names, in the field the relay routes on (body, or query for WebSockets)."""
        routing = self.contract.models
        source = self.body if isinstance(self.body, dict) else self.query
        model = source.get(routing.field) if routing is not None and isinstance(source, dict) else None
        return model if isinstance(model, str) else None

    def url_for(self, path: str) -> str:
        """An absolute URL on the host the request came in on, so any client can follow it."""
        return self.base_url + path


class Prepared:
    """What the pipeline needs of one contract, computed once."""

    def __init__(self, contract: Contract, state: MockState) -> None:
        registry = state.registry
        request = contract.request
        self.contract = contract
        self.checks = {
            part: registry.check(contract.pointer("request", part)) for part in ("path", "query", "headers", "body") if part in request
        }
        # Each part's validator itself (None: the contract says nothing of that part), for the common
        # request that passes them all.
        self.valid_path = self.checks["path"].is_valid if "path" in self.checks else None
        self.valid_query = self.checks["query"].is_valid if "query" in self.checks else None
        self.valid_headers = self.checks["headers"].is_valid if "headers" in self.checks else None
        self.valid_body = self.checks["body"].is_valid if "body" in self.checks else None
        self.form_schema = registry.resolve(contract.pointer("request", "body")) if "body" in request else None
        properties = (self.form_schema or {}).get("properties", {})
        self.file_fields = frozenset(n for n, p in properties.items() if isinstance(p, dict) and p.get("format") == "binary")
        self.query_schema = registry.resolve(contract.pointer("request", "query")) if "query" in request else None
        routing = contract.models
        self.known_models = frozenset(routing.known) if routing else frozenset()
        self.model_patterns = tuple(re.compile(p) for p in routing.patterns) if routing else ()
        self.model_in_path = routing is not None and routing.location == "path"
        self.handler = state.handlers.get(contract.id)
        self.stateless = is_stateless(contract.id)
        self.judge = ResponseJudge(contract, registry)
        # The auth carriers as the lookups need them: header names and prefixes in lower case.
        self.carriers = tuple((c.location, c.name.lower() if c.location == "header" else c.name, c.prefix.lower()) for c in contract.auth_carriers)

    def routes_model(self, model: str) -> bool:
        return model in self.known_models or any(p.search(model) for p in self.model_patterns)


class Pipeline:
    def __init__(self, state: MockState) -> None:
        self.state = state
        self.router = Router(state.registry)
        self.prepared = {c.id: Prepared(c, state) for c in state.registry}
        self.variants = VariantPicker(state.registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method = scope["method"]
        path = scope["path"]
        rid = request_id()
        headers = HeaderMap.from_scope(scope)
        raw_query = scope.get("query_string", b"")
        query_pairs = parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True) if raw_query else []
        reached: Contract | None = None  # the contract the request got to, for the journal and the error
        logged_body = None
        call: Call | None = None
        prepared: Prepared | None = None
        family: str | None = None
        namespace: str | None = None
        space: NamespaceState | None = None
        unconfirmed = False  # answered from the namespace as last read: confirmed when journalled
        admission: Admission | None = None
        delivery: Delivery | None = None
        refusal: Exception | None = None
        try:
            match = self.router.match(path, method)
            candidates = match.route.methods.get(method) if match else None
            if not candidates:
                raise ApiError(404, errors.NOT_FOUND, f"Invalid URL ({method} {path})")
            candidates = self.variants.by_request(candidates, headers, query_pairs)
            reached = candidates[-1]
            family = reached.errors
            api_key = self.authenticate(reached, headers, query_pairs)
            namespace = self.namespace_of(scope, headers, api_key)
            body, files, json_text = await self._read(reached, scope, receive, headers)
            size = len(json_text) if json_text is not None else _declared_length(headers)
            logged_body = compact(_journal_body(body, files), self.state.settings.journal_entry_bytes, size)
            absence = reached.absence
            if absence and (json_text is None or absence.may_be_in(json_text)):
                body = absence.drop(body)  # what the relay decodes as "not given" is gone before anyone looks
            prepared = self.prepared[self.variants.by_body(candidates, body).id]
            contract = reached = prepared.contract
            query = parsing.coerce_fields(query_pairs, prepared.query_schema) if query_pairs else {}
            if absence and query:
                query = absence.drop(query)
            self.validate(prepared, match.params, query, headers, body)
            if contract.kind == "websocket":
                raise ApiError(426, errors.INVALID_REQUEST, f"{path} is a WebSocket endpoint: send an Upgrade: websocket request")
            self.route_model(prepared, match.params if prepared.model_in_path else body)
            space = self._last_view(prepared, namespace)
            if space is None:
                space = await self.state.enter(namespace)
            else:
                unconfirmed = True
            call = Call(contract, method, path, match.params, query, headers, body, files, api_key, scope, rid, space)
            if space.quota:
                admission = await admit(call)
            reply, delivery = await self._answer(prepared, call, scope, receive, send)
        except ClientGone:  # left during a delay: nothing to send, nothing more to do
            if space is not None:
                gone = JournalEntry(0, space.clock.now(), method, path, reached.id if reached else None, dict(query_pairs), logged_body, CLIENT_CLOSED)
                gone.response = "(the client disconnected before the answer)"
                await _Recorder(space, gone, started, self.state.metrics).record_once()
            if admission is not None:
                await admission.close()
            return
        except Exception as exc:  # noqa: BLE001 (every failure becomes an answer; see answer_error)
            reply, refusal = self._refusal(exc, rid, call, reached, family, f"{method} {path}"), exc
        if space is None:
            space = await self.space_for_errors(scope, headers, namespace)
        while True:
            when = space.clock.now() if space is not None else time.time()
            entry = JournalEntry(0, when, method, path, reached.id if reached else None, dict(query_pairs), logged_body, reply.status)
            if call is not None:
                entry.fault = call.extras.get(FAULT_NOTE)
                if call.rule is not None:
                    entry.rule = call.rule.id or None  # a header's one-off rule has no id
            # The mock's word on its own steering is not an upstream answer: no contract judges it.
            if prepared is not None and self.state.settings.strict and not _steering(refusal):
                reply = prepared.judge.watch(reply, entry.violations)
            if admission is None:
                current = await self._send(reply, rid, entry, space, started, unconfirmed, scope, receive, send, delivery)
            else:
                current = await self._send_settled(admission, prepared, reply, rid, entry, space, started, scope, receive, send, delivery)
            if current is None:
                return
            # The namespace changed (a rule, the clock, the quota rules) since this process last read
            # it: nothing was sent or journalled, so the request is answered again from it as it is now.
            assert call is not None and prepared is not None
            space, unconfirmed, call.state, refusal = current, False, current, None
            try:
                if space.quota:
                    admission = await admit(call)
                reply, delivery = await self._answer(prepared, call, scope, receive, send)
            except ClientGone:
                if admission is not None:
                    await admission.close()
                return
            except Exception as exc:  # noqa: BLE001
                reply, refusal = self._refusal(exc, rid, call, reached, family, f"{method} {path}"), exc

    async def _send_settled(
        self, admission: Admission, prepared: Prepared | None, reply: Reply, rid: str, entry: JournalEntry, space: NamespaceState | None,
        started: float, scope: Scope, receive: Receive, send: Send, delivery: Delivery | None,
    ) -> None:
        """Send a reply the quota step admitted (read from the namespace as it is: never re-answered),
        then charge what it cost and free its gates."""
        reply = admission.watch(reply)
        body = reply.body if isinstance(reply, JsonReply) else None
        failed = reply.status >= 400 or (prepared is not None and body is not None and prepared.judge.is_error(reply.status, reply.media_type, body))
        try:
            await self._send(reply, rid, entry, space, started, False, scope, receive, send, delivery)
        finally:
            await admission.settle(body, failed)
            await admission.close()

    def _refusal(self, exc: Exception, rid: str, call: Call | None, reached: Contract | None, family: str | None, what: str) -> Reply:
        return errors.answer_error(exc, ErrorContext(self.state.settings, rid, call, reached), family, what)

    def _last_view(self, prepared: Prepared, namespace: str) -> NamespaceState | None:
        """The namespace as this process last read it, when the request may be answered from it (else
        None: the namespace is read first).

        A stateless handler with no steering or quota rule to honour may be answered from the last view:
        its journal entry is then written only if the namespace has not changed since (see ``_send``).
        Everything else reads the namespace first, and so does every request while recordings replay
        (choosing one marks it played, which an answer given again must not do twice) or serve-wide
        faults or physics are on (chaos draws are counted in the store)."""
        if prepared.stateless and self.state.replay is None and self.state.faults.idle:
            seen = self.state.last_seen(namespace)
            if seen is not None and not seen.rules.rules and not seen.quota:
                return seen
        return None

    def namespace_of(self, scope: Scope, headers: HeaderMap, api_key: str | None) -> str:
        try:
            return namespaces.of_request(scope, headers, api_key, self.state.settings)
        except namespaces.NamespaceError as exc:
            raise ApiError(400, errors.INVALID_REQUEST, f"Invalid {namespaces.HEADER} header: {exc}") from None

    async def enter(self, scope: Scope, headers: HeaderMap, api_key: str | None) -> NamespaceState:
        return await self.state.enter(self.namespace_of(scope, headers, api_key))

    async def space_for_errors(self, scope: Scope, headers: HeaderMap, namespace: str | None = None) -> NamespaceState | None:
        """Where a request refused before its namespace was read is journalled (None: nowhere)."""
        try:
            return await self.state.enter(namespace) if namespace else await self.enter(scope, headers, None)
        except (ApiError, StoreUnavailable):
            return None

    def authenticate(self, contract: Contract, headers: HeaderMap, query: list[tuple[str, str]]) -> str | None:
        key = None
        for location, name, prefix in self.prepared[contract.id].carriers:
            raw = _carried(location, name, headers, query)
            if raw is None:
                continue
            if prefix and raw[: len(prefix)].lower() == prefix:
                raw = raw[len(prefix) :]
            elif prefix and location == "header" and name == "authorization" and " " in raw.strip():
                continue  # another scheme (Basic ...) is not a key
            if raw.strip():
                key = raw.strip()
                break
        if key is None:
            if contract.auth_required:
                raise ApiError(401, errors.UNAUTHORIZED, "未提供令牌", code="")
            return None
        if self.state.settings.api_keys and not _known_key(key, self.state.settings.api_keys):
            raise ApiError(401, errors.UNAUTHORIZED, "无效的令牌", code="")
        return key

    async def _read(self, contract: Contract, scope: Scope, receive: Receive, headers: HeaderMap) -> tuple[Any, dict[str, list[parsing.Upload]], bytes | None]:
        """The body as data, its file uploads, and its text when it came as JSON."""
        raw = await parsing.read_body(receive, _HEADER(headers, "content-length"), self.state.settings.max_body_bytes)
        accepted = contract.content_types
        if not accepted:
            return None, {}, None
        media = parsing.check_content_type(_HEADER(headers, "content-type"), accepted, bool(raw))
        if media == parsing.JSON:
            if len(raw) <= parsing.OFF_LOOP_BYTES:  # nearly every body: no coroutine to await
                return parsing.parse_json_here(raw), {}, raw
            return await parsing.parse_json(raw, self.state.settings.worker_processes), {}, raw
        if not raw:
            return {}, {}, None
        fields, files = await parsing.parse_form(raw, headers.get("content-type", ""), media)
        prepared = self.prepared[contract.id]
        data = parsing.coerce_fields(fields, prepared.form_schema)
        for name in prepared.file_fields & data.keys():
            raise ApiError(400, errors.INVALID_REQUEST, f"Invalid request: {name} must be a file upload, not a text field", param=name)
        for name, uploads in files.items():
            # Validation sees a file as its name; a text value where a file belongs is caught below.
            data[name] = uploads[0].filename
        return data, files, None

    def validate(self, prepared: Prepared, params: dict[str, str], query: dict[str, Any], headers: HeaderMap, body: Any) -> None:
        if (
            (prepared.valid_body is None or prepared.valid_body(body))
            and (prepared.valid_headers is None or prepared.valid_headers(headers))
            and (prepared.valid_query is None or prepared.valid_query(query))
            and (prepared.valid_path is None or prepared.valid_path(params))
        ):
            return
        checks = prepared.checks
        problems = []
        if "path" in checks:
            problems += [("path", v) for v in checks["path"].violations(params)]
        if "query" in checks:
            problems += [("query", v) for v in checks["query"].violations(query)]
        if "headers" in checks:
            problems += [("header", v) for v in checks["headers"].violations(headers)]
        if "body" in checks:
            problems += [("body", v) for v in checks["body"].violations(body)]
        if problems:
            where, first = problems[0]
            field_name = first.path or None
            raise ApiError(
                400,
                errors.INVALID_REQUEST,
                f"Invalid request: {where} {field_name or '(root)'}: {first.message}",
                param=first.field,
                code="invalid_request",
                extra={"violations": [f"{w}: {v}" for w, v in problems], "keyword": first.keyword, "where": where},
            )

    def route_model(self, prepared: Prepared, fields: Any) -> None:
        """``fields``: where the model travels (the body, the path parameters or the query)."""
        routing = prepared.contract.models
        if routing is None or not isinstance(fields, dict):
            return
        model = fields.get(routing.field)
        if isinstance(model, str) and not prepared.routes_model(model):
            raise errors.no_channel(self.state.settings.group, model)

    async def _answer(self, prepared: Prepared, call: Call, scope: Scope, receive: Receive, send: Send) -> tuple[Reply, Delivery | None]:
        # Without rules (the common case) only the request's own scenario header may steer: nothing to await.
        taken = await self.steering_rule(call) if call.state.rules.rules else _scenario(call.headers)
        delivery = None
        faults = self.state.faults
        if taken is not None or not faults.idle:  # the common request skips faults altogether
            taken, delivery = await faults.steer(taken, call, scope, receive, send)
        delay = self.state.settings.latency_ms + (taken.rule.delay_ms if taken else 0)
        if delay:
            await _wait_for_client(delay / 1000, receive)
        reply = await self._steer(taken, call) if taken is not None else None
        if reply is None and self.state.replay is not None:  # recorded traffic answers before the fake (serve --replay)
            reply = await self.state.replay.answer(call)
        if reply is None:
            if prepared.handler is None:
                reply = _documented_reply(call.contract)
            else:
                result = prepared.handler(call)
                reply = result if isinstance(result, REPLIES) else await result
        if delivery is not None:
            reply = await delivery.prepare(reply)
        return reply, delivery

    async def steering_rule(self, call: Call) -> Taken | None:
        """The request's own scenario header, else the first of the namespace's rules that answers it."""
        taken = _scenario(call.headers)
        if taken is None and call.state.rules.rules:  # no rules (the common case): nothing to await
            taken = await call.state.rules.take(call)
        return taken

    async def _steer(self, taken: Taken, call: Call) -> Reply | None:
        """The rule's answer, or None when the handler answers (rendering the rule's reply, if any)."""
        rule, reply = taken.rule, taken.reply
        call.rule = rule
        call.canned = reply
        if rule.callback is not None:
            call.extras["callback_fault"] = rule.callback
        if rule.side_effect is not None:
            result = rule.side_effect(call)
            result = await result if inspect.isawaitable(result) else result
            if result is None:
                return None
            return result if isinstance(result, (JsonReply, TextReply, BinaryReply, StreamReply)) else JsonReply(result, status=200)
        if reply.example is not None:
            example = find_example(call.contract, reply.example)
            if example is None:
                names = ", ".join(e["name"] for e in call.contract.examples)
                raise ApiError(400, errors.STEERING, f"{call.contract.id} has no example {reply.example!r} (it has: {names})", code="invalid_request")
            return reply_from_example(example, call.contract)
        if reply.body is not None:
            return JsonReply(reply.body, status=reply.status or 200)
        if reply.error is not None:
            error = reply.error
            extra = {"type": error.type} if error.type else None
            raise ApiError(reply.status or 500, errors.FAULT, error.message, param=error.param, code=error.code, extra=extra)
        return None

    async def _send(
        self,
        reply: Reply,
        rid: str,
        entry: JournalEntry,
        space: NamespaceState | None,
        started: float,
        unconfirmed: bool,
        scope: Scope,
        receive: Receive,
        send: Send,
        delivery: Delivery | None,
    ) -> NamespaceState | None:
        """Journal the exchange, then answer: the entry is in the store before the client has the whole
        answer, so whatever it asks next (of any worker) sees it. For an ``unconfirmed`` view, when the
        namespace has changed since, nothing is sent or journalled and the current view is returned.
        A ``delivery`` paces and breaks the answer as steering asked."""
        recorder = _Recorder(space, entry, started, self.state.metrics)
        if delivery is not None:
            send = delivery.sender(send)
        if type(reply) is not JsonReply and (isinstance(reply, StreamReply) or (isinstance(reply, BinaryReply) and not isinstance(reply.data, bytes))):
            if unconfirmed and space is not None:  # a stream is journalled at its end: confirm first
                current = await self.state.enter(space.namespace)
                if current.version != space.version:
                    return current
            headers = {"cache-control": "no-cache", "x-accel-buffering": "no", **request_id_headers(rid)}
            if isinstance(reply, StreamReply):
                timeline = Timeline(self.state.settings.journal_entry_bytes)
                entry.events = timeline.items
                if delivery is None:
                    chunks = _frame(reply, timeline, recorder, self.state.metrics)
                else:
                    chunks = _faulted(delivery, reply, timeline, recorder, self.state.metrics)
                media, entry.response = reply.media_type, "(event stream)"
            else:  # another server's bytes (a side effect's, a recording's): its content type as written, no charset added
                chunks, media, entry.response = _recorded(reply.data, recorder), None, f"(bytes of {reply.media_type} as they came)"
                headers.update({"content-type": reply.media_type} if reply.media_type else {})
            response = StreamingResponse(chunks, status_code=reply.status, media_type=media, headers={**headers, **reply.headers})
            try:
                await response(scope, receive, send)
            finally:
                await recorder.record_once()  # the client left before the end
            return None
        if isinstance(reply, JsonReply):
            try:
                body = _dumps(reply.body)
            except (TypeError, orjson.JSONEncodeError):  # a canned body orjson cannot write
                log.exception("gptnb-mock cannot encode the reply to %s", entry.path)
                reply = errors.build_error(ApiError(500, "mock_bug", "gptnb-mock could not encode this reply (see its log)"), ErrorContext(self.state.settings, rid), None)
                body = _dumps(reply.body)
                entry.status = reply.status
            entry.response = compact(reply.body, self.state.settings.journal_entry_bytes, len(body))
            media = reply.media_type
        elif isinstance(reply, TextReply):
            body = reply.text.encode()
            entry.response = reply.text if len(reply.text) < 2000 else reply.text[:2000] + "…"
            media = reply.media_type + "; charset=utf-8"
        else:
            body = reply.data  # type: ignore[assignment]  (bytes: streamed data went out above)
            entry.response = f"({len(body)} bytes of {reply.media_type})"
            media = reply.media_type
        try:
            if unconfirmed and space is not None:
                changed = await recorder.record_unless_changed()
                if changed is not None:
                    return self.state.view(space.namespace, changed)
            else:
                await recorder.record_once()
        except StoreUnavailable as exc:
            unrecorded = errors.answer_error(exc, ErrorContext(self.state.settings, rid), None, "journal")
            body, media, reply = _dumps(unrecorded.body), unrecorded.media_type, unrecorded
        headers = [(b"content-type", _encoded_media(media)), (b"content-length", b"%d" % len(body))]
        if reply.headers:
            headers += [(k.lower().encode(), str(v).encode()) for k, v in {**request_id_headers(rid), **reply.headers}.items()]
        else:  # the ids alone (nearly every answer)
            headers += request_id_raw_headers(rid)
        if delivery is not None:
            await delivery.before_head(reply)
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return None


class _Recorder:
    """Journals one exchange once, when it is complete (a stream: before its last event goes out), and
    counts it in the metrics."""

    def __init__(self, space: NamespaceState | None, entry: JournalEntry, started: float, metrics: Metrics) -> None:
        self.space = space
        self.entry = entry
        self.started = started
        self.metrics = metrics
        self.done = False

    async def record_once(self) -> None:
        if self.done:
            return
        self.done = True
        self._count()
        if self.space is None:
            return
        try:
            await self.space.journal.record(self.entry)
        except StoreUnavailable:
            if self.entry.response != "(event stream)":
                raise
            log.warning("gptnb-mock could not journal %s %s: the store is unavailable", self.entry.method, self.entry.path)

    async def record_unless_changed(self) -> Entered | None:
        space, entry = self.space, self.entry
        assert space is not None
        entry.duration_ms = (time.perf_counter() - self.started) * 1000
        changed = await space.journal.record_unless_changed(entry, space.version)
        if changed is None:
            self.done = True
            self._counted()
        return changed

    def _count(self) -> None:
        self.entry.duration_ms = (time.perf_counter() - self.started) * 1000
        self._counted()

    def _counted(self) -> None:
        """Count the exchange in the metrics, its duration as the entry has it."""
        entry = self.entry
        namespace = self.space.namespace if self.space is not None else NO_NAMESPACE
        self.metrics.request(entry.contract_id, entry.status, namespace, entry.duration_ms / 1000)


async def _wait_for_client(seconds: float, receive: Receive) -> None:
    """Sleep ``seconds`` (a steered delay) but stop at once when the client disconnects: a handler
    must not sleep on for a client that left (the request body has been read, so the next message
    ``receive`` gives is the disconnect)."""
    gone = asyncio.ensure_future(_disconnect(receive))
    try:
        done, _ = await asyncio.wait({gone}, timeout=seconds)
    finally:
        gone.cancel()
    if done:
        raise ClientGone


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _known_key(key: str, keys: frozenset[str]) -> bool:
    """Constant-time membership: every accepted key is compared in full, so timing tells nothing."""
    given = key.encode()
    return sum(hmac.compare_digest(given, known.encode()) for known in keys) > 0


def _scenario(headers: HeaderMap) -> Taken | None:
    """The rule a request's own scenario header asks for (it comes before the namespace's rules)."""
    for name in SCENARIO_HEADERS:
        value = _HEADER(headers, name)
        if value and (name != "prefer" or any(f"{key}=" in value for key in ("code", "delay", "example", "fail"))):
            try:
                rule = parse_scenario(value)
                return Taken(rule, rule.replies[0])
            except ScenarioError as exc:
                raise ApiError(400, errors.STEERING, f"Invalid {name} header: {exc}", code="invalid_request") from None
    return None


def _steering(refusal: Exception | None) -> bool:
    """Whether a refusal is the mock's own word on steering it cannot follow."""
    return isinstance(refusal, ApiError) and refusal.kind == errors.STEERING


def _carried(location: str, name: str, headers: HeaderMap, query: list[tuple[str, str]]) -> str | None:
    """The raw value of an auth carrier (a header by its lower-case name); a subprotocol carrier is the
    offered protocol after ``name``."""
    if location == "query":
        return dict(query).get(name)
    if location == "subprotocol":
        offered = (p.strip() for p in headers.get("sec-websocket-protocol", "").split(","))
        return next((p[len(name) :] for p in offered if p.startswith(name)), None)
    return _HEADER(headers, name)


def _documented_reply(contract: Contract) -> Reply:
    """A contract whose family has no handler yet still answers: with its first documented example."""
    example = find_example(contract, contract.examples[0]["name"])
    assert example is not None
    return reply_from_example(example, contract)


async def _frame(reply: StreamReply, timeline: Timeline, recorder: _Recorder, metrics: Metrics) -> AsyncIterator[bytes]:
    """The stream on the wire; each event is noted on ``timeline`` (the journal entry's) as it goes out.
    The entry is recorded before the terminator goes, so a client that read to the end finds it whole."""
    sent = 0
    try:
        async for item in reply.events:
            chunk = sse.encode(item)
            _note(timeline, item, chunk)
            yield chunk
            sent += 1
        terminator = sse.encode_terminator(reply.terminator) if reply.terminator is not None else None
        if terminator is not None:
            timeline.add({"event": None}, reply.terminator, len(terminator))  # noted as it is about to go out
        await recorder.record_once()
        if terminator is not None:
            yield terminator
    finally:  # counted even when the client leaves halfway
        metrics.stream(recorder.entry.contract_id or NO_CONTRACT, sent)


async def _faulted(delivery: Delivery, reply: StreamReply, timeline: Timeline, recorder: _Recorder, metrics: Metrics) -> AsyncIterator[bytes]:
    """A stream as its faults and physics deliver it, noted and counted as ``_frame`` does a plain one."""
    sent = 0

    def note(item: Any, chunk: bytes) -> None:
        nonlocal sent
        _note(timeline, item, chunk)
        sent += item is not reply.terminator

    try:
        async for chunk in delivery.frames(reply, note, recorder.record_once):
            yield chunk
    finally:
        metrics.stream(recorder.entry.contract_id or NO_CONTRACT, sent)


def _note(timeline: Timeline, item: Any, chunk: bytes) -> None:
    """One event on the journal entry's timeline: a named event's name and data, a bare payload (as
    most families stream), or text (a terminator, a malformed event)."""
    if isinstance(item, SseEvent):
        timeline.add({"event": item.event}, sse.readable(item), len(chunk))
    else:
        timeline.add({"event": None}, item, len(chunk))


async def _recorded(chunks: AsyncIterator[bytes], recorder: _Recorder) -> AsyncIterator[bytes]:
    """Bytes streamed as they come (a proxied download), journalled once they are all out."""
    async for chunk in chunks:
        yield chunk
    await recorder.record_once()


def base_url(scope: Scope, headers: HeaderMap, namespace: str) -> str:
    """Where links the mock hands out point: the host the request came to, in the request's namespace."""
    host = _HEADER(headers, "host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    root = scope.get("root_path", "")
    if namespace != DEFAULT_NAMESPACE and namespaces.SCOPE_KEY not in scope:
        root += namespaces.url_prefix(namespace)
    return f"{scope.get('scheme', 'http')}://{host}{root}"


def _declared_length(headers: HeaderMap) -> int | None:
    length = _HEADER(headers, "content-length")
    return int(length) if length and length.isdigit() else None


def _journal_body(body: Any, files: dict[str, list[parsing.Upload]]) -> Any:
    if not files or not isinstance(body, dict):
        return body
    described = dict(body)
    for name, uploads in files.items():
        described[name] = [{"filename": u.filename, "content_type": u.content_type, "size": u.size} for u in uploads]
    return described


@functools.lru_cache(maxsize=64)
def _encoded_media(media: str) -> bytes:
    return media.encode()


def _dumps(body: Any) -> bytes:
    return orjson.dumps(body)
