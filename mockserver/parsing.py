"""Turn the raw HTTP request into plain data the contract's schemas can judge.

JSON bodies are decoded as they are. Form bodies and query strings arrive as strings, so each value
is coerced to the type the contract's schema asks for before validation (as OpenAPI form
serialisation does); a value that cannot be coerced is left alone for validation to report.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.datastructures import Headers, UploadFile
from starlette.types import Receive
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser

from . import errors, workers
from .errors import ApiError

OFF_LOOP_BYTES = 1024 * 1024
"""JSON bodies larger than this are decoded in a worker process."""
MAX_JSON_DEPTH = 100
"""Nesting accepted in a JSON body or rule (real requests nest a few levels; orjson writes at most 254)."""

JSON = "application/json"
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


async def read_body(receive: Receive, declared_length: str | None, limit: int) -> bytes:
    """The whole body, refusing (413) anything over ``limit`` before or while reading it."""
    if declared_length is not None:
        try:
            if int(declared_length) > limit:
                raise _too_large(limit)
        except ValueError:
            raise ApiError(400, errors.INVALID_REQUEST, "Invalid Content-Length header") from None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, errors.TOO_LARGE, f"Request body too large: the limit is {limit} bytes")


@functools.lru_cache(maxsize=256)  # clients send a handful of spellings, over and over
def media_type_of(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_content_type(content_type: str | None, accepted: Iterable[str], has_body: bool) -> str:
    """The request's media type if the contract accepts it; a 400 naming what it accepts if not."""
    accepted = accepted if isinstance(accepted, tuple) else tuple(accepted)
    media = media_type_of(content_type)
    if media in accepted:
        return media
    # Clients that send JSON without saying so are common enough (and harmless) to accept.
    if not media and JSON in accepted:
        return JSON
    if not has_body and not media:
        return accepted[0] if accepted else ""
    expected = " or ".join(accepted) or "no body"
    raise ApiError(
        400,
        errors.UNSUPPORTED_MEDIA_TYPE,
        f"Invalid request: Content-Type {media or '(none)'} is not supported here; send {expected}",
    )


async def parse_json(body: bytes, worker_processes: bool = False) -> Any:
    """The decoded body, or the 400 that says why not. A served mock (``worker_processes``) decodes
    bodies over OFF_LOOP_BYTES in a worker process, answering other clients meanwhile."""
    if worker_processes and len(body) > OFF_LOOP_BYTES:
        return _decoded(*await asyncio.wrap_future(workers.pool(True).submit(decode_json, body)))
    return parse_json_here(body)


def parse_json_here(body: bytes) -> Any:
    """``parse_json`` on this thread (what it does for any body up to OFF_LOOP_BYTES)."""
    return _decoded(*decode_json(body))


def _decoded(problem: str | None, decoded: Any) -> Any:
    if problem is not None:
        raise ApiError(400, errors.INVALID_JSON, f"Invalid request: {problem}")
    return decoded


def decode_json(body: bytes) -> tuple[str | None, Any]:
    """(None, value), or (why it is refused, None); plain values so a worker process can return them."""
    if not body or body.isspace():
        return "the request body is empty; a JSON object is required", None
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return f"malformed JSON body ({exc})", None
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and too_deep(decoded):  # the counts clear nearly every body
        return f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels", None
    # Walking the body costs more than a scan for the only spellings that give whole floats.
    return None, _whole_numbers(decoded) if _WHOLE_FLOAT.search(body) else decoded



def too_deep(value: Any, raw: bytes | None = None, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests containers deeper than ``limit``. Given the raw JSON, bodies with fewer
    brackets than the limit (nearly all) are cleared by two C-level counts instead of a walk."""
    if raw is not None and raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    level: list[tuple[Any, int]] = [(value, 1)]
    while level:
        node, depth = level.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        level.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


_WHOLE_FLOAT = re.compile(rb"\d(?:\.0+(?![0-9])|[eE][+-]?\d)")


def _whole_numbers(value: Any) -> Any:
    """``2.0`` -> ``2``: JSON Schema counts a whole float as an integer, so handlers must get one too
    (``range(2.0)`` fails). Finite floats only; values too large for the schema are refused later."""
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**63 else value
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


async def parse_form(body: bytes, content_type: str, media: str) -> tuple[list[tuple[str, str]], dict[str, list[Upload]]]:
    """Fields (in order, repeats kept) and uploaded files of a multipart or urlencoded body."""

    async def replay() -> AsyncIterator[bytes]:
        yield body

    headers = Headers({"content-type": content_type})

    try:
        if media == MULTIPART:
            form = await MultiPartParser(headers, replay(), max_files=32, max_fields=256, max_part_size=len(body) + 1).parse()
        else:
            form = await FormParser(headers, replay(), max_fields=256, max_part_size=len(body) + 1).parse()
    except (MultiPartException, ValueError) as exc:
        raise ApiError(400, errors.INVALID_REQUEST, f"Invalid request: malformed form body ({getattr(exc, 'message', exc)})") from None
    fields: list[tuple[str, str]] = []
    files: dict[str, list[Upload]] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            data = await value.read()
            files.setdefault(_bare(name), []).append(
                Upload(value.filename or "upload", value.content_type or "application/octet-stream", data)
            )
        else:
            fields.append((_bare(name), value))
    await form.close()
    return fields, files


def _bare(name: str) -> str:
    """``timestamp_granularities[]`` is how SDKs spell an array field; the schema names it without []."""
    return name[:-2] if name.endswith("[]") else name


def coerce_fields(pairs: Iterable[tuple[str, str]], schema: dict[str, Any] | None) -> dict[str, Any]:
    """String pairs (form or query) -> a dict typed as ``schema`` (already dereferenced) says."""
    properties = (schema or {}).get("properties", {})
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(_bare(name), []).append(value)
    result: dict[str, Any] = {}
    for name, values in grouped.items():
        prop = properties.get(name, {})
        if _types(prop) & {"array"}:
            items = prop.get("items", {}) if isinstance(prop.get("items"), dict) else {}
            result[name] = [_coerce(v, items) for v in _split_array(values)]
        else:
            result[name] = _coerce(values[-1], prop)
    return result


def _split_array(values: list[str]) -> list[str]:
    # A single value may be a JSON array (some clients send arrays as one JSON-encoded field).
    if len(values) == 1 and values[0].startswith("["):
        try:
            decoded = orjson.loads(values[0])
        except orjson.JSONDecodeError:
            return values
        if isinstance(decoded, list):
            return [v if isinstance(v, str) else orjson.dumps(v).decode() for v in decoded]
    return values


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    found: set[str] = set()
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, ()):
            if isinstance(branch, dict):
                found |= _types(branch)
    return found


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    types = _types(schema)
    if "string" in types or not types:
        return value
    if "integer" in types:
        try:
            return int(value)
        except ValueError:
            pass
    if "number" in types:
        try:
            number = float(value)
            return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
        except ValueError:
            pass
    if "boolean" in types and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if "null" in types and value in ("", "null"):
        return None
    if types & {"object", "array"}:
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            pass
    return value
