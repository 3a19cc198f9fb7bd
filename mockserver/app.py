"""The ASGI application: the contract pipeline for GPTNB paths, the admin API under ``/__mock/``."""

from __future__ import annotations

import asyncio
import logging

from starlette.types import Receive, Scope, Send

from . import namespaces, workers
from .admin import PREFIX, build_admin
from .config import Settings
from .contracts import ContractRegistry
from .guard import admin_refusal, host_refusal, refuse, refuse_websocket
from .pipeline import Pipeline
from .state import MockState
from .store import StoreUnavailable
from .websocket_gate import WebSocketGate

log = logging.getLogger("gptnb_mock")


class MockApp:
    """``MockApp(settings)`` is an ASGI app; ``.state`` is what tests and the admin API steer."""

    def __init__(self, settings: Settings | None = None, registry: ContractRegistry | None = None, state: MockState | None = None) -> None:
        self.state = state or MockState(settings, registry)
        self.pipeline = Pipeline(self.state)
        self.websockets = WebSocketGate(self.pipeline)
        self.admin = build_admin(self.state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        settings = self.state.settings
        wrong_host = host_refusal(scope, settings) if settings.allowed_hosts is not None else None
        server = scope.get("server")
        if server:  # so callbacks can tell a receiver from the mock itself
            self.state.callbacks.own_ports.add(server[1])
        path = scope["path"]
        if path.startswith(namespaces.PATH_PREFIX):
            try:
                scope = namespaces.strip_prefix(scope)
            except namespaces.NamespaceError as exc:
                await _refuse(scope, receive, send, str(exc))
                return
            path = scope["path"]
        if kind == "http":
            if wrong_host:
                await refuse(send, 403, wrong_host, "mock_host_not_allowed")
                return
            if path.startswith(PREFIX) and (len(path) == len(PREFIX) or path[len(PREFIX)] == "/"):
                refusal = admin_refusal(scope, settings, path[len(PREFIX) :])
                if refusal:
                    await refuse(send, *refusal)
                    return
                root = scope.get("root_path", "")
                # Starlette routes on the path below root_path, so the admin sees the whole path again.
                full = root + path if namespaces.SCOPE_KEY in scope else path
                await self.admin({**scope, "path": full, "root_path": root + PREFIX}, receive, send)
            else:
                await self.pipeline(scope, receive, send)
        elif kind == "websocket":
            if wrong_host:
                await refuse_websocket(scope, receive, send, wrong_host)
                return
            await self.websockets(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        background: list[asyncio.Task[None]] = []
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                background = await self._start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in background:
                    task.cancel()
                self.state.close()
                try:
                    await self.state.metrics.flush()  # what this process counted last
                except StoreUnavailable:
                    pass
                await self.state.store.close()
                if self.state.settings.worker_processes:
                    workers.shut_down()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _start(self) -> list[asyncio.Task[None]]:
        """A served mock delivers callbacks left due by an earlier run or another worker, keeps its files
        of canned replies as the shared rules, and adds what it counts to the store's metrics. An
        unreachable store is no reason to die here (``serve`` checked it): requests answer 503 until it is back."""
        background = []
        try:
            await self.state.store.open()
        except StoreUnavailable as exc:
            log.error("gptnb-mock: %s (requests answer 503 until it is back)", exc)
        if self.state.store.shared:
            self.state.callbacks.start()
            background.append(asyncio.create_task(self.state.metrics.flush_every()))
        files = self.state.rule_files
        if files is not None:
            try:
                await files.reload_if_changed()  # a worker's first load: workers with the same files write them once
            except StoreUnavailable as exc:
                log.error("gptnb-mock: could not load the rule files: %s", exc)
            background.append(asyncio.create_task(files.watch()))
        return background


async def _refuse(scope: Scope, receive: Receive, send: Send, message: str) -> None:
    """A malformed ``/__mock/ns/NAME/`` prefix: the mock's own 400 (it is not an upstream path)."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
        return
    await refuse(send, 400, message)


def create_app(settings: Settings | None = None, registry: ContractRegistry | None = None) -> MockApp:
    return MockApp(settings, registry)
