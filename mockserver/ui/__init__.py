"""The inspector: ``/__mock/ui``, a page served by the mock to watch and steer it.

The page is static files shipped in this package (plain HTML, CSS and JavaScript modules; nothing is
fetched from anywhere else, so it works offline) and a client of the admin API: every list it shows
and every button it has is an admin call, so it holds no logic the API does not expose. It is served
with a Content-Security-Policy that lets it run only its own scripts and styles, load and talk to
nothing but this server, and be framed by no page (a framing page could otherwise trick a click on
reset).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

ASSETS = Path(__file__).resolve().parent / "static"
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data: blob:; media-src 'self' blob:; "  # blobs: answers "try it" fetched
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}


def ui_routes() -> list[Route]:
    """``/ui`` (the page) and ``/ui/NAME`` (its assets), read once."""
    assets = {path.name: (path.read_bytes(), MEDIA_TYPES[path.suffix]) for path in sorted(ASSETS.iterdir()) if path.suffix in MEDIA_TYPES}

    def answer(name: str) -> Response:
        data, media_type = assets[name]
        return Response(data, media_type=media_type, headers=HEADERS)

    async def page(request: Request) -> Response:
        return answer("index.html")

    async def to_page(request: Request) -> Response:
        # Assets are linked relative to /__mock/ui; from /__mock/ui/ they would miss.
        return RedirectResponse("../ui", status_code=308)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in assets or name == "index.html":
            return JSONResponse({"error": {"message": f"the inspector has no file {name!r}", "type": "mock_admin_error"}}, status_code=404)
        return answer(name)

    return [Route("/ui", page, methods=["GET"]), Route("/ui/", to_page, methods=["GET"]), Route("/ui/{name}", asset, methods=["GET"])]
