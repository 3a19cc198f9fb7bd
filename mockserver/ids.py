"""Identifiers in the shapes the real services use, random or derived from a seed.

These run on every request, so they avoid per-character work: random ids are bytes from the
process's random generator (seeded from the OS, reseeded in a forked child; no system call per id)
and derived ones hash bytes, each mapped onto the alphabet in one ``translate``. Ids are names, not
secrets: nothing the mock guards depends on guessing one.
"""

from __future__ import annotations

import hashlib
import random
import string
import time

ALNUM = string.ascii_letters + string.digits
# Byte value -> alphanumeric character (the slight bias of 256 % 62 does not matter for ids).
_TO_ALNUM = bytes(ord(ALNUM[b % len(ALNUM)]) for b in range(256))
_stamp_second = -1
_stamp = ""


def request_id() -> str:
    """new-api's request id: yyyyMMddHHmmss + nanoseconds mod 1e9 + 8 random alphanumerics."""
    global _stamp_second, _stamp
    now = time.time_ns()
    second = now // 1_000_000_000
    if second != _stamp_second:  # formatting the date once a second is enough
        _stamp_second, _stamp = second, time.strftime("%Y%m%d%H%M%S", time.gmtime(second))
    return _stamp + str(now % 1_000_000_000) + random_alnum(8)


REQUEST_ID_HEADERS = ("x-oneapi-request-id", "x-request-id")
_ENCODED_ID_HEADERS = tuple(name.encode() for name in REQUEST_ID_HEADERS)


def request_id_headers(rid: str) -> dict[str, str]:
    """The headers that carry a request's id on every answer.

    new-api sets ``X-Oneapi-Request-Id`` on every answer (``middleware/request-id.go``) and copies an
    upstream's own headers, ``x-request-id`` among them, onto relayed answers (``service/http.go``).
    The openai SDKs read ``x-request-id`` (``._request_id``, ``error.request_id``), so the mock sends
    both with the one id, the id its error messages and journal name.
    """
    return dict.fromkeys(REQUEST_ID_HEADERS, rid)


def request_id_raw_headers(rid: str) -> list[tuple[bytes, bytes]]:
    """``request_id_headers`` as ASGI header pairs (what most answers send: built once, no dict)."""
    encoded = rid.encode()
    return [(name, encoded) for name in _ENCODED_ID_HEADERS]


def random_alnum(length: int) -> str:
    return random.getrandbits(8 * length).to_bytes(length, "little").translate(_TO_ALNUM).decode()


def derived_alnum(length: int, *parts: object) -> str:
    """Alphanumerics that depend only on ``parts``: the same request gives the same id."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=64).digest()
    while len(digest) < length:
        digest += hashlib.blake2b(digest, digest_size=64).digest()
    return digest[:length].translate(_TO_ALNUM).decode()


def derived_int(*parts: object) -> int:
    """A stable 63-bit integer from ``parts`` (seeds for generated content)."""
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big") >> 1
