"""Identifiers in the shapes the real services use, random or derived from a seed."""

from __future__ import annotations

import hashlib
import secrets
import string
import time

ALNUM = string.ascii_letters + string.digits


def request_id() -> str:
    """new-api's request id: yyyyMMddHHmmss + nanoseconds mod 1e9 + 8 random alphanumerics."""
    now = time.time_ns()
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(now // 1_000_000_000)) + str(now % 1_000_000_000) + random_alnum(8)


def random_alnum(length: int) -> str:
    return "".join(secrets.choice(ALNUM) for _ in range(length))


def derived_alnum(length: int, *parts: object) -> str:
    """Alphanumerics that depend only on ``parts``: the same request gives the same id."""
    out = []
    counter = 0
    while len(out) < length:
        digest = hashlib.sha256(repr((counter, parts)).encode()).digest()
        out += [ALNUM[b % len(ALNUM)] for b in digest]
        counter += 1
    return "".join(out[:length])


def derived_int(*parts: object) -> int:
    """A stable 63-bit integer from ``parts`` (seeds for generated content)."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "big") >> 1
