"""The ASGI application: the contract pipeline for GPTNB paths, the admin API under ``/__mock/``."""

from __future__ import annotations

import asyncio

from starlette.types import Receive, Scope, Send

from .admin import PREFIX, build_admin
from .config import Settings
from .contracts import ContractRegistry
from .guard import admin_refusal, host_refusal, refuse, refuse_websocket
from .pipeline import Pipeline
from .state import MockState
from .websocket_gate import WebSocketGate


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
            await _lifespan(self.state, receive, send)
            return
        settings = self.state.settings
        wrong_host = host_refusal(scope, settings) if settings.allowed_hosts is not None else None
        server = scope.get("server")
        if server:  # so callbacks can tell a receiver from the mock itself
            self.state.callbacks.own_ports.add(server[1])
        if kind == "http":
            if wrong_host:
                await refuse(send, 403, wrong_host, "mock_host_not_allowed")
                return
            path = scope["path"]
            if path == PREFIX or path.startswith(PREFIX + "/"):
                refusal = admin_refusal(scope, settings, path[len(PREFIX) :])
                if refusal:
                    await refuse(send, *refusal)
                    return
                await self.admin({**scope, "root_path": scope.get("root_path", "") + PREFIX}, receive, send)
            else:
                await self.pipeline(scope, receive, send)
        elif kind == "websocket":
            if wrong_host:
                await refuse_websocket(scope, receive, send, wrong_host)
                return
            await self.websockets(scope, receive, send)


async def _lifespan(state: MockState, receive: Receive, send: Send) -> None:
    watcher: asyncio.Task[None] | None = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if state.rule_files is not None:  # files of canned replies are reloaded when they change
                watcher = asyncio.create_task(state.rule_files.watch())
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if watcher is not None:
                watcher.cancel()
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(settings: Settings | None = None, registry: ContractRegistry | None = None) -> MockApp:
    return MockApp(settings, registry)
