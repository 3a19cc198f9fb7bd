"""What the proxy, replay and drift tests share: a stand-in upstream on a real socket, a proxy in front
of it, and a recorded set of exchanges with every planted difference in it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from mockserver.proxy import ProxyApp, ProxyOptions
from pytest_plugin.server import LiveServer

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
STREAM = {**CHAT, "stream": True}
SPEECH = {"model": "tts-1", "input": "hello there", "voice": "alloy"}


@contextlib.contextmanager
def served(app: Any) -> Iterator[LiveServer]:
    server = LiveServer(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def proxy_to(upstream: str, **options: Any) -> Iterator[tuple[ProxyApp, str]]:
    """A proxy to ``upstream`` on a free port: (the app, its URL). Paid routes allowed unless told."""
    options.setdefault("allow_paid", True)
    app = ProxyApp(ProxyOptions(upstream=upstream, **options))
    with served(app) as server:
        yield app, server.url


def record_everything(proxy_url: str) -> None:
    """Traffic that touches every planted difference of the stand-in, and some that conforms."""
    with httpx.Client(base_url=proxy_url, headers={"Authorization": "Bearer sk-client-key-0001"}, timeout=30) as client:
        client.post("/v1/chat/completions", json=CHAT)
        client.post("/v1/chat/completions", json=STREAM).read()
        client.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "hi", "stream": True}).read()
        client.get("/v1/models/broken-model")
        client.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "hello"})
        client.post("/v1/audio/speech", json=SPEECH)
        task_id = client.post("/mj/submit/imagine", json={"prompt": "a lighthouse"}, headers={"mj-api-secret": "sk-client-key-0001"}).json()["result"]
        for _ in range(3):
            client.get(f"/mj/task/{task_id}/fetch")


def files_under(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


def wait_for(url: str) -> None:
    """Until ``url`` answers at all (a server process starting)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")
