"""Which of a route's contracts answers a request, when the docs describe variants on one path.

A route keeps its contracts in order, variants first and the base last. Variants picked by headers or
query (``variant.when_request``: a variant that brings its own auth, Jimeng's ``Action``) are settled
before the body is read; the rest are picked by the body (``variant.when``), the first that matches
winning, the base when none does. The pipeline, the proxy's request judge and ``gptnb-mock validate``
all pick through here, so a request is judged by the contract that answers it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .contracts import Contract, ContractRegistry
from .validation import SchemaCheck


class VariantPicker:
    def __init__(self, registry: ContractRegistry) -> None:
        self.registry = registry
        # Contract id -> its compiled pick (None: it has none), looked up on every request with variants.
        self._when: dict[str, SchemaCheck | None] = {}
        self._when_request: dict[str, SchemaCheck | None] = {}

    def when(self, contract: Contract) -> SchemaCheck | None:
        """The schema a request body must satisfy for ``contract`` to answer (None: no such pick)."""
        return self._kept(self._when, contract, "when")

    def when_request(self, contract: Contract) -> SchemaCheck | None:
        """The schema ``{"headers", "query"}`` must satisfy for ``contract`` to answer (None: no such pick)."""
        return self._kept(self._when_request, contract, "when_request")

    def by_request(self, candidates: list[Contract], headers: Mapping[str, str], query: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[Contract]:
        """The one variant the headers or query pick; else the candidates that headers and query do not
        pick (the body decides among them), or all of them when every one is picked so."""
        if len(candidates) == 1:
            return candidates
        rest = []
        request = None  # what the picks look at, made only when a variant has one
        for contract in candidates:
            picks = self.when_request(contract)
            if picks is None:
                rest.append(contract)
                continue
            if request is None:
                request = {"headers": dict(headers), "query": dict(query)}
            if picks.is_valid(request):
                return [contract]
        return rest or candidates

    def by_body(self, candidates: list[Contract], body: Any) -> Contract:
        """The first variant whose ``when`` the body satisfies, else the base (the last candidate). A
        body that is not an object picks the base: a ``when`` schema that does not say "type":
        "object" would accept any non-object."""
        if len(candidates) > 1 and isinstance(body, dict):
            for contract in candidates[:-1]:
                when = self.when(contract)
                if when is not None and when.is_valid(body):
                    return contract
        return candidates[-1]

    def _kept(self, kept: dict[str, SchemaCheck | None], contract: Contract, key: str) -> SchemaCheck | None:
        try:
            return kept[contract.id]
        except KeyError:
            found = kept[contract.id] = self._check(contract, key)
            return found

    def _check(self, contract: Contract, key: str) -> SchemaCheck | None:
        variant = contract.document.get("variant")
        if not variant or key not in variant:
            return None
        return self.registry.check(contract.pointer("variant", key))
