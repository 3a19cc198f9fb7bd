"""Shared by the project's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio: the bridge runs the app as a task in the caller's asyncio loop."""
    return "asyncio"
