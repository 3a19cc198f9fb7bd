"""Judge a request another client sent against its contract, without answering it.

The mock's pipeline refuses a request at its first broken rule; the proxy forwards every request and
only reports. It reads the body as the pipeline does (content type, JSON or form with the schema's
types, the relay's "not given" values dropped) and collects every violation of the contract's
``request`` schemas, so a request the mock would refuse is one the proxy marks.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Scope

from .. import parsing
from ..absent import drop_absent
from ..contracts import Contract, ContractRegistry
from ..errors import ApiError
from ..headers import HeaderMap
from ..routing import Router
from ..variants import VariantPicker


@dataclass(frozen=True)
class Incoming:
    """A request as it reached the proxy, decoded once: what the relays and their cassettes read."""

    path: str
    raw_path: bytes
    received: list[tuple[str, str]]
    """The headers in the order and spelling they came in."""
    headers: HeaderMap
    query_string: str
    query: list[tuple[str, str]]
    started: float
    """When it came in (epoch seconds)."""
    clock: float
    """The same moment on the monotonic clock, for durations."""

    @classmethod
    def from_scope(cls, scope: Scope) -> Incoming:
        query_string = scope.get("query_string", b"").decode("latin-1")
        return cls(
            path=scope["path"],
            raw_path=scope.get("raw_path") or scope["path"].encode(),
            received=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", ())],
            headers=HeaderMap.from_scope(scope),
            query_string=query_string,
            query=parse_qsl(query_string, keep_blank_values=True),
            started=time.time(),
            clock=time.perf_counter(),
        )

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.clock) * 1000


@dataclass
class RequestSeen:
    """A request as the proxy understood it."""

    contract: Contract | None
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    """The decoded body (JSON, or form fields with each file described), as recordings keep it."""
    violations: list[str] = field(default_factory=list)


class RequestJudge:
    def __init__(self, registry: ContractRegistry) -> None:
        self.registry = registry
        self.router = Router(registry)
        self.variants = VariantPicker(registry)  # picked as the pipeline picks them

    def candidates(self, method: str, path: str) -> tuple[list[Contract], dict[str, str]]:
        """The contracts serving ``method path`` (variants first), and the path's parameters."""
        match = self.router.match(path, method)
        served = match.route.methods.get(method) if match else None
        return (list(served), match.params) if served and match else ([], {})

    async def judge(self, method: str, path: str, query: list[tuple[str, str]], headers: HeaderMap, raw: bytes) -> RequestSeen:
        candidates, params = self.candidates(method, path)
        if not candidates:
            return RequestSeen(None, violations=[f"request: no contract serves {method} {path}"])
        candidates = self.variants.by_request(candidates, headers, query)
        base = candidates[-1]
        seen = RequestSeen(base, params)
        try:
            body, files = await self._read(base, headers, raw)
        except ApiError as error:
            seen.violations.append(f"request: {error.message}")
            seen.body = _described_raw(raw)
            return seen
        seen.body = described_body(body, files)
        seen.contract = contract = self.variants.by_body(candidates, body)
        problems = []
        checks = {
            "path": params,
            "query": drop_absent(parsing.coerce_fields(query, self._resolved(contract, "query")), contract.absent_values),
            "headers": dict(headers),
            "body": drop_absent(body, contract.absent_values),
        }
        for part, instance in checks.items():
            if part in contract.request:
                check = self.registry.check(contract.pointer("request", part))
                problems += [f"request {part} {v}" for v in check.violations(instance)]
        seen.violations += problems
        return seen

    async def _read(self, contract: Contract, headers: HeaderMap, raw: bytes) -> tuple[Any, dict[str, list[parsing.Upload]]]:
        accepted = contract.content_types
        if not accepted:
            return None, {}
        media = parsing.check_content_type(headers.get("content-type"), accepted, bool(raw))
        if media == parsing.JSON:
            return await parsing.parse_json(raw), {}
        if not raw:
            return {}, {}
        fields, files = await parsing.parse_form(raw, headers.get("content-type", ""), media)
        data = parsing.coerce_fields(fields, self._resolved(contract, "body"))
        for name, uploads in files.items():
            data[name] = uploads[0].filename  # validation sees a file as its name, as the pipeline does
        return data, files

    def _resolved(self, contract: Contract, part: str) -> dict[str, Any] | None:
        return self.registry.resolve(contract.pointer("request", part)) if part in contract.request else None


def described_body(body: Any, files: dict[str, list[parsing.Upload]]) -> Any:
    """A parsed body with each uploaded file described (name, type, size, hash) instead of named."""
    if not files or not isinstance(body, dict):
        return body
    described = dict(body)
    for name, uploads in files.items():
        described[name] = [upload_summary(u) for u in uploads]
    return described


def upload_summary(upload: parsing.Upload) -> dict[str, Any]:
    """A file part as recordings keep it: enough to match it again, not its bytes."""
    return {"filename": upload.filename, "content_type": upload.content_type, "size": upload.size, "sha256": hashlib.sha256(upload.data).hexdigest()}


def _described_raw(raw: bytes) -> Any:
    return raw.decode("utf-8", errors="replace") if raw else None


VERDICT_HEADER = b"x-gptnb-verdict"
VIOLATION_HEADER = b"x-gptnb-violation"


def verdict_headers(contract: Contract | None, entry: Any, pending: bool) -> list[tuple[bytes, bytes]]:
    """``x-gptnb-verdict: <conforms|violates|pending|no-contract>; contract=<id>; violations=<n>; entry=<seq>``
    and, when something broke, the first violation in ``x-gptnb-violation``. ``pending``: a stream whose
    events are still to be judged (the journal entry ``entry`` has the final word)."""
    found = entry.violations
    state = "no-contract" if contract is None else "violates" if found else "pending" if pending else "conforms"
    value = f"{state}; contract={contract.id if contract else '-'}; violations={len(found)}; entry={entry.seq}"
    headers = [(VERDICT_HEADER, value.encode())]
    if found:
        # Header values are Latin-1: anything else (a Chinese message) travels escaped.
        headers.append((VIOLATION_HEADER, found[0][:300].encode("ascii", "backslashreplace")))
    return headers
