"""The mock describes itself: ``GET /__mock/openapi.json`` and ``GET /__mock/docs``.

``openapi.json`` is :func:`mockserver.openapi.openapi_document` with the server set to the mock's own
base URL (``?family=openai`` narrows it, repeatable). ``docs`` is one self-contained HTML page (no
scripts, no external assets: it has to work offline) listing every operation by family, with its
aliases, variants and collapsible request and response schemas. Both are built once per app.
"""

from __future__ import annotations

import html
import json
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .contracts import ContractRegistry
from .openapi import HTTP_METHODS, openapi_document


# What picks a variant, and how the page says it.
_PICKS = (("when", "the request body"), ("when_request", "the request's headers and query"))

def openapi_routes(registry: ContractRegistry, prefix: str) -> list[Route]:
    """The two admin routes; ``prefix`` is where the admin app is mounted (stripped to find the base URL)."""
    documents: dict[frozenset[str], dict[str, Any]] = {}
    page: list[str] = []

    def document(families: frozenset[str]) -> dict[str, Any]:
        found = documents.get(families)
        if found is None:
            found = documents[families] = openapi_document(registry, set(families) or None)
        return found

    async def openapi_json(request: Request) -> Response:
        try:
            found = document(frozenset(request.query_params.getlist("family")))
        except ValueError as exc:
            return JSONResponse({"error": {"message": str(exc), "type": "mock_admin_error"}}, status_code=400)
        base = str(request.base_url).rstrip("/").removesuffix(prefix)
        info = {**found, "servers": [{"url": base or "/"}]}
        return Response(orjson.dumps(info), media_type="application/json")

    async def docs(request: Request) -> Response:
        if not page:
            page.append(render_docs(document(frozenset())))
        return HTMLResponse(page[0])

    return [Route("/openapi.json", openapi_json, methods=["GET"]), Route("/docs", docs, methods=["GET"])]


STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f7f8fa}
header,main{max-width:1100px;margin:0 auto;padding:0 20px}
header{padding-top:16px}
h1{font-size:24px;margin:8px 0}
h2{font-size:20px;margin:32px 0 8px;border-bottom:2px solid #d8dce3;padding-bottom:4px}
h3{font-size:16px;margin:0 0 4px;display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:6px 16px}
article{background:#fff;border:1px solid #d8dce3;border-radius:6px;padding:12px 16px;margin:12px 0}
.method{font:bold 12px monospace;padding:2px 6px;border-radius:3px;color:#fff;background:#59636e}
.get{background:#2f7d32}.post{background:#1f5fa8}.put{background:#9a6700}.patch{background:#8250df}.delete{background:#b42318}
.id{color:#59636e;font:13px monospace}
.title{font-weight:600;margin:4px 0}
.summary{white-space:pre-line;margin:4px 0 8px}
.meta{color:#59636e;font-size:13px}
details{margin:4px 0}
summary{cursor:pointer}
pre{background:#f3f4f6;border:1px solid #e3e5e8;padding:8px;overflow:auto;max-height:480px;font-size:12px}
table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #e3e5e8;padding:2px 8px;text-align:left;vertical-align:top}
code{font-size:13px}
"""


def render_docs(document: dict[str, Any]) -> str:
    """The HTML page for an OpenAPI document made by :func:`openapi_document`."""
    by_family: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                operation = item[method]
                by_family.setdefault(operation["tags"][0], []).append((method, path, operation))
    contracts = sum(1 + len(op.get("x-gptnb-variants", ())) for ops in by_family.values() for _, _, op in ops)
    info = document["info"]
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(info['title'])}</title><style>{STYLE}</style></head><body>",
        f'<header><h1>{_e(info["title"])} <small class="id">{_e(info["version"])}</small></h1>',
        (
            f"<p>{sum(len(ops) for ops in by_family.values())} operations from {contracts} contracts. "
            'Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1).</p>'
        ),
        "<nav><ul>",
        *(f'<li><a href="#family-{_e(f)}">{_e(f)}</a> ({len(ops)})</li>' for f, ops in sorted(by_family.items())),
        "</ul></nav></header><main>",
    ]
    for family, operations in sorted(by_family.items()):
        out.append(f'<section id="family-{_e(family)}"><h2>{_e(family)}</h2>')
        for method, path, operation in sorted(operations, key=lambda o: o[2]["operationId"]):
            out.append(_operation(method, path, operation))
        out.append("</section>")
    out.append("</main></body></html>")
    return "\n".join(out)


def _operation(method: str, path: str, op: dict[str, Any]) -> str:
    auth = " or ".join(name for requirement in op["security"] for name in requirement) or "none"
    parts = [
        f'<article id="{_e(op["operationId"])}">',
        (
            f'<h3><span class="method {method}">{method.upper()}</span> <code>{_e(path)}</code>'
            f' <a class="id" href="#{_e(op["operationId"])}">{_e(op["operationId"])}</a></h3>'
        ),
        f'<p class="title">{_e(op["summary"])}</p>',
        f'<p class="summary">{_e(op["description"])}</p>',
        f'<p class="meta">kind: {_e(op["x-gptnb-kind"])} · cost: {_e(op["x-gptnb-cost"])} · auth: {_e(auth)}</p>',
    ]
    models = op.get("x-gptnb-models")
    if models:
        known = ", ".join(f"<code>{_e(m)}</code>" for m in models["known"])
        patterns = "".join(f" · pattern <code>{_e(p)}</code>" for p in models["patterns"])
        parts.append(f'<p class="meta">routes on <code>{_e(models["field"])}</code>: {known}{patterns}; other models get 503</p>')
    aliases = op.get("x-gptnb-aliases", [])
    if aliases:
        items = "".join(f"<li><code>{_e(a)}</code></li>" for a in aliases)
        parts.append(f"<details><summary>{len(aliases)} alias{'' if len(aliases) == 1 else 'es'}</summary><ul>{items}</ul></details>")
    for variant in op.get("x-gptnb-variants", []):
        picks = "".join(f"<p>Chosen when {what} matches:</p>{_schema(variant[key])}" for key, what in _PICKS if key in variant)
        parts.append(
            f'<details id="{_e(variant["id"])}"><summary>variant <code>{_e(variant["id"])}</code> ({_e(variant["title"])})</summary>'
            f'<p class="summary">{_e(variant["summary"])}</p>{picks}</details>'
        )
    parameters = op.get("parameters", [])
    if parameters:
        rows = "".join(
            f"<tr><td><code>{_e(p['name'])}</code></td><td>{_e(p['in'])}</td><td>{'yes' if p.get('required') else 'no'}</td>"
            f"<td>{_schema(p['schema'])}</td></tr>"
            for p in parameters
        )
        parts.append(f"<details><summary>Parameters ({len(parameters)})</summary><table><tr><th>name</th><th>in</th>"
                     f"<th>required</th><th>schema</th></tr>{rows}</table></details>")  # fmt: skip
    body = op.get("requestBody")
    if body:
        for media, content in body["content"].items():
            parts.append(f"<details><summary>Request body <code>{_e(media)}</code></summary>{_schema(content.get('schema', {}))}</details>")
    for status, response in op["responses"].items():
        media_types = ", ".join(response.get("content", {}))
        inner = [f'<p class="summary">{_e(response["description"])}</p>']
        for media, content in response.get("content", {}).items():
            sse = content.get("x-gptnb-sse")
            if sse:
                terminator = f", ends with <code>data: {_e(sse['terminator'])}</code>" if "terminator" in sse else ""
                inner.append(f"<p><code>{_e(media)}</code>: each <code>data:</code> event{terminator}</p>{_schema(sse['event'])}")
            elif "schema" in content:
                inner.append(f"<p><code>{_e(media)}</code></p>{_schema(content['schema'])}")
            for key, value in content.items():
                if key.startswith("x-gptnb-") and key != "x-gptnb-sse":
                    inner.append(f"<p><code>{_e(media)}</code> ({_e(key.removeprefix('x-gptnb-'))})</p>{_schema(value)}")
        for name, header in response.get("headers", {}).items():
            inner.append(f"<p>header <code>{_e(name)}</code></p>{_schema(header['schema'])}")
        if "x-gptnb-error-when" in response:
            inner.append(f"<p>Business error when the body matches:</p>{_schema(response['x-gptnb-error-when'])}")
        parts.append(f"<details><summary>Response {_e(status)} <small>{_e(media_types)}</small></summary>{''.join(inner)}</details>")
    for callback in op.get("callbacks", {}).values():
        for expression, item in callback.items():
            schema = item["post"]["requestBody"]["content"]["application/json"]["schema"]
            parts.append(f"<details><summary>Callback POST to <code>{_e(expression)}</code></summary>{_schema(schema)}</details>")
    parts.append("</article>")
    return "\n".join(parts)


def _schema(schema: Any) -> str:
    return f"<pre>{_e(json.dumps(schema, ensure_ascii=False, indent=1))}</pre>"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)
