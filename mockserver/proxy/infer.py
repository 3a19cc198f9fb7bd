"""A schema from values seen, for what drift proposes to add: lenient like the contracts' own response
schemas (types and members, nothing required unless asked), merged over every value seen."""

from __future__ import annotations

from typing import Any

from .schema_walk import json_type

MAX_DEPTH = 6


def infer(value: Any, depth: int = 0) -> dict[str, Any]:
    kind = json_type(value)
    schema: dict[str, Any] = {"type": kind}
    if depth >= MAX_DEPTH:
        return schema
    if kind == "object":
        schema["properties"] = {name: infer(member, depth + 1) for name, member in value.items()}
    elif kind == "array" and value:
        items = infer(value[0], depth + 1)
        for item in value[1:]:
            items = merge(items, infer(item, depth + 1))
        schema["items"] = items
    return schema


def infer_all(values: list[Any]) -> dict[str, Any]:
    schema = infer(values[0])
    for value in values[1:]:
        schema = merge(schema, infer(value))
    return schema


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """A schema that accepts what either accepts (as inferred schemas are built)."""
    if a == b:
        return a
    if "anyOf" in a or "anyOf" in b:
        branches = [*a.get("anyOf", [a]), *b.get("anyOf", [b])]
        return {"anyOf": [branch for i, branch in enumerate(branches) if branch not in branches[:i]]}
    if a["type"] == b["type"] == "object":
        properties = dict(a.get("properties", {}))
        for name, schema in b.get("properties", {}).items():
            properties[name] = merge(properties[name], schema) if name in properties else schema
        merged = {"type": "object", "properties": properties}
        if "required" in a and "required" in b:
            merged["required"] = [name for name in a["required"] if name in b["required"]]
        return merged
    if a["type"] == b["type"] == "array":
        if "items" in a and "items" in b:
            return {"type": "array", "items": merge(a["items"], b["items"])}
        return {"type": "array", **({"items": a.get("items") or b["items"]} if "items" in a or "items" in b else {})}
    if len(a) == 1 and len(b) == 1:  # plain types: one schema with both
        types = sorted({*_types(a), *_types(b)})
        return {"type": types[0] if len(types) == 1 else types}
    return {"anyOf": [a, b]}


def _types(schema: dict[str, Any]) -> list[str]:
    declared = schema["type"]
    return [declared] if isinstance(declared, str) else list(declared)
