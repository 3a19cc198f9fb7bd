"""What a Suno clip is about, decided once at submission: the song, its lineage, its account.

A ``Song`` never changes; a clip's status and URLs come from its task's view (see ``models``). No HTTP
here: a request body goes in, songs or a ``SongError`` come out, and each request format words the
error its own way.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit
from dataclasses import dataclass, field
from typing import Any

from ...ids import derived_int
from ...store import storable

DEFAULT_MV = "chirp-v3-5"  # gcui-art's default; new-api defaults to chirp-v3-0 (passed in by its handler)
CLIPS_PER_REQUEST = 2
# mv code name -> (major_model_version, model_name) as clips show them; the codes by version as
# Dooy/chatgpt-web-midjourney-proxy src/views/suno/mcInput.vue lists them.
VERSIONS = {
    "chirp-v3-0": ("v3", "chirp-v3"),
    "chirp-v3-5": ("v3.5", "chirp-v3.5"),
    "chirp-v4": ("v4", "chirp-v4"),
    "chirp-auk": ("v4.5", "chirp-auk"),
    "chirp-auk-turbo": ("v4.5-all", "chirp-auk-turbo"),
    "chirp-bluejay": ("v4.5+", "chirp-bluejay"),
    "chirp-crow": ("v5", "chirp-crow"),
    "chirp-fenix": ("v5.5", "chirp-fenix"),
}
EXTENDS = frozenset({"extend", "upload_extend", "infill"})
_STYLES = ("city pop, bright synths", "lo-fi hip hop, mellow keys", "indie folk, acoustic guitar", "synthwave, retro drums", "soul, warm rhodes", "cinematic orchestral")
_NAMES = (("Quiet", "Amber", "Silver", "Yellow", "Velvet"), ("Otter", "Robots", "Harbor", "Comet", "Maple"))


class SongError(ValueError):
    """The request names something that cannot be used (a clip that is not complete, a bad range)."""


class UnknownClip(SongError):
    def __init__(self, clip_id: str) -> None:
        super().__init__(f"clip not found: {clip_id}")
        self.clip_id = clip_id


@storable
@dataclass(frozen=True)
class Account:
    """The upstream pool account that owns a caller's clips (one per API key)."""

    user_id: str
    display_name: str

    @classmethod
    def of(cls, api_key: str | None) -> Account:
        seed = derived_int("suno-account", api_key or "")
        name = f"{_NAMES[0][seed % 5]}{_NAMES[1][seed // 5 % 5]}{seed % 9000 + 1000}"
        return cls(str(uuid.UUID(int=seed << 64 | seed >> 1, version=4)), name)


@storable
@dataclass(frozen=True)
class Song:
    id: str
    title: str
    tags: str | None
    negative_tags: str | None
    lyrics: str
    mv: str
    kind: str
    """gen (normal, extend, cover, infill output), upload or concat."""
    duration: float
    account: Account
    description: str | None = None
    task: str | None = None
    history: tuple[dict[str, Any], ...] | None = None
    concat_history: tuple[dict[str, Any], ...] | None = None
    cover_clip_id: str | None = None
    infill: bool = False
    instrumental: bool = False
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> tuple[str, str]:
        base = re.sub(r"-(upload|tau)$", "", self.mv)
        return VERSIONS.get(base, ("", self.mv))


Lookup = Callable[[str], "tuple[Song, str] | None"]
"""A clip id -> (its song, its current clip status), or None when no such clip exists."""


def _duration(song_id: str, low: float, span: float) -> float:
    return round(low + derived_int("duration", song_id) % int(span * 100) / 100, 2)


def write_lyrics(description: str, instrumental: bool) -> tuple[str, str, str]:
    """(title, tags, lyrics) as description mode invents them from ``description``."""
    words = [w for w in re.findall(r"[A-Za-z']+", description) if len(w) > 3][:3] or ["Untitled"]
    title = " ".join(w.capitalize() for w in words)
    tags = _STYLES[derived_int("style", description) % len(_STYLES)]
    if instrumental:
        return title, tags, ""
    line = description.strip().rstrip(".") or "a song"
    return title, tags, f"[Verse]\n{line.capitalize()}\nWe keep on moving through the night\n\n[Chorus]\n{title}, {title}\nHold on to the light"


def _usable(lookup: Lookup, clip_id: str) -> Song:
    found = lookup(clip_id)
    if found is None:
        raise UnknownClip(clip_id)
    song, status = found
    if status != "complete":
        raise SongError(f"clip {clip_id} is not complete (status {status})")
    return song


def compose(body: dict[str, Any], ids: list[str], account: Account, lookup: Lookup, default_mv: str = DEFAULT_MV) -> list[Song]:
    """The songs one generate request makes (extend, cover and infill read their source via ``lookup``)."""
    task = body.get("task")
    mv = body.get("mv") or default_mv
    if task is None and body.get("continue_clip_id"):  # the legacy spelling: no task, an -upload model for uploads
        task = "upload_extend" if mv.endswith("-upload") else "extend"
    if task == "infill" and not body["infill_end_s"] > body["infill_start_s"]:
        raise SongError("infill_end_s must be greater than infill_start_s")
    source = _usable(lookup, body["continue_clip_id"]) if task in EXTENDS else None
    history = None
    if source is not None:
        continue_at = body.get("continue_at")
        end = body.get("infill_end_s") if task == "infill" else continue_at
        if end is not None and end > source.duration:
            raise SongError(f"{'infill_end_s' if task == 'infill' else 'continue_at'} {end:g} is past the end of clip {source.id} ({source.duration:g} s)")
        at = None if task == "infill" else (continue_at if continue_at is not None else source.duration)
        history = (*(source.history or ()), {"id": source.id, "continue_at": at, "type": source.kind, "source": "web", "infill": task == "infill"})
    cover = _usable(lookup, body["cover_clip_id"]) if task == "cover" else None
    instrumental = bool(body.get("make_instrumental"))
    description = body.get("gpt_description_prompt") or None
    invented = write_lyrics(description, instrumental) if description else None
    model = source or cover
    title = body.get("title") or (invented[0] if invented else model.title if model else "")
    tags = body.get("tags") or (invented[1] if invented else model.tags if model else None)
    lyrics = "" if instrumental else (invented[2] if invented else body.get("prompt") or "")
    songs = []
    for song_id in ids:
        length = source.duration if task == "infill" and source else _duration(song_id, 60 if source else 95, 90)
        songs.append(
            Song(
                id=song_id, title=title, tags=tags, negative_tags=body.get("negative_tags"), lyrics=lyrics, mv=mv, kind="gen",
                duration=length, account=account, description=description, task=task, history=history,
                cover_clip_id=cover.id if cover else None, infill=task == "infill", instrumental=instrumental,
            )
        )
    return songs


def download_problem(url: str) -> str | None:
    """Why the relay could not fetch ``url``: hosts under the reserved .invalid TLD never resolve."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # e.g. an unbalanced IPv6 bracket: nothing could download that
        return f"cannot download {url} (not a valid URL)"
    if host == "invalid" or host.endswith(".invalid"):
        return f"cannot download {url} (host {host} does not resolve)"
    return None


def uploaded(song_id: str, url: str, account: Account) -> Song:
    """An imported audio file: complete at once, titled after the file name."""
    name = url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    title = re.sub(r"\.[A-Za-z0-9]{2,4}$", "", name) or "upload"
    return Song(id=song_id, title=title, tags=None, negative_tags=None, lyrics="", mv="chirp-v4", kind="upload", duration=_duration(song_id, 20, 60), account=account)


def concatenated(song_id: str, last: Song, lookup: Lookup) -> Song:
    """The whole chain ending at ``last`` as one song (concat): ancestors cut at their continue_at."""
    if not last.history:
        raise SongError(f"clip {last.id} is not an extension or a replaced section; there is nothing to concat")
    ancestors = [found[0] for found in (lookup(item["id"]) for item in last.history) if found is not None]
    lyrics = "\n\n".join(s.lyrics for s in (*ancestors, last) if s.lyrics)
    head = sum(item.get("continue_at") or 0 for item in last.history)
    segments = (*last.history, {"id": last.id, "continue_at": None})
    return Song(
        id=song_id, title=last.title, tags=last.tags, negative_tags=None, lyrics=lyrics, mv=last.mv, kind="concat",
        duration=round(head + last.duration, 2), account=last.account, concat_history=segments, infill=False,
    )
