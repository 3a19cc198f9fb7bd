"""The admin API under ``/__mock/``: inspect and steer a running mock over HTTP.

Admin routes need no API key (they are the operator's, not the upstream's) and answer their own
simple error body ``{"error": {"message", "type": "mock_admin_error"}}``. They act on one namespace:
the ``/__mock/ns/NAME/`` prefix or the ``X-Mock-Namespace`` header names it, else ``default``.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from . import __version__, namespaces
from .clock import Clock
from .config import Settings
from .contracts import Contract, ContractRegistry
from .docs_page import openapi_routes
from .errors import ApiError
from .examples import examples_of
from .headers import HeaderMap
from .journal import JournalQuery
from .media_routes import MediaMaker, media_routes
from .parsing import MAX_JSON_DEPTH, read_body, too_deep
from .quota import desk as quota_desk
from .quota.limits import LimitError, limit_from_fields
from .quota.prices import parse_amount
from .resources import fixtures_dir
from .state import MockState, NamespaceState
from .steering import FILES, SHARED, Rule, ScenarioError, rule_from_json
from .store import StoreUnavailable
from .tasks import TaskView
from .ui import ui_routes

PREFIX = "/__mock"
MAX_ADMIN_BODY = 1024 * 1024
MAX_PAGE = 1000
"""Entries one journal or task listing answers at most; page on with ``after``."""


def admin_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "mock_admin_error"}}, status_code=status)


async def _json_body(request: Request) -> Any:
    """The JSON body, refused before it is read when its declared size is over the limit."""
    try:
        raw = await read_body(request.receive, request.headers.get("content-length"), MAX_ADMIN_BODY)
    except ApiError as exc:
        raise ScenarioError(exc.message) from None
    try:
        data = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise ScenarioError(f"malformed JSON: {exc}") from None
    if too_deep(data, raw):
        raise ScenarioError(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
    return data


def _page(request: Request, cursor: str) -> tuple[int, int | None]:
    """``limit`` (0..MAX_PAGE, default 100) and the ``cursor`` query parameter (None when absent)."""
    try:
        limit = int(request.query_params.get("limit", "100"))
        raw = request.query_params.get(cursor)
        position = None if raw is None else int(raw)
    except ValueError:
        raise ScenarioError(f"limit and {cursor} must be integers") from None
    if not 0 <= limit <= MAX_PAGE:
        raise ScenarioError(f"limit must be 0..{MAX_PAGE}")
    return limit, position


def _namespace(request: Request) -> str:
    """The namespace an admin call is about: the ``/__mock/ns/NAME/`` prefix, else the header, else default."""
    return namespaces.of_request(request.scope, HeaderMap.from_scope(request.scope), None, Settings())


def _rule(data: Any) -> Rule:
    """A rule from the admin API's JSON: with a ``source``, one loaded from a file (it is tried after the
    rules added at run time, in the order added, and listed with that source)."""
    source = data.pop("source", None) if isinstance(data, dict) else None
    if source is None:
        return rule_from_json(data)
    if not isinstance(source, str) or not source:
        raise ScenarioError("source must name where the rule comes from (a file and entry)")
    rule = rule_from_json(data, source)
    rule.layer = FILES
    return rule


def build_admin(state: MockState) -> Starlette:
    async def space(request: Request) -> NamespaceState:
        return await state.enter(_namespace(request))

    async def health(request: Request) -> Response:
        return JSONResponse(
            {"status": "ok", "version": __version__, "contracts": len(state.registry), "strict": state.settings.strict, "store": state.store.describe()}
        )

    async def reset(request: Request) -> Response:
        await state.reset(_namespace(request))
        return JSONResponse({"reset": True})

    def family_of(contract_id: str | None) -> str | None:
        return state.registry.contracts[contract_id].family if contract_id in state.registry.contracts else None

    async def journal(request: Request) -> Response:
        here = await space(request)
        if request.method == "DELETE":
            await here.journal.clear()
            return JSONResponse({"cleared": True})
        try:
            limit, after = _page(request, "after")
            query = JournalQuery.from_params(request.query_params)
        except (ScenarioError, ValueError) as exc:
            return admin_error(400, str(exc))
        entries = [e for e in await here.journal.entries() if query.matches(e, family_of)]
        if after is None:  # the newest calls
            page, more = (entries[-limit:] if limit else []), False
        else:  # the calls after seq `after`, oldest first; `next` is where to read on
            newer = [e for e in entries if e.seq > after]
            page, more = newer[:limit], len(newer) > limit
        shown = [e.brief() if request.query_params.get("brief") in ("1", "true") else e.as_dict() for e in page]
        return JSONResponse({"calls": shown, "total": len(entries), "next": page[-1].seq if page and more else None})

    async def journal_entry(request: Request) -> Response:
        wanted = request.path_params["seq"]
        found = next((e for e in await (await space(request)).journal.entries() if str(e.seq) == wanted), None)
        if found is None:
            return admin_error(404, f"no journal entry {wanted} (the journal keeps the newest {state.settings.journal_size})")
        return JSONResponse(found.as_dict())

    async def contracts(request: Request) -> Response:
        return JSONResponse({"contracts": [contract_summary(c) for c in state.registry]})

    async def contract(request: Request) -> Response:
        found = state.registry.contracts.get(request.path_params["contract_id"])
        if found is None:
            return admin_error(404, f"no contract {request.path_params['contract_id']} (GET {PREFIX}/contracts lists them)")
        return JSONResponse(contract_detail(found))

    async def rules(request: Request) -> Response:
        name = _namespace(request)
        if request.method == "GET":
            listing: dict[str, Any] = {"rules": [r.as_dict() for r in await state.store.rules(name)]}
            if state.rule_files is not None:
                listing["files"] = state.rule_files.as_dict()
            return JSONResponse(listing)
        if request.method == "DELETE":
            await state.store.replace_rules(name, [])
            return JSONResponse({"cleared": True})
        try:
            # Answers are judged as they are served (strict mode marks a misfit in the journal), so an
            # operator can steer the mock into a broken answer on purpose.
            rule = await state.add_rule(name, _rule(await _json_body(request)), judged=False)
        except ScenarioError as exc:
            return admin_error(400, str(exc))
        return JSONResponse(rule.as_dict(), status_code=201)

    async def rule(request: Request) -> Response:
        try:
            rule_id = int(request.path_params["rule_id"])
        except ValueError:
            return admin_error(400, "rule id must be an integer")
        name = _namespace(request)
        shared = next((r for r in await state.store.rules(name) if r.id == rule_id and r.layer == SHARED), None)
        if shared is not None:
            return admin_error(409, f"rule {rule_id} comes from {shared.source}; edit or remove it there (the file is reloaded)")
        if not await state.store.remove_rule(name, rule_id):
            return admin_error(404, f"no rule {rule_id}")
        return JSONResponse({"deleted": rule_id})

    async def metrics(request: Request) -> Response:
        body, content_type = await state.metrics.exposition(request.headers.get("accept"))
        return Response(body, headers={"content-type": content_type})

    async def clock(request: Request) -> Response:
        name = _namespace(request)
        if request.method == "POST":
            try:
                await change_clock(state, name, await _json_body(request))
            except (ScenarioError, ValueError, TypeError, OverflowError) as exc:
                return admin_error(400, str(exc))
        return JSONResponse((await state.enter(name)).clock.as_dict())

    async def tasks(request: Request) -> Response:
        family = request.query_params.get("family")
        try:
            limit, offset = _page(request, "offset")
        except ScenarioError as exc:
            return admin_error(400, str(exc))
        here = await space(request)
        listed = await here.tasks.tasks(family)
        start = max(offset or 0, 0)
        page = listed[start : start + limit]
        more = start + limit < len(listed)
        return JSONResponse({"tasks": [task_summary(here.tasks.view(t)) for t in page], "total": len(listed), "next": start + limit if more else None})

    async def task(request: Request) -> Response:
        here = await space(request)
        found = await here.tasks.get(request.path_params["task_id"])
        if found is None:
            return admin_error(404, f"no task {request.path_params['task_id']}")
        verb = request.path_params.get("verb")
        if verb is None:
            return JSONResponse(task_summary(here.tasks.view(found)))
        if verb not in ("complete", "fail"):
            return admin_error(404, "tasks can be completed (POST …/complete) or failed (POST …/fail)")
        try:
            data = await _json_body(request)
        except ScenarioError as exc:
            return admin_error(400, str(exc))
        reason = data.get("reason") if isinstance(data, dict) else None
        view = await here.tasks.finish(found, failed=verb == "fail", reason=reason if isinstance(reason, str) else None)
        return JSONResponse(task_summary(view))

    async def quota(request: Request) -> Response:
        here = await space(request)
        if request.method == "DELETE":
            await state.store.clear_quota(here.namespace)
            return JSONResponse({"cleared": True})
        if request.method == "POST":
            try:
                data = await _json_body(request)
                if not isinstance(data, dict) or set(data) != {"key", "balance"} or not isinstance(data["key"], str) or not data["key"]:
                    raise ScenarioError('send {"key": "sk-...", "balance": quota points or "$1.50"}')
                balance = data["balance"]
                if isinstance(balance, bool) or not isinstance(balance, (int, str)):
                    raise ScenarioError("balance: quota points (500000) or dollars (\"$1.50\")")
                await state.store.set_balance(here.namespace, data["key"], parse_amount(str(balance)))
            except (ScenarioError, ValueError) as exc:
                return admin_error(400, str(exc))
        return JSONResponse({"accounts": await quota_desk.accounts(here)})

    async def limits(request: Request) -> Response:
        here = await space(request)
        if request.method == "DELETE":
            await state.store.clear_limits(here.namespace)
            return JSONResponse({"cleared": True})
        if request.method == "POST":
            try:
                limit = limit_from_fields(await _json_body(request))
            except (ScenarioError, LimitError) as exc:
                return admin_error(400, str(exc))
            await state.store.add_limit(here.namespace, limit)
            return JSONResponse(limit.as_dict(), status_code=201)
        return JSONResponse({"limits": await quota_desk.counters(here)})

    async def namespace_list(request: Request) -> Response:
        return JSONResponse({"namespaces": [info.as_dict() for info in await state.store.namespaces()]})

    async def namespace(request: Request) -> Response:
        name = request.path_params["name"]
        if request.method == "DELETE":
            if not await state.store.drop(name):
                return admin_error(404, f"no namespace {name}")
            return JSONResponse({"dropped": name})
        found = next((info for info in await state.store.namespaces() if info.name == name), None)
        if found is None:
            return admin_error(404, f"no namespace {name}")
        return JSONResponse(found.as_dict())

    uploads = upload_fixtures(state.registry)

    async def upload_fixture(request: Request) -> Response:
        """The files documented examples upload, so a client (the inspector's "try it") can send them."""
        path = request.path_params["path"]
        if path not in uploads:
            return admin_error(404, f"no example uploads {path!r}")
        return FileResponse(fixtures_dir() / path, media_type=uploads[path])

    async def not_found(request: Request, exc: Exception) -> Response:
        return admin_error(404, f"no admin route {request.method} {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return admin_error(405, f"{request.method} is not allowed on {request.url.path}")

    async def unavailable(request: Request, exc: Exception) -> Response:
        return admin_error(503, f"gptnb-mock state store unavailable, try again: {exc}")

    async def bad_namespace(request: Request, exc: Exception) -> Response:
        return admin_error(400, str(exc))

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/journal", journal, methods=["GET", "DELETE"]),
        Route("/journal/{seq}", journal_entry, methods=["GET"]),
        Route("/contracts", contracts, methods=["GET"]),
        Route("/contracts/{contract_id}", contract, methods=["GET"]),
        Route("/rules", rules, methods=["GET", "POST", "DELETE"]),
        Route("/rules/{rule_id}", rule, methods=["DELETE"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/clock", clock, methods=["GET", "POST"]),
        Route("/quota", quota, methods=["GET", "POST", "DELETE"]),
        Route("/limits", limits, methods=["GET", "POST", "DELETE"]),
        Route("/tasks", tasks, methods=["GET"]),
        Route("/tasks/{task_id}", task, methods=["GET"]),
        Route("/tasks/{task_id}/{verb}", task, methods=["POST"]),
        Route("/fixtures/{path:path}", upload_fixture, methods=["GET"]),
        Route("/namespaces", namespace_list, methods=["GET"]),
        Route("/namespaces/{name}", namespace, methods=["GET", "DELETE"]),
        *media_routes(MediaMaker(lambda: state.settings)),
        *openapi_routes(state.registry, PREFIX),
        *ui_routes(),
    ]
    handlers = {404: not_found, 405: not_allowed, StoreUnavailable: unavailable, namespaces.NamespaceError: bad_namespace}
    return Starlette(routes=routes, exception_handlers=handlers)  # type: ignore[arg-type]


async def change_clock(state: MockState, namespace: str, data: Any) -> None:
    """``{"mode": m, "speed": x}`` starts a new clock; ``{"advance": s}`` or ``{"set": epoch}`` moves it."""
    if not isinstance(data, dict) or not ({"advance", "set", "mode"} & data.keys()):
        raise ScenarioError('send {"advance": seconds}, {"set": epoch_seconds} or {"mode": "real|manual|step", "speed": x}')
    if "mode" in data:
        speed = float(data.get("speed", state.settings.clock_speed))
        if not math.isfinite(speed):
            raise ValueError("clock speed must be a finite number")
        await state.store.set_clock(namespace, Clock(str(data["mode"]), speed))
    current = (await state.enter(namespace)).clock
    if "advance" in data:
        seconds = float(data["advance"])
        current.check_advance(seconds)
        await state.store.advance_clock(namespace, seconds)
    elif "set" in data:
        await state.store.advance_clock(namespace, current.until(float(data["set"])))


def contract_summary(contract: Any) -> dict[str, Any]:
    return {
        "id": contract.id,
        "family": contract.family,
        "method": contract.method,
        "path": contract.path,
        "aliases": list(contract.aliases),
        "title": contract.title,
        "summary": contract.summary,
        "kind": contract.kind,
        "cost": contract.cost,
    }


def contract_detail(contract: Contract) -> dict[str, Any]:
    """A contract's summary, how it is called (auth, variants) and its documented examples' requests;
    its schemas are on the docs page (``docs``)."""
    return {
        **contract_summary(contract),
        "variant_of": contract.variant_of,
        "auth": {"required": contract.auth_required, "carriers": [{"in": c.location, "name": c.name, "prefix": c.prefix} for c in contract.auth_carriers]},
        "content_types": list(contract.content_types),
        "docs": f"{PREFIX}/docs#{contract.id}",
        "examples": [
            {"name": e.name, "summary": entry.get("summary", ""), "request": e.request, "status": e.response.get("status", 200)}
            for e, entry in zip(examples_of(contract), contract.examples)
        ],
    }


def upload_fixtures(registry: ContractRegistry) -> dict[str, str]:
    """Every file a documented example uploads (its path under fixtures/) and its content type."""
    return {
        upload["fixture"]: upload.get("content_type", "application/octet-stream")
        for contract in registry
        for example in examples_of(contract)
        for upload in example.request.get("files", {}).values()
    }


def task_summary(view: TaskView) -> dict[str, Any]:
    task = view.task
    return {
        "id": task.id,
        "family": task.family,
        "kind": task.kind,
        "status": view.status,
        "progress": view.progress,
        "terminal": view.terminal,
        "failed": view.failed,
        "fail_reason": task.fail_reason,
        "created_at": task.created_at,
        "parent_id": task.parent_id,
        "callback_url": task.callback_url,
        "polls": task.polls,
        "index": view.index,
        "entered_at": view.entered_at,
        "now": view.now,
        "steps": [{"status": s.status, "at": s.at, "progress": s.progress, "failed": s.failed, "entered_at": view.entered(i)} for i, s in enumerate(task.steps)],
        "answer": task.render(view) if task.render is not None else None,
    }
