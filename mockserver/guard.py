"""Who may talk to a served mock: the Host allow-list for every request, and the admin API's checks.

A mock on a developer's laptop is reachable from every web page the developer opens. Two kinds of
page could steer it: a cross-origin page (``fetch("http://127.0.0.1:8000/__mock/rules", ...)``) and
a DNS-rebinding page (its own name, re-pointed at 127.0.0.1, so the browser thinks it is
same-origin). The checks, in order:

1. **Host** (every request, when the instance has an allow-list): the ``Host`` header must name the
   bound interface, a localhost name, an operator-added host, or -- when bound to a wildcard
   address -- any IP literal. A rebinding page always sends its own name, so it is refused.
2. **Origin** (admin routes): a browser request from another origin (``Origin`` that is not the
   request's own scheme://host, or ``Sec-Fetch-Site: cross-site``/``same-site``) is refused. The mock
   never answers CORS preflights, so a page can only send "simple" requests, and those ...
3. **JSON bodies** (admin writes): ... must then say ``Content-Type: application/json``, which no
   simple request can. A same-origin page (the inspector under ``/__mock/ui``) passes all three.
4. **Token** (admin calls, when ``--admin-token`` is set): ``X-Mock-Admin-Token`` must match,
   compared in constant time. Health, docs and UI pages stay open: a page cannot add a header to a
   navigation. Media routes (downloads, presigned uploads) are the API clients', like CDN links and
   S3 forms: none of these checks apply to them; they hold no state.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
from urllib.parse import urlsplit

import orjson
from starlette.types import Receive, Scope, Send

from .config import Settings

TOKEN_HEADER = "x-mock-admin-token"
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
MEDIA_PATH = "/media/"
"""Below the prefix, but the API clients' (downloads and presigned uploads): no admin checks at all."""
# Admin paths (below the prefix) that need no token: liveness and pages (a navigation cannot add a header).
OPEN_ADMIN_PATHS = ("/health", "/docs", "/openapi.json", "/ui")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def served_hosts(bound: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The Host allow-list of an instance bound to ``bound``: that interface, localhost names, ``extra``."""
    return LOCAL_NAMES | {bound.strip("[]").lower()} | {h.strip().strip("[]").lower() for h in extra if h.strip()}


def host_name(header: str) -> str:
    """``example.com:8000`` -> ``example.com``; ``[::1]:8000`` -> ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


@functools.lru_cache(maxsize=256)  # every request asks, with the same few Host values
def _host_allowed(raw: bytes, allowed: frozenset[str]) -> bool:
    return host_allowed(raw.decode("latin-1"), allowed)


def host_allowed(header: str | None, allowed: frozenset[str]) -> bool:
    if "*" in allowed:
        return True
    if not header:  # HTTP/1.0 without Host: no name for a rebinding page to use
        return True
    name = host_name(header)
    if name in allowed:
        return True
    if WILDCARDS & allowed:  # bound to every interface: any address literal names this machine
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True
    return False


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}


def host_refusal(scope: Scope, settings: Settings) -> str | None:
    """Why this request's Host is refused, or None (also None when the instance checks no Host)."""
    allowed = settings.allowed_hosts
    if allowed is None:
        return None
    for key, value in scope.get("headers", ()):
        if key == b"host" and not _host_allowed(value, allowed):  # every Host, if repeated
            name = host_name(value.decode("latin-1"))
            return f"Host {name!r} is not allowed (a DNS-rebinding guard); to serve this name start with --allow-host {name}"
    return None


def admin_refusal(scope: Scope, settings: Settings, admin_path: str) -> tuple[int, str] | None:
    """(status, why) when an admin request must be refused; None when it may go on."""
    if admin_path.startswith(MEDIA_PATH):  # API clients' downloads and uploads: no state, no secrets
        return None
    headers = _headers(scope)
    origin = headers.get("origin")
    if origin is not None and not _same_origin(origin, scope.get("scheme", "http"), headers.get("host", "")):
        return 403, f"cross-origin request refused: Origin {origin} is not this server; the admin API serves only same-origin pages and non-browser clients"
    if headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return 403, "cross-origin request refused (Sec-Fetch-Site); the admin API serves only same-origin pages and non-browser clients"
    if scope["method"] in WRITE_METHODS and _has_body(headers) and _media_type(headers.get("content-type")) != "application/json":
        return 415, "admin requests with a body must send Content-Type: application/json"
    token = settings.admin_token
    if token and not admin_path.startswith(OPEN_ADMIN_PATHS):
        given = headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return 401, f"this admin API needs its token: send the {TOKEN_HEADER} header (gptnb-mock serve --admin-token)"
    return None


def _same_origin(origin: str, scheme: str, host: str) -> bool:
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme == scheme and bool(parts.netloc) and parts.netloc.lower() == host.lower()


def _has_body(headers: dict[str, str]) -> bool:
    length = headers.get("content-length")
    return "transfer-encoding" in headers or (length is not None and length.strip() not in ("", "0"))


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


async def refuse(send: Send, status: int, message: str, kind: str = "mock_admin_error") -> None:
    body = orjson.dumps({"error": {"message": message, "type": kind}})
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def refuse_websocket(scope: Scope, receive: Receive, send: Send, message: str) -> None:
    if "websocket.http.response" in scope.get("extensions", {}):
        body = orjson.dumps({"error": {"message": message, "type": "mock_host_not_allowed"}})
        await send({"type": "websocket.http.response.start", "status": 403, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await receive()
    await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
