"""Map (method, path) to the contracts that serve it, compiled once at start-up.

Static paths are a dict lookup; only paths with parameters fall back to regular expressions, tried in
registration order. Several contracts may share a method and path when the docs describe variants
(gpts on /v1/chat/completions): the route keeps them in order, variants first, and ``select`` picks
one once the body is known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .contracts import Contract

_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(:path)?}")


def compile_path(path: str) -> re.Pattern[str]:
    """``/mj/task/{id}/fetch`` -> a regex with named groups; ``{rest:path}`` may span slashes."""
    pattern, last = "^", 0
    for match in _PARAM.finditer(path):
        pattern += re.escape(path[last : match.start()])
        pattern += f"(?P<{match.group(1)}>.+)" if match.group(2) else f"(?P<{match.group(1)}>[^/]+)"
        last = match.end()
    return re.compile(pattern + re.escape(path[last:]) + "$")


@dataclass
class Route:
    """Everything served on one path: method -> contracts (variants first, base last)."""

    path: str
    methods: dict[str, list[Contract]] = field(default_factory=dict)

    def add(self, contract: Contract) -> None:
        served = self.methods.setdefault(contract.method, [])
        if contract.variant_of is None:
            served.append(contract)
        else:
            served.insert(0, contract)


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    params: dict[str, str]


class Router:
    def __init__(self, contracts: Iterable[Contract]) -> None:
        self._static: dict[str, Route] = {}
        self._dynamic: list[tuple[re.Pattern[str], Route]] = []
        by_path: dict[str, Route] = {}
        for contract in contracts:
            for path in contract.paths:
                by_path.setdefault(path, Route(path)).add(contract)
        for path, route in by_path.items():
            if _PARAM.search(path):
                self._dynamic.append((compile_path(path), route))
            else:
                self._static[path] = route
        # Longer literal prefixes first, so /v1/models/{model} never shadows a more specific path.
        self._dynamic.sort(key=lambda item: -len(_PARAM.split(item[1].path)[0]))

    def match(self, path: str) -> RouteMatch | None:
        route = self._static.get(path)
        if route is not None:
            return RouteMatch(route, {})
        if len(path) > 1 and path.endswith("/"):
            route = self._static.get(path.rstrip("/"))
            if route is not None:
                return RouteMatch(route, {})
        for pattern, route in self._dynamic:
            found = pattern.match(path)
            if found:
                return RouteMatch(route, found.groupdict())
        return None
