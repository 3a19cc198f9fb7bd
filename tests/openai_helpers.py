"""Shared helpers for the OpenAI-family behaviour tests: clients, a strict SSE reader, schemas, media checks.

Nothing here knows what the mock answers; it only knows what an OpenAI-compatible server must send.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import httpx
import httpx2
import jsonschema
import openai
import pytest
from PIL import Image

BASE = "https://goapi.gptnb.ai"
KEY = "sk-test"
AUTH = {"Authorization": f"Bearer {KEY}"}

# Raw HTTP tests run once through each client library the fixture intercepts.
CLIENT_MODULES = pytest.mark.parametrize("client_module", [httpx, httpx2], ids=["httpx", "httpx2"])

# Both markdown forms gpt-4-all style relays use: ![alt](url) and [text](url).
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\((https?://[^)\s]+)\)")


def sdk(gptnb: Any, http_client: httpx2.Client | None = None) -> openai.OpenAI:
    # No retries: a 5xx must surface as the error it is, not as seconds of back-off.
    return openai.OpenAI(base_url=gptnb.openai_base_url, api_key=KEY, max_retries=0, http_client=http_client)


def async_sdk(gptnb: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=gptnb.openai_base_url, api_key=KEY, max_retries=0)


class SseStream:
    """A complete OpenAI-style event stream, checked strictly while it is read.

    OpenAI framing: every event is exactly ``data: <one line of JSON>`` plus a blank line, no ``event:``
    or ``id:`` fields, and the last event is ``data: [DONE]``.
    """

    def __init__(self, raw: str, terminator: str | None = "[DONE]") -> None:
        assert raw.endswith("\n\n"), f"the stream must end with a blank line, ends with {raw[-20:]!r}"
        blocks = raw[:-2].split("\n\n")
        self.datas: list[str] = []
        for block in blocks:
            assert "\n" not in block, f"an event must be one line, got {block!r}"
            assert block.startswith("data: "), f"every event must be a data: line, got {block!r}"
            self.datas.append(block[len("data: ") :])
        if terminator is not None:
            assert self.datas[-1] == terminator, f"the last event must be data: {terminator}, got {self.datas[-1]!r}"
            assert terminator not in self.datas[:-1], f"data: {terminator} must come once, at the end"
            self.events = [json.loads(d) for d in self.datas[:-1]]
        else:
            self.events = [json.loads(d) for d in self.datas]
        for event in self.events:
            assert isinstance(event, dict), f"every event payload must be a JSON object, got {event!r}"


def chat_choice_chunks(chunks: list[dict[str, Any]], index: int = 0) -> list[dict[str, Any]]:
    """The ``choices[]`` entries of one choice index, in stream order."""
    return [c for chunk in chunks for c in chunk["choices"] if c["index"] == index]


def joined_content(choice_chunks: list[dict[str, Any]]) -> str:
    return "".join(c["delta"].get("content") or "" for c in choice_chunks)


def content_deltas(choice_chunks: list[dict[str, Any]]) -> list[str]:
    """Deltas that carry text (the role-only opener with ``content: ""`` is not a token)."""
    return [c["delta"]["content"] for c in choice_chunks if c["delta"].get("content")]


def validate(instance: Any, schema: dict[str, Any]) -> None:
    """Fail with jsonschema's own message naming the field and the rule."""
    jsonschema.validate(instance, schema, cls=jsonschema.Draft202012Validator, format_checker=jsonschema.FormatChecker())


def open_png(data: bytes) -> Image.Image:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"not a PNG signature: {data[:8]!r}"
    image = Image.open(io.BytesIO(data))
    image.load()  # decodes every row, so a truncated or corrupt file fails here
    assert image.format == "PNG"
    return image


# Realistic function schemas: enums, nested objects, arrays, required fields, bounds.
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather forecast for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Hangzhou"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}

FLIGHT_TOOL = {
    "type": "function",
    "function": {
        "name": "book_flight",
        "description": "Book a flight ticket between two airports for passengers",
        "parameters": {
            "type": "object",
            "properties": {
                "route": {
                    "type": "object",
                    "properties": {
                        "from": {"type": "string", "pattern": "^[A-Z]{3}$"},
                        "to": {"type": "string", "pattern": "^[A-Z]{3}$"},
                        "date": {"type": "string", "format": "date"},
                    },
                    "required": ["from", "to", "date"],
                    "additionalProperties": False,
                },
                "passengers": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 4,
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "age": {"type": "integer", "minimum": 0, "maximum": 120},
                            "seat": {"type": "string", "enum": ["window", "aisle", "middle"]},
                        },
                        "required": ["name", "age"],
                    },
                },
                "cabin": {"type": "string", "enum": ["economy", "business", "first"]},
                "refundable": {"type": "boolean"},
            },
            "required": ["route", "passengers", "cabin"],
        },
    },
}

SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search_products",
        "description": "Search the shop catalogue for products",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 2, "maxLength": 80},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
                "price": {
                    "type": "object",
                    "properties": {"min": {"type": "number", "minimum": 0}, "max": {"type": "number", "minimum": 0}},
                    "required": ["max"],
                },
                "sort": {"type": ["string", "null"], "enum": ["relevance", "price_asc", "price_desc", None]},
                "limit": {"type": "integer", "minimum": 1, "maximum": 50},
            },
            "required": ["query", "tags", "sort"],
        },
    },
}

EMAIL_TOOL = {
    "type": "function",
    "function": {
        "name": "send_email",
        "description": "Send an email message to recipients",
        "parameters": {
            "type": "object",
            "properties": {
                "to": {"type": "array", "items": {"type": "string", "format": "email"}, "minItems": 1},
                "subject": {"type": "string"},
                "priority": {"type": "string", "enum": ["low", "normal", "high"]},
                "attachments": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"filename": {"type": "string"}, "size_kb": {"type": "integer", "minimum": 1}},
                        "required": ["filename"],
                    },
                },
            },
            "required": ["to", "subject", "priority"],
        },
    },
}

ALL_TOOLS = [WEATHER_TOOL, FLIGHT_TOOL, SEARCH_TOOL, EMAIL_TOOL]
TOOLS_BY_NAME = {t["function"]["name"]: t for t in ALL_TOOLS}
