"""The contracts as one OpenAPI 3.1 document, for tools that speak OpenAPI (schemathesis, codegen, UIs).

One path item per contract's primary path; aliases ride along in ``x-gptnb-aliases`` so the document
stays small. Variants on the same method and path fold into their base operation
(``x-gptnb-variants``, with the ``when`` or ``when_request`` schema that picks each). Schemas are inlined (OpenAPI 3.1 takes
JSON Schema 2020-12 as it is), so every operation reads on its own. A ``text/event-stream`` answer's
``schema`` describes one event, as OpenAPI 3.2's ``itemSchema`` does and schemathesis reads it: ``data``
is JSON (``contentMediaType`` + ``contentSchema``) or the terminator. Callback URLs in request bodies
become OpenAPI ``callbacks``. What OpenAPI has no word for keeps an ``x-gptnb-*`` extension: the SSE
event schema and terminator, WebSocket frames, business errors answered with HTTP 200
(``x-gptnb-error-when``), the models the relay routes (``x-gptnb-models``; the routed body field or path
parameter also lists them as ``examples``), the behaviour kind and the upstream cost. The output depends only on the
contracts and the arguments: paths, statuses, media types and schemes come out sorted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from . import __version__
from .contracts import AuthCarrier, Contract, ContractRegistry

OPENAPI_VERSION = "3.1.0"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")  # OpenAPI's order
# OpenAPI ignores header parameters with these names (they are content negotiation and security).
IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
# Keywords that make sense only at the root of a schema resource; once every $ref is inlined they are
# noise at best, and a nested $id would change the base URI under the validators' feet.
RESOURCE_KEYWORDS = frozenset({"$id", "$schema", "$defs", "$anchor", "$dynamicAnchor", "$vocabulary"})
# Keywords whose values are data, not schemas: copied verbatim.
DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples", "example"})
# Keywords whose values map names (not keywords) to schemas.
NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "dependentSchemas"})

_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(:path)?}")


def openapi_document(registry: ContractRegistry, families: set[str] | None = None, server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``registry``'s contracts (only ``families``, when given).

    Raises ``ValueError`` for a family no contract belongs to.
    """
    known = {c.family for c in registry}
    if families is not None and families - known:
        unknown = ", ".join(sorted(families - known))
        raise ValueError(f"unknown family {unknown} (known: {', '.join(sorted(known))})")
    selected = [c for c in registry if families is None or c.family in families]
    return _Exporter(registry).document(selected, server_url)


def openapi_path(path: str) -> str:
    """Starlette's ``{rest:path}`` is OpenAPI's ``{rest}``."""
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", path)


def path_parameters(path: str) -> list[tuple[str, bool]]:
    """The path's parameters, in order: (name, whether it may span slashes)."""
    return [(m.group(1), bool(m.group(2))) for m in _PARAM.finditer(path)]


def clean_schema(node: Any) -> Any:
    """A copy of a dereferenced schema without the resource keywords OpenAPI tools trip over."""
    if isinstance(node, list):
        return [clean_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    cleaned: dict[str, Any] = {}
    for key, value in node.items():
        if key in RESOURCE_KEYWORDS:
            continue
        if key in DATA_KEYWORDS:
            cleaned[key] = value
        elif key in NAMED_SCHEMAS and isinstance(value, dict):
            cleaned[key] = {name: clean_schema(sub) for name, sub in value.items()}
        else:
            cleaned[key] = clean_schema(value)
    return cleaned


def security_scheme(carrier: AuthCarrier) -> tuple[str, dict[str, Any]]:
    """(components key, security scheme object) for one way of sending the key."""
    if carrier.location == "header" and carrier.name.lower() == "authorization" and carrier.prefix.strip().lower() == "bearer":
        return "bearerAuth", {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"}
    shown = f"{carrier.prefix}<key>"
    if carrier.location == "subprotocol":
        # OpenAPI has no WebSocket subprotocols; the key travels in the handshake's protocol list.
        key = f"subprotocol.{carrier.name}"
        scheme = {
            "type": "apiKey",
            "in": "header",
            "name": "Sec-WebSocket-Protocol",
            "description": f"WebSocket subprotocol {carrier.name}: {shown}",
        }
    else:
        key = f"{carrier.location}.{carrier.name}" + (f".{carrier.prefix.strip()}" if carrier.prefix.strip() else "")
        scheme = {"type": "apiKey", "in": carrier.location, "name": carrier.name, "description": f"{carrier.name}: {shown}"}
    return re.sub(r"[^A-Za-z0-9._-]", "_", key), scheme


def sse_item_schema(event: Any, terminator: str | None) -> dict[str, Any]:
    """The schema of one server-sent event, as OpenAPI 3.2's ``itemSchema`` spells it (and schemathesis
    reads a 3.1 ``schema`` of ``text/event-stream``): the ``data`` field is JSON satisfying ``event``, or
    the literal terminator."""
    payload: dict[str, Any] = {"type": "string", "contentMediaType": "application/json", "contentSchema": event}
    data = {"anyOf": [{"const": terminator}, payload]} if terminator is not None else payload
    return {
        "type": "object",
        "required": ["data"],
        "properties": {"data": data, "event": {"type": "string"}, "id": {"type": "string"}, "retry": {"type": "integer", "minimum": 0}},
    }


class _Exporter:
    def __init__(self, registry: ContractRegistry) -> None:
        self.registry = registry
        self.schemes: dict[str, dict[str, Any]] = {}

    def schema(self, contract: Contract, *pointer: str) -> Any:
        return clean_schema(self.registry.resolve(contract.pointer(*pointer)))

    def document(self, contracts: Iterable[Contract], server_url: str | None) -> dict[str, Any]:
        routes: dict[tuple[str, str], list[Contract]] = {}
        for contract in contracts:
            routes.setdefault((openapi_path(contract.path), contract.method.lower()), []).append(contract)
        paths: dict[str, dict[str, Any]] = {}
        counts: dict[str, int] = {}
        for (path, method), served in sorted(routes.items(), key=lambda item: (item[0][0], HTTP_METHODS.index(item[0][1]))):
            base, variants = _base_and_variants(served)
            paths.setdefault(path, {})[method] = self.operation(base, variants)
            counts[base.family] = counts.get(base.family, 0) + 1
        document: dict[str, Any] = {
            "openapi": OPENAPI_VERSION,
            "info": {
                "title": "GPTNB API (gptnb-mock)",
                "version": __version__,
                "description": "Generated from the gptnb-mock contracts (contracts/<family>/*.json), the single source of truth "
                "the mock serves and checks responses by. Extensions: x-gptnb-aliases (other paths to the same operation), "
                "x-gptnb-variants (contracts on the same method and path, picked by the request body, or by its headers and query), x-gptnb-sse "
                "(event schema and terminator of text/event-stream answers; their `schema` describes one event, as "
                "OpenAPI 3.2's itemSchema does), x-gptnb-error-when (business errors sent "
                "with a success status), x-gptnb-models (the body field or path parameter the relay routes on and the models it "
                "has a channel for; any other model gets a 503), x-gptnb-absent-values (body and query values the relay reads as "
                "not given: members holding them are dropped before validation; x-gptnb-absent-fields, when present, names the only members "
                "read that way, dotted, * for any member or item), x-gptnb-websocket, x-gptnb-kind and x-gptnb-cost.",
            },
        }
        if server_url:
            document["servers"] = [{"url": server_url.rstrip("/") or "/"}]
        document["tags"] = [{"name": family, "description": f"{counts[family]} operation(s)"} for family in sorted(counts)]
        document["paths"] = paths
        document["components"] = {"securitySchemes": dict(sorted(self.schemes.items()))}
        return document

    def operation(self, base: Contract, variants: list[Contract]) -> dict[str, Any]:
        description = base.summary
        if variants:
            listed = "\n".join(f"- `{v.id}` ({v.title}): {v.summary}" for v in variants)
            description += f"\n\nVariants on this method and path, picked by the request (see x-gptnb-variants):\n{listed}"
        operation: dict[str, Any] = {
            "operationId": base.id,
            "summary": base.title,
            "description": description,
            "tags": [base.family],
        }
        parameters = self.parameters(base, variants)
        if parameters:
            operation["parameters"] = parameters
        if base.content_types:
            operation["requestBody"] = self.request_body(base)
        operation["responses"] = self.responses([base, *variants])
        operation["security"] = self.security(base)
        callback = base.document.get("callback")
        if callback:
            operation["callbacks"] = self.callbacks(base, callback["field"])
        if base.aliases:
            operation["x-gptnb-aliases"] = [openapi_path(alias) for alias in base.aliases]
        if variants:
            operation["x-gptnb-variants"] = [
                {"id": v.id, "title": v.title, "summary": v.summary, "cost": v.cost, **self.picked_by(v)} for v in variants
            ]
        if base.models:
            operation["x-gptnb-models"] = {
                "in": base.models.location,
                "field": base.models.field,
                "known": list(base.models.known),
                "patterns": list(base.models.patterns),
            }
        if base.absence:
            operation["x-gptnb-absent-values"] = list(base.absence.values)
            if base.absence.fields is not None:
                operation["x-gptnb-absent-fields"] = [".".join(path) for path in base.absence.fields]
        operation["x-gptnb-kind"] = base.kind
        operation["x-gptnb-cost"] = base.cost
        return operation

    def picked_by(self, variant: Contract) -> dict[str, Any]:
        """The schemas that pick a variant: ``when`` (the body) and/or ``when_request`` (headers and query)."""
        return {key: self.schema(variant, "variant", key) for key in ("when", "when_request") if key in variant.document["variant"]}

    def parameters(self, base: Contract, variants: list[Contract]) -> list[dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        path_schema = self.schema(base, "request", "path") if "path" in base.request else {}
        path_properties = _properties(path_schema)
        routed = base.models.field if base.models and base.models.location == "path" else None
        for name, spans_slashes in path_parameters(base.path):
            schema = path_properties.get(name, {"type": "string"})
            if name == routed and "examples" not in schema:
                # The models the relay has a channel for: any other value is a documented 503.
                schema = {**schema, "examples": list(base.models.known)}
            parameter = {"name": name, "in": "path", "required": True, "schema": schema}
            if spans_slashes:
                parameter["description"] = "May contain slashes."
            found[("path", name)] = parameter
        auth_headers = {c.name.lower() for c in base.auth_carriers if c.location == "header"}
        for contract in (base, *variants):  # the base's declaration wins; variants add what it lacks
            for location, part in (("query", "query"), ("header", "headers")):
                if part not in contract.request:
                    continue
                schema = self.schema(contract, "request", part)
                required = set(_required(schema))
                for name, sub in _properties(schema).items():
                    if location == "header" and (name.lower() in IGNORED_HEADERS or name.lower() in auth_headers):
                        continue
                    key = (location, name.lower() if location == "header" else name)
                    # what only a variant requires is optional for the operation as a whole
                    needed = name in required and contract is base
                    found.setdefault(key, {"name": name, "in": location, "required": needed, "schema": sub})
        return list(found.values())

    def request_body(self, contract: Contract) -> dict[str, Any]:
        if "body" not in contract.request:
            return {"required": False, "content": {media: {} for media in sorted(contract.content_types)}}
        body = self.schema(contract, "request", "body")
        routed = contract.models.field if contract.models and contract.models.location == "body" else None
        field = body.get("properties", {}).get(routed) if isinstance(body, dict) else None
        if isinstance(field, dict) and "examples" not in field:
            # The models the relay has a channel for: any other value is a documented 503.
            body["properties"][routed] = {**field, "examples": list(contract.models.known)}
        return {"required": True, "content": {media: {"schema": body} for media in sorted(contract.content_types)}}

    def responses(self, contracts: list[Contract]) -> dict[str, Any]:
        statuses = sorted({status for c in contracts for status in c.responses}, key=_status_order)
        answered: dict[str, Any] = {}
        for status in statuses:
            declaring = [c for c in contracts if status in c.responses]
            first = declaring[0]
            declared = first.responses[status]
            response: dict[str, Any] = {"description": declared["description"]}
            headers = declared.get("headers") or {}
            if headers:
                response["headers"] = {
                    name: {"schema": self.schema(first, "responses", status, "headers", name)} for name in sorted(headers)
                }
            media_types = sorted({media for c in declaring for media in c.responses[status]["content"]})
            response["content"] = {
                media: _merge_media([self.media(c, status, media) for c in declaring if media in c.responses[status]["content"]])
                for media in media_types
            }
            if "error_when" in declared:
                response["x-gptnb-error-when"] = self.schema(first, "responses", status, "error_when")
            answered[status] = response
        return answered

    def media(self, contract: Contract, status: str, media: str) -> dict[str, Any]:
        declared = contract.responses[status]["content"][media]
        if "sse" in declared:
            sse = {"event": self.schema(contract, "responses", status, "content", media, "sse", "event")}
            for key in ("terminator", "named_by"):
                if key in declared["sse"]:
                    sse[key] = declared["sse"][key]
            return {"schema": sse_item_schema(sse["event"], sse.get("terminator")), "x-gptnb-sse": sse}
        if declared.get("binary"):
            return {"schema": {"type": "string", "contentMediaType": media}}
        if "schema" in declared:
            return {"schema": self.schema(contract, "responses", status, "content", media, "schema")}
        # What OpenAPI cannot say (a WebSocket session's frames, ...) keeps the contract's words.
        return {f"x-gptnb-{kind}": self.schema(contract, "responses", status, "content", media, kind) for kind in sorted(declared)}

    def security(self, contract: Contract) -> list[dict[str, list[str]]]:
        if not contract.auth_required:
            return []
        requirements = []
        for carrier in contract.auth_carriers:
            key, scheme = security_scheme(carrier)
            self.schemes[key] = scheme
            requirements.append({key: []})
        return requirements

    def callbacks(self, contract: Contract, field: str) -> dict[str, Any]:
        body = self.schema(contract, "callback", "body")
        delivery = {
            "post": {
                "summary": f"Task state, POSTed to the URL in {field} on every change",
                "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
                "responses": {"2XX": {"description": "Delivered; other answers are retried with back-off."}},
            }
        }
        return {field: {f"{{$request.body#/{field}}}": delivery}}


def _base_and_variants(served: list[Contract]) -> tuple[Contract, list[Contract]]:
    """The operation's contract and the variants folded into it (a variant whose base is not exported
    stands as the operation itself)."""
    ids = {c.id for c in served}
    bases = sorted((c for c in served if c.variant_of is None or c.variant_of not in ids), key=lambda c: (c.variant_of is not None, c.id))
    base = bases[0]
    return base, sorted((c for c in served if c is not base), key=lambda c: c.id)


def _merge_media(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """One media type object for the base and its variants: any of their distinct schemas."""
    distinct: list[dict[str, Any]] = []
    for obj in objects:
        if obj not in distinct:
            distinct.append(obj)
    if len(distinct) == 1:
        return distinct[0]
    merged = dict(distinct[0])
    schemas = _distinct(o.get("schema", {}) for o in distinct)
    merged["schema"] = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    events = _distinct(o["x-gptnb-sse"]["event"] for o in distinct if "x-gptnb-sse" in o)
    if len(events) > 1 and "x-gptnb-sse" in merged:
        merged["x-gptnb-sse"] = {**merged["x-gptnb-sse"], "event": {"anyOf": events}}
    return merged


def _distinct(items: Iterable[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for item in items:
        seen.setdefault(json.dumps(item, sort_keys=True), item)
    return list(seen.values())


def _properties(schema: Any) -> dict[str, Any]:
    """Top-level properties of an object schema, looking through the ``allOf`` an inlined $ref leaves."""
    if not isinstance(schema, dict):
        return {}
    found: dict[str, Any] = {}
    for part in schema.get("allOf", ()):
        found.update(_properties(part))
    found.update(schema.get("properties", {}))
    return found


def _required(schema: Any) -> list[str]:
    if not isinstance(schema, dict):
        return []
    return [*schema.get("required", ()), *(name for part in schema.get("allOf", ()) for name in _required(part))]


def _status_order(status: str) -> tuple[str, int, str]:
    # "200" < "201" < "2XX" < "400" < "4XX" < "default": exact codes before their class, default last.
    if status == "default":
        return ("9", 0, status)
    return (status[0], 1 if status.endswith("XX") else 0, status)
