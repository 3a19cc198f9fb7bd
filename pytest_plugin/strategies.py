"""Hypothesis strategies of requests, built from the contracts.

``requests("openai.chat.completions")`` draws ready-to-send requests that the contract accepts;
``invalid_requests(...)`` draws requests that break exactly one of its rules, each labelled with the
rule it breaks. Both start from what the schema says and add what a schema alone cannot: model names
the relay has channels for, real files where a file is uploaded.

    from hypothesis import given
    from pytest_plugin.strategies import requests

    @given(req=requests("openai.embeddings.create"))
    def test_embeddings(req, gptnb):
        response = req.send(httpx.Client(), gptnb.url)
        assert response.status_code == 200
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from mockserver import media
from mockserver.contracts import Contract, ContractRegistry, default_registry
from mockserver.examples import examples_of
from mockserver.routing import compile_path
from mockserver.synth import UnsatisfiableSchema, instance

JSON = "application/json"
MULTIPART = "multipart/form-data"
PLACEHOLDER_KEY = "sk-gptnbmockstrategy000000000000000000000000000000"
MEDIA_BASE = "https://goapi.gptnb.ai"
DATA_URL_PNG = "data:image/png;base64," + base64.b64encode(media.png(64, 64, seed=1)).decode()


@dataclass
class GeneratedRequest:
    """One request, ready for any HTTP client; ``rule`` says which contract rule it breaks, if any."""

    contract_id: str
    method: str
    path: str
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    form: dict[str, Any] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    content: bytes | None = None
    rule: str | None = None

    def httpx_kwargs(self, base_url: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"method": self.method, "url": base_url.rstrip("/") + self.path, "headers": self.headers}
        if self.query:
            kwargs["params"] = self.query
        if self.content is not None:
            kwargs["content"] = self.content
        elif self.files is not None or self.form is not None:
            kwargs["data"] = self.form or {}
            kwargs["files"] = self.files or {}
        elif self.json is not None:
            kwargs["json"] = self.json
        return kwargs

    def send(self, client: httpx.Client, base_url: str) -> httpx.Response:
        return client.request(**self.httpx_kwargs(base_url))

    def __repr__(self) -> str:  # what hypothesis prints for a falsifying example
        body = self.json if self.json is not None else self.form if self.form is not None else self.content
        return f"<{self.method} {self.path} {self.contract_id}{' breaks: ' + self.rule if self.rule else ''} body={body!r:.300}>"


def _registry(registry: ContractRegistry | None) -> ContractRegistry:
    return registry or default_registry()


def _auth_headers(contract: Contract) -> dict[str, str]:
    for carrier in contract.auth_carriers:
        if carrier.location == "header":
            return {carrier.name: carrier.prefix + PLACEHOLDER_KEY}
    return {}


def _file_fields(schema: dict[str, Any]) -> list[str]:
    return [name for name, prop in schema.get("properties", {}).items() if isinstance(prop, dict) and prop.get("format") == "binary"]


def _upload_for(contract: Contract, name: str) -> tuple[str, bytes, str]:
    """A real file of the kind the endpoint expects (audio for audio endpoints, an image otherwise)."""
    if "audio" in contract.path:
        return ("tone.wav", media.sample("tone.wav"), "audio/wav")
    return ("image.png", media.png(64, 64, seed=1), "image/png")


def _path_for(contract: Contract, params: dict[str, Any]) -> str:
    path = contract.path
    for name, value in params.items():
        path = path.replace("{" + name + "}", str(value)).replace("{" + name + ":path}", str(value))
    return path


def _body_schema(contract: Contract, registry: ContractRegistry) -> dict[str, Any] | None:
    if "body" not in contract.request:
        return None
    return registry.resolve(contract.pointer("request", "body"))


def _realistic(contract: Contract, fields: Any, location: str = "body") -> Any:
    """Make schema-valid ``fields`` (the body, or the path parameters) ones the mock can route: a model
    the relay has a channel for, where the contract routes on a field there."""
    routing = contract.models
    if routing and routing.location == location and isinstance(fields, dict):
        return st.sampled_from(routing.known).map(lambda model: {**fields, routing.field: model})
    return st.just(fields)


@functools.cache
def _picking(contract: Contract) -> dict[str, Any]:
    """Headers and query that pick a variant chosen by them (its ``when_request``, an inline schema)."""
    picks = (contract.document.get("variant") or {}).get("when_request")
    return instance(picks, seed=0) if picks is not None else {}


def _build(contract: Contract, body: Any, params: dict[str, Any], query: dict[str, Any], rule: str | None = None) -> GeneratedRequest:
    picked = _picking(contract)
    headers = {**picked.get("headers", {}), **_auth_headers(contract)}  # the placeholder key wins over a picked one
    request = GeneratedRequest(contract.id, contract.method, _path_for(contract, params), {**picked.get("query", {}), **query}, headers, rule=rule)
    if body is None:
        return request
    if MULTIPART in contract.content_types and JSON not in contract.content_types:
        schema_files = set(_file_fields(contract.request.get("body", {})))
        # A file field holding something other than a file name is a broken request: send it as text.
        uploads = {name for name in schema_files if isinstance(body.get(name), str)}
        request.form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items() if k not in uploads}
        request.files = {name: _upload_for(contract, name) for name in uploads}
    else:
        request.json = body
    return request


def _params(contract: Contract, registry: ContractRegistry, part: str) -> st.SearchStrategy[dict[str, Any]]:
    if part not in contract.request:
        return st.just({})
    schema = registry.resolve(contract.pointer("request", part))
    if part == "path":
        # Path segments: printable, no slash, so the URL stays the same route.
        return st.fixed_dictionaries({name: st.from_regex(r"\A[A-Za-z0-9_.-]{1,32}\Z") for name in schema.get("properties", {})})
    return from_schema(schema)


def requests(
    contract_id: str,
    *,
    registry: ContractRegistry | None = None,
    task_ids: Sequence[str] = (),
    media_base: str = MEDIA_BASE,
) -> st.SearchStrategy[GeneratedRequest]:
    """Requests the contract accepts, generated from its request schemas.

    ``task_ids``: ids of tasks that exist on the server under test; a task query then asks for one
    of them instead of a random id. URL fields get links to the mock's own media under
    ``media_base``, and data-URL fields real base64 images, where the schema alone would give
    strings no server could fetch or decode.
    """
    registry = _registry(registry)
    contract = registry[contract_id]
    schema = _body_schema(contract, registry)
    bodies = (
        from_schema(schema).flatmap(lambda body: _realistic(contract, _with_media(schema, body, media_base))).flatmap(lambda body: _left_empty(contract, schema, body))
        if schema is not None
        else st.none()
    )
    params = _params(contract, registry, "path").flatmap(lambda p: _realistic(contract, p, "path"))
    query = _params(contract, registry, "query")
    where, _, name = contract.behavior.get("task_id", "").partition(".")
    if task_ids and where == "path":
        params = params.flatmap(lambda p: st.sampled_from(list(task_ids)).map(lambda task_id: {**p, name: task_id}))
    elif task_ids and where == "query":
        query = query.flatmap(lambda q: st.sampled_from(list(task_ids)).map(lambda task_id: {**q, name: task_id}))
    elif task_ids and where == "body":
        bodies = bodies.flatmap(lambda b: st.sampled_from(list(task_ids)).map(lambda task_id: {**(b or {}), name: [task_id] if name.endswith("s") else task_id}))
    return st.builds(lambda body, p, q: _build(contract, body, p, q), bodies, params, query)


def _unused_fields(contract: Contract, schema: dict[str, Any], body: Any) -> tuple[list[str], tuple[Any, ...]]:
    """Optional fields the body leaves out, and the values a real client sends there instead
    (only text ones where the body is a form)."""
    absence = contract.absence
    if not absence or not isinstance(body, dict):
        return [], ()
    markers = absence.values
    if JSON not in contract.content_types:
        markers = tuple(m for m in markers if isinstance(m, str))
    required = set(schema.get("required", ()))
    return [name for name in schema.get("properties", {}) if name not in body and name not in required and absence.covers(name)], markers


def _left_empty(contract: Contract, schema: dict[str, Any], body: Any) -> st.SearchStrategy[Any]:
    """The body with some unused optional fields sent empty, as clients of Go-decoding relays do."""
    unused, markers = _unused_fields(contract, schema, body)
    if not unused or not markers:
        return st.just(body)
    extra = st.dictionaries(st.sampled_from(unused), st.sampled_from(markers), max_size=len(unused))
    return extra.map(lambda fields: {**body, **fields})


_URL_NAME = re.compile(r"(^|_)(url|link|image|img|video|audio)s?$|Url$", re.I)


def _with_media(schema: dict[str, Any], body: Any, media_base: str) -> Any:
    """Point URL fields at the mock's own media and fill data-URL fields with a real image."""
    if not isinstance(body, dict):
        return body
    properties = schema.get("properties", {})
    changed = dict(body)
    for name, value in body.items():
        prop = properties.get(name)
        if not isinstance(prop, dict):
            continue
        wants_data_url = "data:image" in json.dumps(prop) or "base64" in name.lower()
        if isinstance(value, list) and wants_data_url and all(isinstance(v, str) for v in value):
            changed[name] = [DATA_URL_PNG] * len(value)
            continue
        if not isinstance(value, str):
            continue
        if wants_data_url:
            changed[name] = DATA_URL_PNG
        elif prop.get("format") in ("uri", "url", "iri") or _URL_NAME.search(name):
            kind = "video/1.mp4" if "video" in name.lower() else "audio/1/1.mp3" if "audio" in name.lower() else "image/512x512/1.png"
            changed[name] = f"{media_base.rstrip('/')}/__mock/media/{kind}"
    return changed if _valid(schema, changed) else body


def _valid(schema: dict[str, Any], body: Any) -> bool:
    import jsonschema

    return jsonschema.Draft202012Validator(schema).is_valid(body)


def sample_requests(contract_id: str, count: int, *, registry: ContractRegistry | None = None) -> list[GeneratedRequest]:
    """``count`` valid requests made without hypothesis: deterministic and fast, for runners.

    Each is the schema's synthesised instance for a different seed, made routable like ``requests``.
    """
    registry = _registry(registry)
    contract = registry[contract_id]
    schema = _body_schema(contract, registry)
    made = []
    for seed in range(count):
        try:
            body = instance(schema, seed=seed, hint=contract.id) if schema is not None else None
            params = instance(registry.resolve(contract.pointer("request", "path")), seed=seed) if "path" in contract.request else {}
            query = instance(registry.resolve(contract.pointer("request", "query")), seed=seed) if "query" in contract.request else {}
        except UnsatisfiableSchema:
            continue
        routing = contract.models
        routed = params if routing and routing.location == "path" else body
        if routing and isinstance(routed, dict):
            routed[routing.field] = routing.known[seed % len(routing.known)]
        unused, markers = _unused_fields(contract, schema or {}, body)
        if seed % 2 and markers:  # every other request leaves its unused fields empty rather than out
            body = {**body, **{name: markers[0] for name in unused}}
        made.append(_build(contract, body, params, query))
    return made


# ---- invalid requests: start from a documented valid request and break exactly one rule ----

SAFE_INTEGER = 2**53
WRONG_TYPE_VALUES: dict[str, Any] = {"string": 12345, "integer": "not-a-number", "number": "NaN-text", "boolean": "yes-ish", "array": {"not": "an array"}, "object": ["not", "an", "object"]}


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    found = {declared} if isinstance(declared, str) else set(declared or ())
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key, ()):
            found |= _types(branch) if isinstance(branch, dict) else set()
    if "enum" in schema:
        found |= {type_name(v) for v in schema["enum"]}
    if "const" in schema:
        found.add(type_name(schema["const"]))
    return found


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object", type(None): "null"}.get(type(value), "string")


def _mutations(schema: dict[str, Any], body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(rule, broken body) pairs, one broken rule each, for the top-level fields of ``body``."""
    found: list[tuple[str, dict[str, Any]]] = []
    properties = schema.get("properties", {})
    for name in schema.get("required", []):
        if name in body:
            broken = {k: v for k, v in body.items() if k != name}
            found.append((f"missing required field {name!r}", broken))
    for name, prop in properties.items():
        if not isinstance(prop, dict):
            continue
        types = _types(prop) | ({"integer"} if "number" in _types(prop) else set())
        for value in WRONG_TYPE_VALUES.values():
            if types and type_name(value) not in types:
                found.append((f"wrong type for {name!r}: {type_name(value)} where {'/'.join(sorted(types))} is required", {**body, name: value}))
                break
        # Bounds at the edge of int64 (seed) cannot be overstepped exactly: JSON parsers read such
        # numbers as doubles, so only bounds a double holds exactly are tested.
        if abs(prop.get("maximum", SAFE_INTEGER)) < SAFE_INTEGER:
            found.append((f"{name!r} above its maximum {prop['maximum']}", {**body, name: prop["maximum"] + 1}))
        if abs(prop.get("minimum", SAFE_INTEGER)) < SAFE_INTEGER:
            found.append((f"{name!r} below its minimum {prop['minimum']}", {**body, name: prop["minimum"] - 1}))
        if "enum" in prop and all(isinstance(v, str) for v in prop["enum"]):
            found.append((f"{name!r} not one of its enum values", {**body, name: "no-such-value-zz"}))
        if "maxLength" in prop and prop["maxLength"] < 100_000:
            found.append((f"{name!r} longer than maxLength {prop['maxLength']}", {**body, name: "x" * (prop["maxLength"] + 1)}))
        if prop.get("minLength", 0) > 0:
            found.append((f"{name!r} shorter than minLength {prop['minLength']}", {**body, name: ""}))
        if prop.get("minItems", 0) > 0 and isinstance(body.get(name), list):
            found.append((f"{name!r} has fewer than minItems {prop['minItems']}", {**body, name: []}))
    return found


def _valid_bases(contract: Contract) -> list[dict[str, Any]]:
    """Documented requests of this contract that are JSON/form bodies (the starting points)."""
    bases = []
    for example in examples_of(contract):
        request = example.request
        body = request.get("body", request.get("form"))
        if isinstance(body, dict) and example.response.get("status", 200) < 400:
            bases.append({k.removesuffix("[]"): v for k, v in body.items()})
    return bases


def invalid_requests(contract_id: str, *, registry: ContractRegistry | None = None) -> st.SearchStrategy[GeneratedRequest]:
    """Requests that break exactly one rule of the contract, labelled in ``.rule``."""
    candidates = invalid_request_cases(contract_id, registry=registry)
    if not candidates:
        raise ValueError(f"{contract_id}: no invalid request can be derived (no body schema, no documented request)")
    return st.sampled_from(candidates).map(copy.deepcopy)


def invalid_request_cases(contract_id: str, *, registry: ContractRegistry | None = None) -> list[GeneratedRequest]:
    """Every one-rule-broken request derivable for the contract (the conformance runner's negatives)."""
    registry = _registry(registry)
    contract = registry[contract_id]
    schema = _body_schema(contract, registry)
    check = registry.check(contract.pointer("request", "body")) if schema is not None else None
    candidates: list[GeneratedRequest] = []
    rules_seen: set[str] = set()
    for base in _valid_bases(contract) if schema is not None else []:
        for rule, body in _mutations(schema, base):
            # One request per broken rule: the first documented request that can carry it.
            # Broken as the relay reads it: a value it takes for "not given" breaks nothing.
            if rule not in rules_seen and check is not None and not check.is_valid(contract.absence.drop(body)):
                rules_seen.add(rule)
                candidates.append(_build(contract, copy.deepcopy(body), _example_params(contract), {}, rule))
    raw = _build(contract, None, _example_params(contract), {}, "malformed JSON body")
    if contract.content_types:
        raw.headers["Content-Type"] = contract.content_types[0] if JSON in contract.content_types else JSON
        raw.content = b'{"model": "gpt-4o-mini", "messages": [' if JSON in contract.content_types else b"--not-multipart--"
        candidates.append(raw)
        wrong_type = _build(contract, None, _example_params(contract), {}, "wrong content type")
        wrong_type.headers["Content-Type"] = "text/plain"
        wrong_type.content = b"hello"
        candidates.append(wrong_type)
        not_object = _build(contract, None, _example_params(contract), {}, "body is not an object")
        not_object.headers["Content-Type"] = JSON if JSON in contract.content_types else "application/x-www-form-urlencoded"
        not_object.content = b"[1, 2, 3]" if JSON in contract.content_types else b"%%%"
        candidates.append(not_object)
    task_param = contract.behavior.get("task_id", "")
    if task_param.startswith("path."):
        unknown = _build(contract, None, {task_param[5:]: "0000000000000000"}, {}, "unknown task id")
        candidates.append(unknown)
    no_key = _build(contract, _valid_bases(contract)[0] if schema is not None and _valid_bases(contract) else None, _example_params(contract), {}, "missing API key")
    no_key.headers = {}
    if contract.auth_required:
        candidates.append(no_key)
    return candidates


def documented_requests(contract_id: str, *, registry: ContractRegistry | None = None) -> list[tuple[str, GeneratedRequest, dict[str, Any]]]:
    """The contract's documented example requests, ready to send: (example name, request, documented response)."""
    contract = _registry(registry)[contract_id]
    found = []
    for example in examples_of(contract):
        request = example.request
        body = request.get("body", request.get("form"))
        if isinstance(body, dict) and "form" in request:
            body = {k.removesuffix("[]"): v for k, v in body.items()}
            body.update({name: upload["filename"] for name, upload in request.get("files", {}).items()})
        built = _build(contract, body, _path_params(contract, request.get("path", "")), request.get("query", {}))
        built.headers.update(request.get("headers", {}))  # sent as documented (Accept, version headers …)
        found.append((example.name, built, example.response))
    return found


def _example_params(contract: Contract) -> dict[str, Any]:
    for example in examples_of(contract):
        params = _path_params(contract, example.request.get("path", ""))
        if params:
            return params
    return {}


def _path_params(contract: Contract, path: str) -> dict[str, Any]:
    """The parameters a concrete path gives the contract's path template (any alias may be used), matched
    as the router matches it, so a parameter may share its segment (Gemini's ``{model}:generateContent``)."""
    for template in contract.paths:
        match = compile_path(template).match(path) if "{" in template else None
        if match:
            return match.groupdict()
    return {}
