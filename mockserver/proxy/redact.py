"""Keep keys off the disk: what a recording or the journal shows of headers, query strings and
WebSocket subprotocols, with every credential replaced.

The names come from the contracts (every ``auth`` carrier any family declares), plus the ones a
client may send whatever the contract says (cookies, proxy credentials, other vendors' key headers), so
a new family's carrier is covered as soon as its contract exists. On top of that, every secret value
seen in a request is scrubbed from the finished cassette text wherever else it turns up (an echoed
header, an error message quoting the key).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..contracts import ContractRegistry

REDACTED = "<redacted>"

# Credential headers beyond the contracts' own carriers: cookies, proxy credentials, and the key
# headers of the vendors whose formats the relay speaks (Anthropic x-api-key, Google x-goog-api-key).
ALWAYS_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-goog-api-key", "mj-api-secret", "api-key", "x-key"}
)
# Query parameters that carry keys (Google's ?key=, OAuth-style tokens).
ALWAYS_QUERY = frozenset({"key", "api_key", "apikey", "api-key", "access_token", "token"})
# Shorter values are not keys (a "Bearer" without one, a single character) and would scrub too much.
MIN_SECRET_LENGTH = 6


class Redactor:
    def __init__(self, registry: ContractRegistry) -> None:
        carriers = [carrier for contract in registry for carrier in contract.auth_carriers]
        self.headers_named = ALWAYS_HEADERS | {c.name.lower() for c in carriers if c.location == "header"}
        self.query_named = ALWAYS_QUERY | {c.name.lower() for c in carriers if c.location == "query"}
        self.subprotocol_prefixes = tuple(sorted({c.name for c in carriers if c.location == "subprotocol"}))
        self.prefixes = tuple(sorted({c.prefix for c in carriers if c.prefix}, key=len, reverse=True))

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        """Lower-case name -> value with credentials replaced (a repeated header's values joined by ", ")."""
        shown: dict[str, str] = {}
        for name, value in headers:
            name = name.lower()
            if name in self.headers_named:
                value = REDACTED
            elif name == "sec-websocket-protocol":
                value = self.subprotocols(value)
            shown[name] = f"{shown[name]}, {value}" if name in shown else value
        return shown

    def subprotocols(self, offered: str) -> str:
        """``realtime, openai-insecure-api-key.sk-…`` -> ``realtime, openai-insecure-api-key.<redacted>``."""
        items = []
        for item in (p.strip() for p in offered.split(",")):
            prefix = next((p for p in self.subprotocol_prefixes if item.startswith(p)), None)
            items.append(prefix + REDACTED if prefix is not None else item)
        return ", ".join(items)

    def query(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(name, REDACTED if name.lower() in self.query_named else value) for name, value in pairs]

    def secrets(self, headers: Iterable[tuple[str, str]], query: Iterable[tuple[str, str]]) -> set[str]:
        """Every credential value a request carries, bare and with its scheme prefix."""
        found: set[str] = set()
        for name, value in headers:
            name = name.lower()
            if name in self.headers_named:
                found.update(self._spellings(value))
            elif name == "sec-websocket-protocol":
                for item in (p.strip() for p in value.split(",")):
                    for prefix in self.subprotocol_prefixes:
                        if item.startswith(prefix):
                            found.update(self._spellings(item[len(prefix) :]))
        for name, value in query:
            if name.lower() in self.query_named:
                found.update(self._spellings(value))
        return {s for s in found if len(s) >= MIN_SECRET_LENGTH}

    def _spellings(self, value: str) -> set[str]:
        value = value.strip()
        bare = next((value[len(p) :] for p in self.prefixes if value.lower().startswith(p.lower())), value)
        # Cookies carry several name=value pairs; each value may be a session secret.
        parts = {part.split("=", 1)[-1].strip() for part in value.split(";")} if "=" in value else set()
        return {value, bare.strip(), *parts}


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` (JSON-like data) with every occurrence of each secret replaced in every string, keys
    included. Done on the data, not on its JSON text, so escaping cannot hide a secret."""
    ordered = sorted(secrets, key=len, reverse=True)  # longest first: no fragment of a longer one is left
    return _scrubbed(value, ordered) if ordered else value


def _scrubbed(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {_scrubbed(k, secrets): _scrubbed(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item, secrets) for item in value]
    return value
