"""Load the contract files into a registry the rest of the toolkit reads from.

A contract file is read once; everything derived from it (compiled validators, dereferenced schemas,
route table entries) is built once and cached, so nothing on the request path re-reads configuration.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import referencing
from referencing.jsonschema import DRAFT202012

from .absent import Absence
from .resources import contracts_dir
from .validation import SchemaCheck, build_rs_registry

BASE_URI = "https://gptnb-mock.invalid/contracts/"
META_SCHEMA_FILE = "contract.schema.json"


class ContractError(ValueError):
    """A contract file is missing, unreadable or does not satisfy the meta-schema."""


@dataclass(frozen=True)
class AuthCarrier:
    location: str  # header | query | subprotocol
    name: str
    prefix: str = ""


@dataclass(frozen=True)
class ModelRouting:
    """The request field the relay routes on, and the models it has a channel for."""

    field: str
    known: tuple[str, ...]
    location: str = "body"  # or "path": the model is a path parameter named ``field``
    patterns: tuple[str, ...] = ()
    listed: tuple[str, ...] = ()
    owned_by: str = "openai"


@dataclass(frozen=True, eq=False)
class Contract:
    id: str
    family: str
    title: str
    summary: str
    method: str
    path: str
    aliases: tuple[str, ...]
    auth_required: bool
    auth_carriers: tuple[AuthCarrier, ...]
    cost: str
    errors: str
    kind: str
    request: dict[str, Any]
    responses: dict[str, Any]
    behavior: dict[str, Any]
    examples: tuple[dict[str, Any], ...]
    uri: str
    document: dict[str, Any] = field(repr=False)
    variant_of: str | None = None
    models: ModelRouting | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.path, *self.aliases)

    @functools.cached_property
    def content_types(self) -> tuple[str, ...]:
        return tuple(self.request.get("content_types", ()))

    @functools.cached_property
    def absence(self) -> Absence:
        """What the relay reads as "not given" in this request's body and query (see absent.py)."""
        return Absence.declared(self.request.get("absent_values"))

    @property
    def absent_values(self) -> tuple[Any, ...]:
        return self.absence.values

    @functools.lru_cache(maxsize=None)  # noqa: B019 (contracts live as long as the process)
    def pointer(self, *parts: str) -> str:
        """A JSON pointer URI into this contract (``/`` inside parts is escaped, as media types need)."""
        escaped = (p.replace("~", "~0").replace("/", "~1") for p in parts)
        return self.uri + "#/" + "/".join(escaped)

    def event_stream(self, status: int) -> dict[str, Any]:
        """The ``sse`` declaration of the event stream answered with ``status`` (empty when there is none)."""
        key = self.response_key(status)
        content = self.responses[key]["content"] if key is not None else {}
        return content.get("text/event-stream", {}).get("sse", {})

    def response_key(self, status: int) -> str | None:
        """Which ``responses`` entry describes ``status``: exact, then ``4XX``, then ``default``."""
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in self.responses:
                return key
        return None


class ContractRegistry:
    """Every contract, by id, with its schemas resolvable across files."""

    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        # documents: path relative to the contracts dir ("openai/x.json") -> parsed JSON
        self._documents = documents
        self.schema_registry: referencing.Registry = referencing.Registry().with_resources(
            (BASE_URI + rel, DRAFT202012.create_resource(doc)) for rel, doc in documents.items()
        ).crawl()
        self._rs_registry = build_rs_registry(documents, BASE_URI)
        self._checks: dict[str, SchemaCheck] = {}
        self._resolved: dict[str, Any] = {}
        broken = self.meta_violations()
        if broken:
            lines = [f"{rel}: {message}" for rel, messages in sorted(broken.items()) for message in messages]
            raise ContractError("contracts break the meta-schema:\n  " + "\n  ".join(lines))
        self.contracts: dict[str, Contract] = {}
        for rel, doc in sorted(documents.items()):
            if not _is_contract(rel):
                continue
            contract = _build_contract(doc, BASE_URI + rel)
            if contract.id in self.contracts:
                raise ContractError(f"duplicate contract id {contract.id!r} in {rel}")
            self.contracts[contract.id] = contract

    @classmethod
    def load(cls, directory: Path | None = None) -> ContractRegistry:
        directory = directory or contracts_dir()
        documents: dict[str, dict[str, Any]] = {}
        for path in sorted(directory.rglob("*.json")):
            rel = path.relative_to(directory).as_posix()
            try:
                documents[rel] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ContractError(f"{rel}: cannot read contract: {exc}") from exc
        if META_SCHEMA_FILE not in documents:
            raise ContractError(f"{directory}: no {META_SCHEMA_FILE}")
        return cls(documents)

    def __iter__(self) -> Iterator[Contract]:
        return iter(self.contracts.values())

    def __len__(self) -> int:
        return len(self.contracts)

    def __getitem__(self, contract_id: str) -> Contract:
        try:
            return self.contracts[contract_id]
        except KeyError:
            raise KeyError(f"unknown contract id {contract_id!r}") from None

    def __contains__(self, contract_id: object) -> bool:
        return contract_id in self.contracts

    @property
    def documents(self) -> dict[str, dict[str, Any]]:
        return self._documents

    def meta_violations(self) -> dict[str, list[str]]:
        """Contract file -> messages, for every file that breaks the meta-schema."""
        meta = self.check(BASE_URI + META_SCHEMA_FILE)
        report: dict[str, list[str]] = {}
        for rel, doc in self._documents.items():
            if _is_contract(rel):
                errors = [str(v) for v in meta.violations(doc)]
                if errors:
                    report[rel] = errors
        return report

    def check(self, uri: str) -> SchemaCheck:
        """The compiled validator for the schema at ``uri`` (a pointer into a contract)."""
        found = self._checks.get(uri)
        if found is None:
            found = self._checks[uri] = SchemaCheck.compile(uri, self._rs_registry)
        return found

    def resolve(self, uri: str) -> Any:
        """The schema at ``uri`` with every ``$ref`` inlined (for generators that cannot follow refs).

        Cached: callers must treat the result as read-only.
        """
        found = self._resolved.get(uri)
        if found is None:
            found = self._resolved[uri] = _dereference(uri, self.schema_registry)
        return found


def _is_contract(rel: str) -> bool:
    return rel != META_SCHEMA_FILE and not Path(rel).name.startswith("_")


def _build_contract(doc: dict[str, Any], uri: str) -> Contract:
    try:
        auth = doc["auth"]
        models = doc.get("models")
        variant = doc.get("variant") or {}
        return Contract(
            id=doc["id"],
            family=doc["family"],
            title=doc["title"],
            summary=doc["summary"],
            method=doc["method"],
            path=doc["path"],
            aliases=tuple(doc.get("aliases", ())),
            auth_required=auth.get("required", True),
            auth_carriers=tuple(AuthCarrier(c["in"], c["name"], c.get("prefix", "")) for c in auth["carriers"]),
            cost=doc["cost"],
            errors=doc["errors"],
            kind=doc["behavior"]["kind"],
            request=doc["request"],
            responses=doc["responses"],
            behavior=doc["behavior"],
            examples=tuple(doc["examples"]),
            uri=uri,
            document=doc,
            variant_of=variant.get("of"),
            models=ModelRouting(
                field=models["field"],
                known=tuple(models["known"]),
                location=models.get("in", "body"),
                patterns=tuple(models.get("patterns", ())),
                listed=tuple(models.get("listed", ())),
                owned_by=models.get("owned_by", "openai"),
            )
            if models
            else None,
        )
    except (KeyError, TypeError) as exc:
        raise ContractError(f"{uri}: malformed contract ({exc!r}); run the meta-schema check") from exc


def _dereference(uri: str, registry: referencing.Registry, depth: int = 0) -> Any:
    resolver = registry.resolver()
    resolved = resolver.lookup(uri)
    return _inline(resolved.contents, resolved.resolver, depth)


def _inline(node: Any, resolver: referencing.Resolver, depth: int) -> Any:
    # Recursive schemas would inline forever; past a depth the ref becomes "anything".
    if isinstance(node, list):
        return [_inline(item, resolver, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        if depth > 12:
            return {}
        resolved = resolver.lookup(node["$ref"])
        target = _inline(resolved.contents, resolved.resolver, depth + 1)
        siblings = {k: _inline(v, resolver, depth) for k, v in node.items() if k != "$ref"}
        return {"allOf": [target, siblings]} if siblings else target
    return {key: _inline(value, resolver, depth) for key, value in node.items()}


@functools.cache
def default_registry() -> ContractRegistry:
    """The registry of the shipped contracts, loaded once per process."""
    return ContractRegistry.load()
