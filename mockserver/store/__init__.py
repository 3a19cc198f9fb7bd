"""Where the mock's state lives: ``MemoryStore`` in one process, ``RedisStore`` shared by workers and
replicas. ``open_store(url, ...)`` picks one from ``--store``. Only ``store.redis`` (with
``store.redis_wire``, its connection) speaks to Redis."""

from __future__ import annotations

from .base import CALLBACK_LEASE, DEFAULT_NAMESPACE, Claim, Entered, Limits, NamespaceInfo, Store, StoreUnavailable
from .codec import storable
from .memory import MemoryStore, run_sync

__all__ = [
    "CALLBACK_LEASE",
    "DEFAULT_NAMESPACE",
    "Claim",
    "Entered",
    "Limits",
    "MemoryStore",
    "NamespaceInfo",
    "Store",
    "StoreUnavailable",
    "open_store",
    "run_sync",
    "storable",
]

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def open_store(url: str, limits: Limits, clock_mode: str, clock_speed: float) -> Store:
    """``memory`` or a Redis URL (``redis://HOST:PORT/DB``, ``rediss://`` for TLS, ``unix:///path.sock``)."""
    if url == "memory":
        return MemoryStore(limits, clock_mode, clock_speed)
    if url.startswith(REDIS_SCHEMES):
        from .redis import RedisStore

        return RedisStore(url, limits, clock_mode, clock_speed)
    raise ValueError(f"--store must be memory or a redis:// URL, not {url!r}")
