"""Request headers as a plain dict, decoded once per request.

ASGI servers hand header names over in lower case; looking one up in Starlette's ``Headers``
re-scans and re-decodes the raw list on every ``get``, which the hot path does several times.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Scope


class HeaderMap(dict[str, str]):
    """Lower-case name -> value (the last one when a header repeats); lookups ignore case."""

    @classmethod
    def from_scope(cls, scope: Scope) -> HeaderMap:
        # The ASGI spec has servers send names in lower case already. Filled in place: building a dict
        # first and handing it to the constructor would copy every header once more.
        found = cls()
        for name, value in scope.get("headers", ()):
            found[name.decode("latin-1")] = value.decode("latin-1")
        return found

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        found = dict.get(self, key)
        if found is None and not key.islower():
            found = dict.get(self, key.lower())
        return default if found is None else found

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())
