"""Map (method, path) to the contracts that serve it, compiled once at start-up.

Static paths are a dict lookup; only paths with parameters fall back to regular expressions, the most
specific first (more literal text), so ``/v1beta/models/{model}:generateContent`` is tried before
``/v1beta/models/{model}``, whose parameter would otherwise swallow the ``:generateContent`` action.
A path matched by routes for other methods only keeps looking for one that serves the request's
method, as Google's ``{model}:action`` paths and new-api's ``GET /v1/models/:model`` beside
``POST /v1/models/*path`` need. Several contracts may share a method and path when the docs describe
variants (gpts on /v1/chat/completions): the route keeps them in order, variants first, and the
pipeline picks one once the body is known.
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
        dynamic: list[tuple[re.Pattern[str], Route]] = []
        by_path: dict[str, Route] = {}
        for contract in contracts:
            for path in contract.paths:
                by_path.setdefault(path, Route(path)).add(contract)
        for path, route in by_path.items():
            if _PARAM.search(path):
                dynamic.append((compile_path(path), route))
            else:
                self._static[path] = route
        # Longer literal prefixes first, then more literal text in all: /v1/models/{model} never shadows
        # /v1/models/{model}/x nor /v1/models/{model}:action. The sort is stable: ties keep their order.
        dynamic.sort(key=lambda item: (-len(_PARAM.split(item[1].path)[0]), -_literal_length(item[1].path)))
        # A path is only tried against the routes that can match its first segment (in the same order),
        # so a poll of /mj/task/{id}/fetch does not run a hundred other families' patterns first.
        keyed = [(_first_segment(item[1].path), item) for item in dynamic]
        self._any_first = [item for key, item in keyed if key is None]
        self._by_first: dict[str, list[tuple[re.Pattern[str], Route]]] = {
            segment: [item for key, item in keyed if key in (segment, None)] for segment in {key for key, _ in keyed if key is not None}
        }

    def match(self, path: str, method: str | None = None) -> RouteMatch | None:
        """The route for ``path``: one that serves ``method`` when any does, else the first that matches."""
        route = self._static.get(path)
        if route is None and len(path) > 1 and path.endswith("/"):
            route = self._static.get(path.rstrip("/"))
        if route is not None and (method is None or method in route.methods):
            return RouteMatch(route, {})
        first = RouteMatch(route, {}) if route is not None else None
        for pattern, dynamic in self._by_first.get(path.split("/", 2)[1] if path.startswith("/") else "", self._any_first):
            found = pattern.match(path)
            if found is None:
                continue
            if method is None or method in dynamic.methods:
                return RouteMatch(dynamic, found.groupdict())
            first = first or RouteMatch(dynamic, found.groupdict())
        return first


def _first_segment(path: str) -> str | None:
    """The literal first segment of a route's path; None when a parameter is in it."""
    segment = path.split("/", 2)[1] if path.startswith("/") else ""
    return None if "{" in segment else segment


def _literal_length(path: str) -> int:
    return len(_PARAM.sub("", path))
