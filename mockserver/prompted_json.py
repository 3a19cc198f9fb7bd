"""The JSON object a prompt asks for, read from the prompt itself.

JSON modes (OpenAI's ``response_format: {"type": "json_object"}``) carry no schema: clients write what
they want into the messages. instructor's ``Mode.JSON`` appends the response model's JSON Schema to
the system message ("… provide the parsed objects in json that match the following json_schema: {…}",
567-labs/instructor ``instructor/v2/providers/openai/handlers.py``); LangChain's
``PydanticOutputParser`` writes an example schema and then the real one in a code block
(langchain-ai/langchain ``libs/core/langchain_core/output_parsers/pydantic.py``); and people simply
name the keys: "respond in JSON with `setup` and `punchline` keys", "return a JSON blob with keys
'answer' and 'justification'" (the examples of ``ChatOpenAI.with_structured_output(method=
"json_mode")`` in ``libs/partners/openai/langchain_openai/chat_models/base.py``). ``schema_asked_for``
turns any of those into a JSON Schema the reply can be generated from; it knows no API format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.exceptions import SchemaError

Schema = dict[str, Any]

_DECODER = json.JSONDecoder()
_SCHEMA_WORDS = ("properties", "$defs", "definitions", "items", "anyOf", "oneOf", "allOf", "$ref")
# A sentence that talks about keys, and the names in it written in quotes or backticks.
_KEY_WORDS = re.compile(r"\b(?:keys?|fields?|properties|attributes)\b|键|字段|属性", re.IGNORECASE)
_QUOTED_NAME = re.compile(r"[`'\"“‘「]([A-Za-z_\u4e00-\u9fff][\w\-\u4e00-\u9fff]{0,63})[`'\"”’」]")
_LISTED_NAMES = re.compile(r"(?:keys?|fields?|键|字段)\s*[:：]\s*([^.!?\n。！？]+)", re.IGNORECASE)
_LIST_SEPARATOR = re.compile(r"\s*(?:,|，|、|\band\b|和|及)\s*")
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n+")
_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}


def schema_asked_for(texts: Iterable[str]) -> Schema | None:
    """The JSON Schema the texts ask an answer to follow: the last schema written in them; else the
    shape of the last JSON object they show as an example; else an object of the keys they name;
    else None. ``texts`` come in conversation order."""
    texts = [t for t in texts if t]
    schemas: list[Schema] = []
    examples: list[dict[str, Any]] = []
    for text in texts:
        for found in _json_objects(text):
            (schemas if _is_schema(found) else examples).append(found)
    if schemas:
        return schemas[-1]
    if examples:
        return _shape_of(examples[-1])
    for text in reversed(texts):
        names = named_keys(text)
        if names:
            return {"type": "object", "properties": {name: {"type": "string"} for name in names}, "required": names}
    return None


def named_keys(text: str) -> list[str]:
    """Key names a text asks for: quoted names in a sentence about keys, or a list after "keys:"."""
    names: list[str] = []
    for sentence in _SENTENCE.split(text):
        if not _KEY_WORDS.search(sentence):
            continue
        names += _QUOTED_NAME.findall(sentence)
        for listed in _LISTED_NAMES.findall(sentence):
            names += [n for n in _LIST_SEPARATOR.split(listed.strip()) if re.fullmatch(r"[A-Za-z_]\w{0,63}", n)]
    return list(dict.fromkeys(names))


def _json_objects(text: str) -> list[dict[str, Any]]:
    """Every top-level JSON object written in ``text``, in order (nested ones belong to their parent)."""
    found: list[dict[str, Any]] = []
    position = text.find("{")
    while position >= 0:
        try:
            value, end = _DECODER.raw_decode(text, position)
        except ValueError:
            position = text.find("{", position + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
        position = text.find("{", end)
    return found


def _is_schema(value: dict[str, Any]) -> bool:
    if not any(word in value for word in _SCHEMA_WORDS) and value.get("type") not in ("object", "array"):
        return False
    properties = value.get("properties", {})
    if not isinstance(properties, dict) or not all(isinstance(p, (dict, bool)) for p in properties.values()):
        return False  # {"properties": {"foo": ["bar"]}}: an object that merely has a "properties" key
    for validator in (Draft202012Validator, Draft7Validator):
        try:
            validator.check_schema(value)
            return True
        except SchemaError:
            continue
    return False


def _shape_of(example: dict[str, Any]) -> Schema:
    """A schema for objects shaped like ``example``: its keys, each with the JSON type of its value."""
    properties = {key: _type_of(value) for key, value in example.items()}
    return {"type": "object", "properties": properties, "required": list(example)}


def _type_of(value: Any) -> Schema:
    if value is None:
        return {}
    if isinstance(value, dict):
        return _shape_of(value)
    if isinstance(value, list):
        return {"type": "array", "items": _type_of(value[0])} if value else {"type": "array"}
    return {"type": _JSON_TYPES[type(value)]}
