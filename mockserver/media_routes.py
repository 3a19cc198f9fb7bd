"""Media the mock hands out, served from stateless URLs, and the place uploads go.

A URL names everything needed to make its bytes again (``/__mock/media/image/1024x1024/42.png``),
so nothing is stored, memory stays flat, and every worker serves the same file for the same URL.
Like CDN links of the real services, these URLs need no API key. Families whose upstream hands out a
presigned form upload (Suno's audio uploads go to S3) point it at ``upload_path``, which takes the
form and answers as S3 does, keeping nothing.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import media

MEDIA_PREFIX = "/__mock/media"
IMAGE_FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}
AUDIO_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
MAX_SIDE = 4096
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


async def image(request: Request) -> Response:
    size = _IMAGE.match(request.path_params["size"])
    named = _split_name(request.path_params["name"])
    if not size or not named or named[1] not in IMAGE_FORMATS:
        return _missing("image URLs look like /__mock/media/image/1024x1024/7.png (png, jpeg, webp)")
    width, height = int(size.group(1)), int(size.group(2))
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        return _missing(f"image sides must be 1..{MAX_SIDE}")
    seed, fmt = named
    data = media.image(width, height, "jpeg" if fmt == "jpg" else fmt, seed=seed)
    return Response(data, media_type=IMAGE_FORMATS[fmt], headers={"cache-control": "public, max-age=86400"})


async def audio(request: Request) -> Response:
    named = _split_name(request.path_params["name"])
    try:
        seconds = float(request.path_params["seconds"])
    except ValueError:
        seconds = -1
    if not named or named[1] not in AUDIO_FORMATS or not 0 < seconds <= MAX_AUDIO_SECONDS:
        return _missing(f"audio URLs look like /__mock/media/audio/2.5/7.mp3 ({', '.join(AUDIO_FORMATS)})")
    data, media_type = media.audio(named[1], seconds, seed=named[0])
    return Response(data, media_type=media_type)


async def video(request: Request) -> Response:
    named = _split_name(request.path_params["name"])
    if not named or named[1] != "mp4":
        return _missing("video URLs look like /__mock/media/video/7.mp4")
    return Response(media.mp4(), media_type="video/mp4")


async def upload(request: Request) -> Response:
    """A presigned form upload: S3 answers 204 No Content; nothing is kept."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
    if not received:
        return JSONResponse({"error": {"message": "an upload needs a body (the form fields and the file)", "type": "mock_admin_error"}}, status_code=400)
    return Response(status_code=204)


def media_routes() -> list[Route]:
    return [
        Route("/media/upload/{name}", upload, methods=["POST", "PUT"]),
        Route("/media/image/{size}/{name}", image, methods=["GET", "HEAD"]),
        Route("/media/audio/{seconds}/{name}", audio, methods=["GET", "HEAD"]),
        Route("/media/video/{name}", video, methods=["GET", "HEAD"]),
    ]
