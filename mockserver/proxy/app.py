"""The proxy as an ASGI app: GPTNB paths go to the upstream (HTTP and WebSocket), ``/__proxy/`` is its
own small admin API (health, the journal of verdicts).

``ProxyCore`` holds what every exchange shares — contracts, judges, redaction, the upstream and its key,
the guard, the journal, the cassette writer — built once; ``HttpRelay`` and ``WebSocketRelay`` do the
per-exchange work.

The proxy is one process. Its journal, and how far a replay of recordings it answers from has got, live
in a store namespace like the mock's: its own in-memory store when run as ``gptnb-mock proxy``, the
test's namespace of the mock's store when a fixture records a cassette through it (so ``calls`` shows
the exchanges). The request budget (``Guard``) is the process's own.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .. import __version__
from ..config import DEFAULT_MAX_BODY_BYTES, Settings
from ..contracts import Contract, ContractRegistry, default_registry
from ..errors import ApiError, ErrorContext, build_error
from ..families import load_all
from ..clock import Clock
from ..guard import admin_refusal, host_refusal, refuse, refuse_websocket
from ..journal import Journal, JournalEntry
from ..replies import BinaryReply, JsonReply
from ..store import DEFAULT_NAMESPACE, Limits, MemoryStore, Store
from .cassette import FORMAT, CassetteWriter
from .forward import HttpRelay
from .redact import Redactor, scrub
from .replay import Progress
from .upstream import Upstream
from .verdict import Incoming, RequestJudge, RequestSeen
from .websocket import WebSocketRelay

if TYPE_CHECKING:
    from .replay import Replay

PREFIX = "/__proxy"
FREE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class ProxyOptions:
    upstream: str
    api_key: str | None = None
    """Put into every forwarded request in place of the client's own (kept in memory only)."""
    record: Path | None = None
    """Write one cassette per exchange here."""
    allow_paid: bool = False
    max_requests: int = 500
    timeout: float = 600.0
    """Seconds to wait for the upstream (generations are slow)."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_buffer_bytes: int = 16 * 1024 * 1024
    """JSON and text answers up to this size are held to be judged before they are passed on."""
    journal_size: int = 1000
    allowed_hosts: frozenset[str] | None = None
    """Host names answered (a DNS-rebinding guard); None answers any (in-process use)."""
    allowed_origins: frozenset[str] = frozenset()
    """Web pages (``Origin``) allowed to send requests through a proxy that holds a key."""


class Guard:
    """What the proxy will not forward: paid routes (unless allowed) and anything past the budget.

    A request no contract describes may cost anything, so it counts as paid unless it only reads
    (GET, HEAD: downloads, listings). The budget counts forwarded requests and WebSocket sessions.
    """

    def __init__(self, allow_paid: bool, max_requests: int) -> None:
        self.allow_paid = allow_paid
        self.max_requests = max_requests
        self.forwarded = 0
        self._lock = threading.Lock()

    def refusal(self, contract: Contract | None, method: str, path: str) -> str | None:
        """Why this request is not forwarded, or None (the request then counts against the budget)."""
        if not self.allow_paid:
            if contract is None and method not in FREE_METHODS:
                return f"gptnb-mock proxy: no contract describes {method} {path}, so it may cost money upstream; start the proxy with --allow-paid to forward it"
            if contract is not None and contract.cost != "free":
                return f"gptnb-mock proxy: {contract.id} is a paid route upstream; start the proxy with --allow-paid to forward it"
        with self._lock:
            if self.forwarded >= self.max_requests:
                return f"gptnb-mock proxy: the request budget of {self.max_requests} is used up (--max-requests)"
            self.forwarded += 1
        return None


class ProxyCore:
    def __init__(
        self,
        options: ProxyOptions,
        registry: ContractRegistry | None = None,
        store: Store | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        client_factory: Callable[[], httpx.AsyncClient] | None = None,
        replay: Replay | None = None,
    ) -> None:
        load_all()  # the families' error builders shape the proxy's own refusals
        self.options = options
        self.registry = registry or default_registry()
        self.requests = RequestJudge(self.registry)
        self.redactor = Redactor(self.registry)
        self.upstream = Upstream(options.upstream, options.api_key)
        self.guard = Guard(options.allow_paid, options.max_requests)
        store = store if store is not None else MemoryStore(Limits(journal_size=options.journal_size))
        self.journal = Journal(store, namespace)
        self.writer = CassetteWriter(options.record) if options.record else None
        self.replay = replay
        self.progress = Progress(store, namespace, Clock())
        """Where ``replay`` notes how far it has got; recorded tasks move on wall time here."""
        self.settings = Settings(allowed_hosts=options.allowed_hosts)
        self._client_factory = client_factory or (lambda: httpx.AsyncClient(timeout=options.timeout))
        # A client's pooled connections belong to the event loop that opened them; the in-process
        # fixture runs the app on more than one loop, so each loop gets its own client.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()

    def page_refusal(self, scope: Scope) -> str | None:
        """Why a web page may not send this request: with the operator's key in every forwarded request,
        any page the user opens could spend that key. Clients outside a browser send no ``Origin``."""
        if not self.upstream.has_key:
            return None
        origin = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"origin"), None)
        if origin is None or origin in self.options.allowed_origins:
            return None
        return f"gptnb-mock proxy: a request from the web page {origin} is refused, as the proxy puts your key into what it forwards; start it with --allow-origin {origin} to let that page through"

    def client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            found = self._clients[loop] = self._client_factory()
        return found

    async def aclose(self) -> None:
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    def journal_entry(self, method: str, incoming: Incoming, seen: RequestSeen) -> JournalEntry:
        """The exchange's entry, filled in as it goes and journalled (``journal.record``) when it is over."""
        entry = JournalEntry(0, incoming.started, method, incoming.path, seen.contract.id if seen.contract else None, dict(self.redactor.query(incoming.query)), seen.body)
        entry.violations += seen.violations
        return entry

    def cassette(self, incoming: Incoming, method: str, contract: Contract | None, request_body: dict[str, Any] | None, **recorded: Any) -> dict[str, Any]:
        """One exchange as a cassette: what every exchange has, then ``recorded`` (answer, timing,
        verdict …), with every credential the request carried and the proxy's own key scrubbed."""
        data = {
            "gptnb_cassette": FORMAT,
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(incoming.started)),
            "upstream": self.upstream.base_url,
            "contract": contract.id if contract else None,
            "request": {
                "method": method,
                "path": incoming.path,
                "query": _shown_query(self.redactor.query(incoming.query)),
                "headers": self.redactor.headers(incoming.received),
                **({"body": request_body} if request_body is not None else {}),
            },
            **recorded,
        }
        return scrub(data, self.redactor.secrets(incoming.received, incoming.query) | self.upstream.secrets())

    async def record(self, number: int, cassette: dict[str, Any]) -> None:
        if self.writer is not None:
            await asyncio.to_thread(self.writer.write, number, cassette)  # a binary body can be megabytes

    def refusal(self, contract: Contract | None, status: int, kind: str, message: str, rid: str) -> JsonReply:
        """The proxy's own answer (a refused or unforwardable request) in the family's error shape."""
        error = ApiError(status, kind, message)
        return build_error(error, ErrorContext(self.settings, rid, contract=contract), contract.errors if contract else None)

    async def send_json(self, send: Send, reply: JsonReply) -> None:
        body = orjson.dumps(reply.body)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"x-gptnb-proxy", b"refused")]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def send_reply(self, send: Send, reply: BinaryReply) -> None:
        """A replayed answer (recording only what is new): recorded headers, the chunks as they come."""
        headers = [(b"content-type", reply.media_type.encode("latin-1"))] if reply.media_type else []
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items() if k.lower() != "content-type"]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        async for chunk in reply.data:  # type: ignore[union-attr]
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class ProxyApp:
    """``ProxyApp(ProxyOptions(upstream=...))`` is an ASGI app; ``.core.journal`` holds the verdicts."""

    def __init__(self, options: ProxyOptions, **core: Any) -> None:
        self.core = ProxyCore(options, **core)
        self.http = HttpRelay(self.core)
        self.websockets = WebSocketRelay(self.core)
        self.admin = _admin(self.core)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        # The served mock's guards (a DNS-rebinding page, a cross-origin page on the admin API), and
        # one of the proxy's own: it puts the operator's key into what it forwards.
        settings = self.core.settings
        wrong_host = host_refusal(scope, settings)
        if kind == "http" and (scope["path"] == PREFIX or scope["path"].startswith(PREFIX + "/")):
            refusal = (403, wrong_host) if wrong_host else admin_refusal(scope, settings, scope["path"][len(PREFIX) :])
            if refusal:
                await refuse(send, *refusal)
                return
            await self.admin({**scope, "root_path": scope.get("root_path", "") + PREFIX}, receive, send)
            return
        refused = wrong_host or self.core.page_refusal(scope)
        if kind == "http":
            await (refuse(send, 403, refused, "proxy_refused") if refused else self.http(scope, receive, send))
        elif kind == "websocket":
            await (refuse_websocket(scope, receive, send, refused) if refused else self.websockets(scope, receive, send))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.core.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _admin(core: ProxyCore) -> Starlette:
    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "upstream": core.upstream.base_url,
                "key": core.upstream.has_key,
                "recording": str(core.options.record) if core.options.record else None,
                "forwarded": core.guard.forwarded,
                "max_requests": core.guard.max_requests,
                "allow_paid": core.guard.allow_paid,
            }
        )

    async def journal(request: Request) -> Response:
        if request.method == "DELETE":
            await core.journal.clear()
            return JSONResponse({"cleared": True})
        contract = request.query_params.get("contract")
        entries = [e.as_dict() for e in await core.journal.entries() if contract is None or e.contract_id == contract]
        return JSONResponse({"calls": entries, "total": len(entries)})

    return Starlette(routes=[Route("/health", health), Route("/journal", journal, methods=["GET", "DELETE"])])


def _shown_query(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Query pairs as a readable mapping: a repeated name keeps all its values in a list."""
    shown: dict[str, Any] = {}
    for name, value in pairs:
        if name in shown:
            shown[name] = [*(shown[name] if isinstance(shown[name], list) else [shown[name]]), value]
        else:
            shown[name] = value
    return shown
