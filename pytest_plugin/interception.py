"""Send httpx, httpx2 and aiohttp requests for chosen hosts to an ASGIBridge; let every other host through.

Built on respx: the "httpcore" mocker patches httpx's connection pools, the "httpcore2" mocker that
pytest-httpx2 registers patches httpx2's (the client the openai, anthropic and google-genai SDKs use).
Both hand our router an ``httpx.Request`` and turn the ``httpx.Response`` we return into a transport
response whose content is our stream object itself, so the body streams end to end. aiohttp, when it
is installed (google-genai's async client prefers it), gets its own mocker: ``aiohttp_mock``.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Awaitable, Iterable
from contextvars import ContextVar
from types import ModuleType, TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpcore2
import httpx
import pytest_httpx2  # noqa: F401  (importing it registers its HTTPCore2Mocker as "httpcore2")
import respx
from respx.mocks import Mocker
from respx.models import AllMockedAssertionError
from respx.patterns import M, Pattern

from .bridge import ASGIBridge

MOCKERS = {"httpcore": httpcore, "httpcore2": httpcore2}
"""respx mocker name -> the transport library whose errors its client maps (httpcore for httpx, httpcore2 for httpx2)."""

# respx calls a route's side effect the same way for sync and async clients; only the router entry
# point (handler vs async_handler) knows which one is waiting, so it leaves a mark here.
_async_caller: ContextVar[bool] = ContextVar("gptnb_async_caller", default=False)
# Set while a request must reach the network even to an intercepted host: a recording fixture's
# proxy forwards to the real goapi.gptnb.ai, which the same test intercepts for the code under test.
_unintercepted: ContextVar[bool] = ContextVar("gptnb_unintercepted", default=False)


class NetworkTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose requests go to the network, past every Interceptor."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        token = _unintercepted.set(True)
        try:
            return await super().handle_async_request(request)
        finally:
            _unintercepted.reset(token)


class _CallerAwareRouter(respx.Router):
    def handler(self, request: httpx.Request) -> httpx.Response:
        # Set explicitly: an app running under the async path may itself use a sync client.
        token = _async_caller.set(False)
        try:
            return super().handler(request)
        finally:
            _async_caller.reset(token)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        token = _async_caller.set(True)
        try:
            return await super().async_handler(request)
        finally:
            _async_caller.reset(token)


class Interceptor:
    """While started, requests to ``hosts`` are answered by ``bridge``; other hosts use the network.

    A host given without a port matches every port; ``"host:port"`` matches that port only.
    """

    def __init__(self, bridge: ASGIBridge, hosts: Iterable[str]) -> None:
        self.bridge = bridge
        self.hosts = tuple(hosts)
        pairs = _host_pairs(self.hosts)
        pattern = functools.reduce(operator.or_, (M(host=name) if port is None else M(host=name, port=port) for name, port in pairs))
        # One router per mocker, so the catch-all knows which mocker's router list it sits in.
        self._routers = [(Mocker.registry[name], self._router(Mocker.registry[name], pattern, errors)) for name, errors in MOCKERS.items()]
        self._aiohttp = _aiohttp_mocker(bridge, pairs)
        self._started = False

    def start(self) -> None:
        if self._started:
            return
        for mocker, router in self._routers:
            mocker.register(router)
            mocker.start()  # patches only once per mocker, however many routers are registered
        if self._aiohttp is not None:
            self._aiohttp.start()
        self._started = True

    def stop(self) -> None:
        if not self._started:
            return
        for mocker, router in self._routers:
            mocker.unregister(router)
            mocker.stop()  # unpatches only when no router (ours or anyone's) is left
        if self._aiohttp is not None:
            self._aiohttp.stop()
        self._started = False

    def __enter__(self) -> Interceptor:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _router(self, mocker: type[Mocker], pattern: Pattern, errors: ModuleType) -> respx.Router:
        router = _CallerAwareRouter(assert_all_called=False, assert_all_mocked=False)
        # Connection faults raise this client's own transport errors, which httpx / httpx2 then map
        # exactly as they map the errors of a real connection.
        router.route(pattern, name="bridge").mock(side_effect=functools.partial(self._to_bridge, errors=errors))

        def pass_through(request: httpx.Request) -> httpx.Request:
            # The mocker asks its routers in the order they were registered and stops at the first
            # pass-through, so a plain .pass_through() route would hide every router registered after
            # ours (a nested Interceptor, a test's own respx mock). Defer to them; the last one passes.
            if mocker.routers and mocker.routers[-1] is not router:
                raise AllMockedAssertionError(f"deferred to a later router: {request!r}")
            return request  # respx's way for a side effect to say "pass through"

        router.route(name="pass_through").mock(side_effect=pass_through)
        return router

    def _to_bridge(self, request: httpx.Request, errors: ModuleType) -> httpx.Request | httpx.Response | Awaitable[httpx.Response]:
        if _unintercepted.get():
            return request  # respx's way for a side effect to say "pass through"
        if _async_caller.get():
            return self.bridge.handle_async(request, errors)  # Router.aresolve awaits it
        return self.bridge.handle_sync(request, errors)


def _host_pairs(hosts: Iterable[str]) -> list[tuple[str, int | None]]:
    """(host name, port or None for any port) of each entry: "name" or "name:port"."""
    pairs = []
    for entry in hosts:
        parts = urlsplit(f"//{entry}")
        if not parts.hostname:
            raise ValueError(f"Not a host name: {entry!r}")
        pairs.append((parts.hostname, parts.port))
    if not pairs:
        raise ValueError("An Interceptor needs at least one host")
    return pairs


def _aiohttp_mocker(bridge: ASGIBridge, pairs: list[tuple[str, int | None]]) -> Any:
    """The aiohttp mocker, or None when aiohttp is not installed (then nothing can send through it)."""
    try:
        from .aiohttp_mock import AiohttpMocker
    except ImportError:
        return None
    return AiohttpMocker(bridge, pairs)
