"""Media the mock hands out, served from stateless URLs, and the place uploads go.

A URL names everything needed to make its bytes again (``/__mock/media/image/1024x1024/42.png``),
so nothing has to be stored and every worker serves the same file for the same URL. Like CDN links of
the real services, these URLs need no API key. Families whose upstream hands out a presigned form
upload (Suno's audio uploads go to S3) point it at ``upload_path``, which takes the form and answers
as S3 does, keeping nothing.

Making a 4096x4096 picture takes seconds of CPU, so pictures and sounds are made by the workers
(workers.py), never on the event loop: other clients keep being answered meanwhile. Requests for the
same URL while it is being made share the one result, and recent results are kept in a cache bounded
in bytes (``--media-cache-bytes``).
"""

from __future__ import annotations

import asyncio
import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import media, workers
from .config import Settings

MEDIA_PREFIX = "/__mock/media"
IMAGE_FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}
AUDIO_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
MAX_SIDE = media.MAX_SIDE
MAX_AUDIO_SECONDS = 600

_IMAGE = re.compile(r"^(\d{1,4})x(\d{1,4})$")


def image_path(width: int, height: int, seed: int, fmt: str = "png") -> str:
    return f"{MEDIA_PREFIX}/image/{width}x{height}/{seed}.{fmt}"


def audio_path(seconds: float, seed: int, fmt: str = "mp3") -> str:
    return f"{MEDIA_PREFIX}/audio/{seconds:g}/{seed}.{fmt}"


def video_path(seed: int) -> str:
    return f"{MEDIA_PREFIX}/video/{seed}.mp4"


def upload_path(name: str) -> str:
    return f"{MEDIA_PREFIX}/upload/{name}"


def _missing(message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "mock_admin_error"}}, status_code=404)


def _split_name(name: str) -> tuple[int, str] | None:
    stem, _, ext = name.rpartition(".")
    if not stem.isdigit() or len(stem) > 20:
        return None
    return int(stem), ext.lower()


class MediaMaker:
    """Makes media bytes in the worker pool, shares work on the same URL, keeps recent results."""

    def __init__(self, settings: Callable[[], Settings]) -> None:
        self.settings = settings
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cached = 0
        self._making: dict[str, Future[bytes]] = {}
        self._lock = threading.Lock()

    async def get(self, key: str, make: Callable[[], bytes]) -> bytes:
        """The bytes ``make()`` gives; ``make`` must pickle (a partial of a module-level function),
        as it may run in a worker process."""
        with self._lock:
            data = self._cache.get(key)
            if data is not None:
                self._cache.move_to_end(key)
                return data
            pending = self._making.get(key)
            started = pending is None
            if pending is None:
                pending = self._making[key] = workers.pool(self.settings().worker_processes).submit(make)
        if started:  # outside the lock: a quick result runs the callback right here
            pending.add_done_callback(lambda done: self._made(key, done))
        # Shielded: a client that leaves must not cancel the work others are waiting for.
        return await asyncio.shield(asyncio.wrap_future(pending))

    def _made(self, key: str, done: Future[bytes]) -> None:
        with self._lock:
            self._making.pop(key, None)
            if done.cancelled() or done.exception() is not None:
                return
            data, limit = done.result(), self.settings().media_cache_bytes
            if len(data) > limit // 4:  # one huge file must not push out everything else
                return
            self._cache[key] = data
            self._cached += len(data)
            while self._cached > limit:
                _, old = self._cache.popitem(last=False)
                self._cached -= len(old)


async def upload(request: Request) -> Response:
    """A presigned form upload: S3 answers 204 No Content; nothing is kept."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
    if not received:
        return JSONResponse({"error": {"message": "an upload needs a body (the form fields and the file)", "type": "mock_admin_error"}}, status_code=400)
    return Response(status_code=204)


def _audio_bytes(fmt: str, seconds: float, seed: int) -> bytes:
    return media.audio(fmt, seconds, seed=seed)[0]


def media_routes(maker: MediaMaker) -> list[Route]:
    async def image(request: Request) -> Response:
        size = _IMAGE.match(request.path_params["size"])
        named = _split_name(request.path_params["name"])
        if not size or not named or named[1] not in IMAGE_FORMATS:
            return _missing("image URLs look like /__mock/media/image/1024x1024/7.png (png, jpeg, webp)")
        width, height = int(size.group(1)), int(size.group(2))
        if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
            return _missing(f"image sides must be 1..{MAX_SIDE}")
        seed, fmt = named
        fmt = "jpeg" if fmt == "jpg" else fmt
        data = await maker.get(f"image/{width}x{height}/{seed}.{fmt}", functools.partial(media.image, width, height, fmt, seed=seed))
        return Response(data, media_type=IMAGE_FORMATS[fmt], headers={"cache-control": "public, max-age=86400"})

    async def audio(request: Request) -> Response:
        named = _split_name(request.path_params["name"])
        try:
            seconds = float(request.path_params["seconds"])
        except ValueError:
            seconds = -1
        if not named or named[1] not in AUDIO_FORMATS or not 0 < seconds <= MAX_AUDIO_SECONDS:
            return _missing(f"audio URLs look like /__mock/media/audio/2.5/7.mp3 ({', '.join(AUDIO_FORMATS)})")
        seed, fmt = named
        data = await maker.get(f"audio/{seconds:g}/{seed}.{fmt}", functools.partial(_audio_bytes, fmt, seconds, seed))
        return Response(data, media_type=media.AUDIO_MEDIA_TYPES[fmt])

    async def video(request: Request) -> Response:
        named = _split_name(request.path_params["name"])
        if not named or named[1] != "mp4":
            return _missing("video URLs look like /__mock/media/video/7.mp4")
        return Response(media.mp4(), media_type="video/mp4")

    return [
        Route("/media/upload/{name}", upload, methods=["POST", "PUT"]),
        Route("/media/image/{size}/{name}", image, methods=["GET", "HEAD"]),
        Route("/media/audio/{seconds}/{name}", audio, methods=["GET", "HEAD"]),
        Route("/media/video/{name}", video, methods=["GET", "HEAD"]),
    ]
