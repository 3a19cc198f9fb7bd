"""Shared by the project's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from processes import RedisServer


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio: the bridge runs the app as a task in the caller's asyncio loop."""
    return "asyncio"


@pytest.fixture(scope="module")
def standin():
    """The stand-in upstream (tests/standin_upstream.py) on a free port, one per test module; ``.url``."""
    from proxy_helpers import served
    from standin_upstream import StandIn

    upstream = StandIn()
    with served(upstream) as server:
        upstream.url = server.url
        yield upstream


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server per test process (xdist worker)."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The shared redis-server, emptied for this test."""
    redis_server.flush()
    return redis_server.url
