"""Where a proxied request goes and what it carries there: the upstream URL, the headers a relay
passes on (hop-by-hop ones dropped), and the operator's key in place of whatever the client sent.

The key lives in this object only: it is put into the request on its way out and nowhere else, so
neither the journal, the log nor a recording can hold it (``redact`` scrubs what a client sent).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..contracts import Contract

# Hop-by-hop headers (RFC 9110 §7.6.1), the ones a transport recomputes for the next hop, and Expect
# (the proxy has read the whole body already; the next hop gets it at once).
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect"}
)
# The WebSocket handshake is made afresh towards the upstream.
HANDSHAKE = frozenset({"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol", "sec-websocket-accept"})


class Upstream:
    def __init__(self, base_url: str, api_key: str | None = None) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the upstream must be an http(s) URL, not {base_url!r}")
        if parts.username or parts.password:
            raise ValueError("put the key in --api-key or GPTNB_API_KEY, not in the upstream URL")
        self.base_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self._key = api_key or None

    @property
    def has_key(self) -> bool:
        return self._key is not None

    def secrets(self) -> set[str]:
        """The operator's key, for scrubbing: never written, even where an upstream echoes it."""
        return {self._key} if self._key else set()

    def url(self, raw_path: bytes, query_string: str, websocket: bool = False) -> str:
        """The upstream URL of a request: the path as the client encoded it, then the query."""
        url = self.base_url + raw_path.decode("latin-1") + (f"?{query_string}" if query_string else "")
        return ("ws" + url[4:]) if websocket else url

    def headers(self, contract: Contract | None, received: Iterable[tuple[str, str]], skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
        """The client's headers for the next hop; with a key configured, it replaces the client's."""
        carriers = [c for c in (contract.auth_carriers if contract else ()) if c.location == "header"]
        names = {c.name.lower(): c for c in carriers}
        sent: list[tuple[str, str]] = []
        keyed = False
        for name, value in received:
            lower = name.lower()
            if lower in HOP_BY_HOP or lower in skip:
                continue
            if lower == "accept-encoding":
                value = "identity"  # the proxy reads every body; compressed ones it could not judge
            elif self._key is not None and lower in names:
                value, keyed = names[lower].prefix + self._key, True
            sent.append((name, value))
        if self._key is not None and not keyed and carriers and not self._carried_elsewhere(contract):
            sent.append((carriers[0].name, carriers[0].prefix + self._key))
        if not any(name.lower() == "accept-encoding" for name, _ in sent):
            sent.append(("accept-encoding", "identity"))
        return sent

    def query(self, contract: Contract | None, query_string: str) -> str:
        """The query string for the next hop, as the client wrote it unless the key goes in it."""
        names = {c.name for c in contract.auth_carriers if c.location == "query"} if contract else set()
        pairs = parse_qsl(query_string, keep_blank_values=True)
        if self._key is None or not any(name in names for name, _ in pairs):
            return query_string
        return urlencode([(name, self._key if name in names else value) for name, value in pairs])

    def subprotocols(self, contract: Contract | None, offered: list[str]) -> list[str]:
        if self._key is None or contract is None:
            return offered
        prefixes = [c.name for c in contract.auth_carriers if c.location == "subprotocol"]
        return [next((p + self._key for p in prefixes if item.startswith(p)), item) for item in offered]

    def _carried_elsewhere(self, contract: Contract | None) -> bool:
        # A contract whose key can also travel in the query or a subprotocol gets no added header.
        return contract is not None and any(c.location != "header" for c in contract.auth_carriers)

