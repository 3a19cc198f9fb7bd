"""Shared by the project's tests."""

from __future__ import annotations

import pytest


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
