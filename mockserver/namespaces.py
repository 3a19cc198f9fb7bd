"""Which namespace a request belongs to.

A namespace scopes tasks, rules, the journal and the clock, so many tests (and pytest-xdist workers)
share one served mock without a global reset. A request names it, first found wins:

1. a path prefix ``/__mock/ns/NAME/...`` (the rest of the path is the real one; links the mock hands
   out keep the prefix, so downloads land in the same namespace, and any client can use it as a base URL);
2. the header ``X-Mock-Namespace: NAME``;
3. with ``--namespace-per-key``, the API key (the namespace ``key-`` + 16 hex digits of its SHA-256);
4. otherwise ``default``.
"""

from __future__ import annotations

import hashlib
import re

from starlette.types import Scope

from .config import Settings
from .headers import HeaderMap
from .store import DEFAULT_NAMESPACE

HEADER = "x-mock-namespace"
PATH_PREFIX = "/__mock/ns/"
SCOPE_KEY = "gptnb.namespace"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
RULE = "1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"


class NamespaceError(ValueError):
    pass


def check(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise NamespaceError(f"invalid namespace {name[:120]!r}: use {RULE}")
    return name


def strip_prefix(scope: Scope) -> Scope:
    """``/__mock/ns/NAME/rest`` -> a scope for ``/rest`` that remembers NAME (and links back through it)."""
    name, _, rest = scope["path"][len(PATH_PREFIX) :].partition("/")
    check(name)
    prefix = PATH_PREFIX + name
    raw = scope.get("raw_path")
    return {
        **scope,
        "path": "/" + rest,
        "raw_path": raw[len(prefix) :] if isinstance(raw, bytes) and raw.startswith(prefix.encode()) else raw,
        "root_path": scope.get("root_path", "") + prefix,
        SCOPE_KEY: name,
    }


def of_request(scope: Scope, headers: HeaderMap, api_key: str | None, settings: Settings) -> str:
    named = scope.get(SCOPE_KEY)
    if named is not None:
        return named  # type: ignore[no-any-return]
    header = dict.get(headers, HEADER)  # HEADER is lower case, as ASGI servers give names
    if header is not None:
        return check(header.strip())
    if settings.namespace_per_key and api_key:
        return of_key(api_key)
    return DEFAULT_NAMESPACE


def of_key(api_key: str) -> str:
    """The namespace of an API key; the key itself never shows in namespace lists."""
    return "key-" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


def url_prefix(namespace: str) -> str:
    """The path prefix that puts a request into ``namespace`` (empty for the default one)."""
    return "" if namespace == DEFAULT_NAMESPACE else PATH_PREFIX + namespace
