"""Cassettes: one JSON file per recorded exchange, readable and diff-friendly, exact where it matters.

A cassette keeps the request as the proxy understood it (method, path, query, headers and body, with
every credential replaced), the answer (status, headers, body), the timing (time to headers, the
moment of each streamed chunk and event, of each WebSocket frame), the contract, the verdicts, and —
for async tasks — which task it submitted or polled and the status it saw.

Bodies are stored so replay gives the same bytes back: JSON as data plus the layout that writes it
again byte for byte (``raw`` text only when no layout does), text as text, binary as base64, a
stream as its chunks with their times. ``FORMAT`` changes only with an incompatible layout.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1
SUFFIX = ".json"
_NAME = re.compile(r"^(\d+)-")

# json.dumps spellings tried in turn; the first that gives the upstream's bytes back is recorded.
_LAYOUTS: dict[str, dict[str, Any]] = {
    "compact": {"separators": (",", ":")},
    "spaced": {"separators": (", ", ": ")},
    "indent2": {"indent": 2, "separators": (",", ": ")},
}


class CassetteError(ValueError):
    """A cassette file that cannot be read, or a directory that holds none."""


def encode_body(raw: bytes, media_type: str) -> dict[str, Any]:
    """A body as a cassette keeps it; ``body_bytes`` of the result is ``raw`` again."""
    media = media_type.split(";", 1)[0].strip().lower()
    if not raw:
        return {"text": ""}
    textual = media.endswith("json") or media.startswith("text/") or media in ("application/x-www-form-urlencoded", "")
    if not textual:
        return {"base64": base64.b64encode(raw).decode(), "size": len(raw)}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode(), "size": len(raw)}
    if media.endswith("json"):
        try:
            value = json.loads(text)
        except ValueError:
            return {"text": text}
        layout = _layout_of(value, text)
        return {"json": value, "layout": layout} if layout else {"json": value, "raw": text}
    return {"text": text}


def _layout_of(value: Any, text: str) -> str | None:
    for name, options in _LAYOUTS.items():
        for ascii_only in (False, True):
            written = json.dumps(value, ensure_ascii=ascii_only, **options)
            for newline in (False, True):
                if written + ("\n" if newline else "") == text:
                    return " ".join([name] + (["ascii"] if ascii_only else []) + (["newline"] if newline else []))
    return None


def body_bytes(record: dict[str, Any]) -> bytes:
    """The exact bytes a body record stands for."""
    if "raw" in record:
        return record["raw"].encode()
    if "json" in record:
        words = record.get("layout", "compact").split()
        written = json.dumps(record["json"], ensure_ascii="ascii" in words, **_LAYOUTS[words[0]])
        return (written + ("\n" if "newline" in words else "")).encode()
    if "base64" in record:
        return base64.b64decode(record["base64"])
    if "stream" in record:
        return b"".join(chunk_bytes(chunk) for chunk in record["stream"])
    return record.get("text", "").encode()


def chunk_bytes(chunk: dict[str, Any]) -> bytes:
    return base64.b64decode(chunk["base64"]) if "base64" in chunk else chunk["text"].encode()


def encode_chunk(raw: bytes, at_ms: float) -> dict[str, Any]:
    try:
        return {"at_ms": round(at_ms, 1), "text": raw.decode("utf-8")}
    except UnicodeDecodeError:  # a chunk boundary inside a character, or bytes that are not text
        return {"at_ms": round(at_ms, 1), "base64": base64.b64encode(raw).decode()}


def body_value(record: dict[str, Any] | None) -> Any:
    """What a body means, for matching and drift: JSON data, form fields, text, or None for bytes."""
    if not record:
        return None
    for key in ("json", "form", "text"):
        if key in record:
            return record[key]
    return None


@dataclass
class Cassette:
    path: Path
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def seq(self) -> int:
        found = _NAME.match(self.path.name)
        return int(found.group(1)) if found else 0

    @property
    def contract(self) -> str | None:
        return self.data.get("contract")

    @property
    def request(self) -> dict[str, Any]:
        return self.data["request"]

    @property
    def response(self) -> dict[str, Any]:
        return self.data.get("response") or {}

    @property
    def status(self) -> int:
        return int(self.response.get("status", 0))

    @property
    def media_type(self) -> str:
        return self.response.get("headers", {}).get("content-type", "")

    @property
    def timing(self) -> dict[str, Any]:
        return self.data.get("timing") or {}

    @property
    def task(self) -> dict[str, Any] | None:
        return self.data.get("task")

    @property
    def frames(self) -> list[dict[str, Any]]:
        return (self.data.get("websocket") or {}).get("frames", [])

    @property
    def started_at(self) -> float:
        """When the exchange began (epoch seconds): the gaps between a task's polls come from here."""
        return float(self.timing.get("started_at", 0.0))

    def response_chunks(self) -> list[tuple[float, bytes]]:
        """The answer's body as it arrived: (ms after the headers, bytes) per chunk."""
        body = self.response.get("body") or {}
        if "stream" in body:
            return [(float(c.get("at_ms", 0.0)), chunk_bytes(c)) for c in body["stream"]]
        return [(0.0, body_bytes(body))] if body else []


def load(directory: Path) -> list[Cassette]:
    """Every cassette in ``directory`` (and below), in recorded order."""
    if not directory.is_dir():
        raise CassetteError(f"{directory}: no such directory of cassettes")
    found = []
    for path in sorted(directory.rglob("*" + SUFFIX)):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CassetteError(f"{path}: cannot read cassette: {exc}") from exc
        if not isinstance(data, dict) or data.get("gptnb_cassette") != FORMAT or not isinstance(data.get("request"), dict):
            raise CassetteError(f"{path}: not a gptnb-mock cassette (format {FORMAT})")
        found.append(Cassette(path, data))
    found.sort(key=lambda c: (c.seq, c.name))
    return found


def dumps(data: dict[str, Any]) -> str:
    """The cassette text: indented, keys in the order written, non-ASCII as itself — for diffs."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


class CassetteWriter:
    """Writes cassettes into one directory, numbered on from the highest number already there."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        highest = max((int(m.group(1)) for p in directory.glob("*" + SUFFIX) if (m := _NAME.match(p.name))), default=0)
        self._numbers: Iterator[int] = itertools.count(highest + 1)
        self._lock = threading.Lock()

    def number(self) -> int:
        """The next cassette number (taken when an exchange begins, so files sort in arrival order)."""
        with self._lock:
            return next(self._numbers)

    def write(self, number: int, data: dict[str, Any]) -> Path:
        label = re.sub(r"[^A-Za-z0-9._-]", "_", data.get("contract") or "no-contract")
        self.directory.mkdir(parents=True, exist_ok=True)  # on the first write: a dry run leaves no trace
        path = self.directory / f"{number:04d}-{label}{SUFFIX}"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(dumps(data), encoding="utf-8")
        os.replace(temporary, path)  # readers never see half a cassette
        return path
