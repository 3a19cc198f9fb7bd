"""Walk a value alongside the schema that should describe it, and say where they part.

Validation says *that* a value breaks a schema; drift needs to know *what* real traffic did that the
contract does not say, and *where in which file* the schema would have to change. The walker follows
the schema as written — ``$ref`` across files, ``allOf``, the ``if``/``then``/``else`` that applies, the
``anyOf``/``oneOf`` branches that match (or the closest one) — and reports, with the file and JSON
pointer of the subschema each finding would change:

- ``unknown_field``: a member no applicable schema lists,
- ``missing_required``: a required member that is absent,
- ``enum_value`` / ``const_value``: a value never listed,
- ``type_change``: a value of a type the schema does not allow,
- ``bound``: a number, length or count past a ``minimum``/``maximum``-style bound, or a ``pattern``/``not`` broken,
- ``new_variant``: a discriminated case (``type``: "…") none of the branches or ``if`` cases knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin

from ..contracts import BASE_URI, ContractRegistry

Pointer = tuple[str, ...]
MAX_DEPTH = 40
# Bounds on a value's size, by the JSON type they apply to.
BOUNDS = {
    "minimum": "number",
    "exclusiveMinimum": "number",
    "maximum": "number",
    "exclusiveMaximum": "number",
    "minLength": "string",
    "maxLength": "string",
    "minItems": "array",
    "maxItems": "array",
}


@dataclass(frozen=True)
class Loc:
    """A subschema: the contracts file it is in and its JSON pointer there."""

    file: str
    pointer: Pointer

    def child(self, *parts: str | int) -> Loc:
        return Loc(self.file, self.pointer + tuple(str(p) for p in parts))

    @property
    def uri(self) -> str:
        return BASE_URI + self.file + "#" + pointer_text(self.pointer)

    def __str__(self) -> str:
        return f"{self.file}#{pointer_text(self.pointer)}"


def pointer_text(parts: Pointer) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True)
class Finding:
    kind: str
    path: str
    """Where in the value (a JSON pointer)."""
    target: Loc
    """The subschema the fix belongs to."""
    name: str = ""
    """The member (unknown_field, missing_required), keyword (bound) or discriminator (new_variant)."""
    value: Any = field(default=None, compare=False)
    """The value seen (its JSON type name for type_change, the whole object for new_variant); one value
    per place, so not part of the finding's identity."""

    @property
    def case(self) -> Any:
        """A new variant's name: its discriminating member's value."""
        return self.value.get(self.name) if isinstance(self.value, dict) else self.value

    def describe(self) -> str:
        at = self.path or "/"
        return {
            "unknown_field": f"{at}: field {self.name!r} is not in the schema",
            "missing_required": f"{at}: required field {self.name!r} is missing",
            "enum_value": f"{at}: value {self.value!r} is not among the listed values",
            "const_value": f"{at}: value {self.value!r} differs from the one the schema fixes",
            "type_change": f"{at}: a {self.value}, which the schema does not allow",
            "bound": f"{at}: {self.value!r} is past the schema's {self.name}",
            "new_variant": f"{at}: {self.name} {self.case!r} is a case the schema does not describe",
        }.get(self.kind, f"{at}: {self.kind}")


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def type_allows(declared: Any, value: Any) -> bool:
    allowed = {declared} if isinstance(declared, str) else set(declared)
    seen = json_type(value)
    return seen in allowed or (seen == "integer" and "number" in allowed)


class SchemaWalker:
    def __init__(self, registry: ContractRegistry) -> None:
        self.registry = registry
        self.documents = registry.documents
        self._event_root: Loc | None = None

    def node(self, loc: Loc) -> Any:
        found: Any = self.documents.get(loc.file)
        for part in loc.pointer:
            found = found[int(part)] if isinstance(found, list) else found[part]
        return found

    def valid(self, loc: Loc, value: Any) -> bool:
        return self.registry.check(loc.uri).is_valid(value)

    def violation_count(self, loc: Loc, value: Any) -> int:
        return len(self.registry.check(loc.uri).violations(value))

    def walk(self, value: Any, loc: Loc, event: bool = False) -> list[Finding]:
        """Every place ``value`` parts from the schema at ``loc``. For an ``event`` (of a stream, or a
        WebSocket frame), an ``allOf`` of ``if``/``then`` cases at its top lists the event types."""
        found: list[Finding] = []
        self._event_root = loc if event else None
        self._walk(value, [loc], "", found, 0)
        return list(dict.fromkeys(found))  # a member described twice (allOf parts) is reported once

    # ---- the walk ----

    def _walk(self, value: Any, locs: list[Loc], path: str, found: list[Finding], depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        schemas: list[Loc] = []
        before = len(found)
        for loc in locs:
            self._applicable(value, loc, path, schemas, found, 0)
        new_case = any(f.kind == "new_variant" and f.path == path for f in found[before:])
        mismatched = [self._keywords(value, loc, path, found) for loc in schemas]
        if any(mismatched):
            return  # a value of another type: its members or items say nothing about this schema
        if isinstance(value, dict):
            # The members of a case the schema does not describe come with that case, not one by one.
            self._members(value, schemas, path, found, depth, report_unknown=not new_case)
        elif isinstance(value, list):
            for loc in schemas:
                node = self.node(loc)
                prefix = node.get("prefixItems", [])
                for index, item in enumerate(value):
                    if index < len(prefix):
                        self._walk(item, [loc.child("prefixItems", index)], f"{path}/{index}", found, depth + 1)
                    elif isinstance(node.get("items"), dict):
                        self._walk(item, [loc.child("items")], f"{path}/{index}", found, depth + 1)

    def _applicable(self, value: Any, loc: Loc, path: str, out: list[Loc], found: list[Finding], hops: int) -> None:
        """``loc`` and every subschema that applies at the same place, through the applicators."""
        if hops > MAX_DEPTH or loc in out:
            return
        node = self.node(loc)
        if not isinstance(node, dict):
            return
        out.append(loc)
        if isinstance(node.get("$ref"), str):
            target = self._resolve(loc, node["$ref"])
            if target is not None:
                self._applicable(value, target, path, out, found, hops + 1)
        for index, _ in enumerate(node.get("allOf", ())):
            self._applicable(value, loc.child("allOf", index), path, out, found, hops + 1)
        if "if" in node:
            branch = "then" if self.valid(loc.child("if"), value) else "else"
            if branch in node:
                self._applicable(value, loc.child(branch), path, out, found, hops + 1)
        for keyword in ("anyOf", "oneOf"):
            if keyword in node:
                for chosen in self._branches(value, loc, keyword, path, found):
                    self._applicable(value, chosen, path, out, found, hops + 1)
        self._unknown_case(value, loc, node, path, found)

    def _branches(self, value: Any, loc: Loc, keyword: str, path: str, found: list[Finding]) -> list[Loc]:
        branches = [loc.child(keyword, i) for i in range(len(self.node(loc)[keyword]))]
        valid = [b for b in branches if self.valid(b, value)]
        if valid:
            return valid
        field, cases = self._discriminator(branches)
        if field is not None and isinstance(value, dict) and field in value:
            matching = [b for b, values in cases.items() if value[field] in values]
            if not matching:
                found.append(Finding("new_variant", path, loc.child(keyword), field, value))
                return []
            return matching[:1]
        typed = [b for b in branches if "type" not in self._flat(b) or type_allows(self._flat(b)["type"], value)]
        return [min(typed or branches, key=lambda b: self.violation_count(b, value))]

    def _unknown_case(self, value: Any, loc: Loc, node: dict[str, Any], path: str, found: list[Finding]) -> None:
        """``allOf`` lists of ``if``/``then`` cases keyed on one member (a stream's event ``type``):
        a value with a key none of the cases names is a case the contract does not describe. Only at the
        top of an event: elsewhere such lists add requirements to some values and say nothing of others."""
        if path or self._event_root is None:
            return
        cases = [loc.child("allOf", i, "if") for i, item in enumerate(node.get("allOf", ())) if isinstance(item, dict) and "if" in item]
        field, known = self._discriminator(cases)
        if field is None or not isinstance(value, dict) or field not in value:
            return
        declared = node.get("properties", {}).get(field, {})
        if "enum" in declared or "const" in declared:
            return  # the schema lists every case itself (some without an if of their own); enum_value covers it
        if not any(value[field] in values for values in known.values()):
            found.append(Finding("new_variant", path, loc.child("allOf"), field, value))

    def _discriminator(self, branches: list[Loc]) -> tuple[str | None, dict[Loc, list[Any]]]:
        """The member every branch fixes with ``const`` or ``enum`` (the case's name), and their values."""
        cases: dict[Loc, list[Any]] = {}
        fields: set[str] | None = None
        for branch in branches:
            properties = self._flat(branch).get("properties", {})
            fixed = {name: [p["const"]] if "const" in p else p["enum"] for name, p in properties.items() if isinstance(p, dict) and ("const" in p or "enum" in p)}
            if not fixed:
                return None, {}
            fields = set(fixed) if fields is None else fields & set(fixed)
            cases[branch] = fixed  # type: ignore[assignment]
        if not fields or len(branches) < 2:
            return None, {}
        field = "type" if "type" in fields else sorted(fields)[0]
        return field, {b: fixed[field] for b, fixed in cases.items()}  # type: ignore[index]

    def _flat(self, loc: Loc) -> dict[str, Any]:
        """A branch's own keywords, through a ``$ref`` at its top."""
        node = self.node(loc)
        for _ in range(MAX_DEPTH):
            if not isinstance(node, dict) or not isinstance(node.get("$ref"), str) or len(node) > 1:
                break
            target = self._resolve(loc, node["$ref"])
            if target is None:
                break
            loc, node = target, self.node(target)
        return node if isinstance(node, dict) else {}

    def _keywords(self, value: Any, loc: Loc, path: str, found: list[Finding]) -> bool:
        """Findings of the keywords that judge the value itself; True when its type is not allowed."""
        node = self.node(loc)
        if "type" in node and not type_allows(node["type"], value):
            found.append(Finding("type_change", path, loc, value=json_type(value)))
            return True
        if "enum" in node and value not in node["enum"]:
            found.append(Finding("enum_value", path, loc, value=value))
        if "const" in node and value != node["const"]:
            found.append(Finding("const_value", path, loc, value=value))
        if isinstance(value, dict) and isinstance(node.get("required"), list):
            for name in node["required"]:
                if name not in value:
                    found.append(Finding("missing_required", path, loc, name))
        for keyword, kind in BOUNDS.items():
            if keyword in node and json_type(value) in ({"integer", "number"} if kind == "number" else {kind}) and _breaks(keyword, node[keyword], value):
                found.append(Finding("bound", path, loc, keyword, value))
        if isinstance(value, str) and isinstance(node.get("pattern"), str) and not _matches(node["pattern"], value):
            found.append(Finding("bound", path, loc, "pattern", value))
        if "not" in node and self.valid(loc.child("not"), value):
            found.append(Finding("bound", path, loc, "not", value))
        return False

    def _members(self, value: dict[str, Any], schemas: list[Loc], path: str, found: list[Finding], depth: int, report_unknown: bool) -> None:
        described: dict[str, list[Loc]] = {}
        open_schemas: list[Loc] = []
        for loc in schemas:
            node = self.node(loc)
            for name in node.get("properties", {}):
                described.setdefault(name, []).append(loc.child("properties", name))
            for pattern in node.get("patternProperties", {}):
                for name in value:
                    if _matches(pattern, name):
                        described.setdefault(name, []).append(loc.child("patternProperties", pattern))
            if isinstance(node.get("additionalProperties"), dict) and node["additionalProperties"]:
                open_schemas.append(loc.child("additionalProperties"))
        # Only a schema that lists members can miss one: a free-form object (metadata, a user's JSON
        # Schema, tool arguments) has no unknown members.
        home = next((loc for loc in schemas if "properties" in self.node(loc)), None)
        for name, member in value.items():
            child = f"{path}/{_escape(name)}"
            if name in described:
                self._walk(member, described[name], child, found, depth + 1)
            elif open_schemas:
                self._walk(member, open_schemas, child, found, depth + 1)
            elif home is not None and report_unknown:
                found.append(Finding("unknown_field", path, home, name, member))

    def _resolve(self, loc: Loc, ref: str) -> Loc | None:
        uri = urljoin(BASE_URI + loc.file, ref)
        if not uri.startswith(BASE_URI):
            return None  # the meta-schema's own references, and anything outside the contracts
        file, _, fragment = uri[len(BASE_URI) :].partition("#")
        if file not in self.documents:
            return None
        parts = tuple(unquote(p).replace("~1", "/").replace("~0", "~") for p in fragment.split("/")[1:]) if fragment else ()
        return Loc(file, parts)


def _breaks(keyword: str, bound: Any, value: Any) -> bool:
    size = len(value) if isinstance(value, (str, list)) else value
    return {
        "minimum": size < bound,
        "exclusiveMinimum": size <= bound,
        "maximum": size > bound,
        "exclusiveMaximum": size >= bound,
        "minLength": size < bound,
        "maxLength": size > bound,
        "minItems": size < bound,
        "maxItems": size > bound,
    }[keyword]


def _matches(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return True  # a pattern Python cannot read is not ours to judge


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
