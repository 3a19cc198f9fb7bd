"""Google's OpenAPI-subset Schema (responseSchema, function parameters) as the JSON Schema the shared
synthesis understands.

Google writes types in upper case (OBJECT, STRING), marks nullability with ``nullable`` and sends
int64 bounds as strings, as proto3 JSON does (https://ai.google.dev/api/caching#Schema).
"""

from __future__ import annotations

from typing import Any

from ...synth import UnsatisfiableSchema

_TYPES = {"STRING": "string", "NUMBER": "number", "INTEGER": "integer", "BOOLEAN": "boolean", "ARRAY": "array", "OBJECT": "object", "NULL": "null"}
_COUNTS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")
_KEPT = ("description", "title", "enum", "required", "minimum", "maximum", "pattern")
# String formats JSON Schema shares with Google; Google's "enum" format and number formats (float, int32) are not kept.
_STRING_FORMATS = frozenset({"date-time", "date", "time", "email", "uri", "uuid"})


def json_schema(node: Any) -> dict[str, Any]:
    """The JSON Schema for a Google Schema; ``UnsatisfiableSchema`` for one that is not a schema."""
    if not isinstance(node, dict):
        raise UnsatisfiableSchema(f"a schema must be an object, not {type(node).__name__}")
    converted: dict[str, Any] = {key: node[key] for key in _KEPT if key in node}
    kind = node.get("type")
    if isinstance(kind, str) and kind.upper() in _TYPES:
        converted["type"] = _TYPES[kind.upper()]
        if kind.upper() == "STRING" and node.get("format") in _STRING_FORMATS:
            converted["format"] = node["format"]
    if node.get("nullable") is True and "type" in converted:
        converted["type"] = [converted["type"], "null"]
        if isinstance(converted.get("enum"), list):
            converted["enum"] = [*converted["enum"], None]
    for key in _COUNTS:
        if key in node:
            try:
                converted[key] = int(node[key])
            except (TypeError, ValueError):
                raise UnsatisfiableSchema(f"{key} must be a whole number, not {node[key]!r}") from None
    if isinstance(node.get("properties"), dict):
        converted["properties"] = {name: json_schema(sub) for name, sub in node["properties"].items()}
    if "items" in node:
        converted["items"] = json_schema(node["items"])
    if isinstance(node.get("anyOf"), list):
        converted["anyOf"] = [json_schema(sub) for sub in node["anyOf"]]
    return converted
