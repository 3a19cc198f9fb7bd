"""The ``gptnb-mock`` command: serve the mock, list contracts, judge a payload against a contract."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import __version__
from .clock import MODES, Clock
from .config import DEFAULT_MAX_BODY_BYTES, GENERATED_JSON, MAX_DELAY_MS, Settings
from .contracts import Contract, ContractError, ContractRegistry, default_registry
from .faults.chaos import DEFAULT_MIX, Chaos
from .faults.grammar import parse_items
from .faults.physics import Physics
from .quota.limits import limit_from_text
from .quota.prices import parse_amount
from .responses import ResponseJudge
from .routing import Router
from .variants import VariantPicker
from .serving import DEFAULT_MAX_HEADER_BYTES, DEFAULT_SHUTDOWN_SECONDS

EPILOG = """examples:
  gptnb-mock serve                                  # http://127.0.0.1:8000, any key accepted
  gptnb-mock serve --port 9000 --api-key sk-test --strict --chunk-delay 50
  gptnb-mock serve --model-physics builtin --chaos 0.1 --chaos-seed 7   # real-model pacing, 10% faults
  gptnb-mock serve --fixtures replies.yaml --fixtures aimock-fixtures/
  gptnb-mock serve --store redis://127.0.0.1:6379/0 --workers 2   # state shared by workers and replicas
  gptnb-mock contracts --family openai
  gptnb-mock validate --method POST --path /v1/chat/completions request.json
  gptnb-mock validate --method POST --path /v1/chat/completions --status 200 response.json
  gptnb-mock openapi --family openai --server http://127.0.0.1:8000 --output openapi.json
  gptnb-mock check http://127.0.0.1:8000 --allow-paid --report report.html
  GPTNB_API_KEY=sk-... gptnb-mock check https://goapi.gptnb.ai --dry-run
  GPTNB_API_KEY=sk-... gptnb-mock proxy --upstream https://goapi.gptnb.ai --record cassettes/
  gptnb-mock serve --replay cassettes/ --replay-timing fast
  gptnb-mock drift cassettes/ --report drift.html

Point any OpenAI-compatible client at http://127.0.0.1:8000/v1 with any key.
The admin API lives under /__mock/ (health, reset, journal, contracts, rules, clock, tasks, namespaces, metrics, openapi.json, docs).
A namespace (header X-Mock-Namespace: NAME, or the path prefix /__mock/ns/NAME/) keeps its own tasks, rules, journal and clock."""


WORKER_ENV = "GPTNB_MOCK_WORKER"  # settings, store URL and replay options handed to --workers processes


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import MockApp
    from .guard import served_hosts
    from .proxy.cli import load_replay, replay_options
    from .rulefiles import RuleFileError
    from .serving import freeze_startup_heap, install_log_redaction, uvicorn_options
    from .state import MockState, limits_of
    from .store import StoreUnavailable, open_store

    try:
        Clock(args.clock, args.clock_speed)
        settings = Settings(
            api_keys=frozenset(args.api_key or ()),
            seed=args.seed,
            strict=args.strict,
            latency_ms=args.latency,
            physics=_physics(args),
            model_physics=args.model_physics,
            chaos=_chaos(args),
            chaos_seed=args.chaos_seed,
            quotas=tuple(_quota(text) for text in args.quota or ()),
            limits=tuple(limit_from_text(text) for text in args.limit or ()),
            max_body_bytes=args.max_body,
            journal_size=args.journal_size,
            error_type=args.error_type,
            callback_allow=Settings().callback_allow | frozenset(args.callback_allow or ()),
            max_tasks=args.max_tasks,
            task_failure_rate=args.task_failure_rate,
            task_concurrency=args.task_concurrency,
            task_queue_size=args.task_queue,
            banned_words=Settings().banned_words | frozenset(w.lower() for w in args.banned_word or ()),
            allowed_hosts=served_hosts(args.host, tuple(args.allow_host or ())),
            admin_token=args.admin_token or None,
            journal_entry_bytes=args.journal_entry_bytes,
            task_param_bytes=args.task_param_bytes,
            callback_concurrency=args.callback_concurrency,
            realtime_audio_bytes=args.realtime_audio_bytes,
            media_cache_bytes=args.media_cache_bytes,
            worker_processes=True,
            generated_json=args.generated_json,
            clock=args.clock,
            clock_speed=args.clock_speed,
            namespace_per_key=args.namespace_per_key,
        )
        problem = _check_limits(settings)
        if problem:
            raise ValueError(problem)
        if args.workers < 1:
            raise ValueError("--workers must be at least 1")
        if args.workers > 1 and args.store == "memory":
            raise ValueError("--workers needs a store the workers share: add --store redis://HOST:PORT/DB")
        replay = replay_options(args)
        store = open_store(args.store, limits_of(settings), settings.clock, settings.clock_speed)
        asyncio.run(_check_store(store))
        state = MockState(settings, store=store)
        state.replay = load_replay(replay, announce=True)
    except (ContractError, ValueError, StoreUnavailable) as exc:  # FaultSpecError and LimitError are ValueErrors
        print(f"gptnb-mock: {exc}", file=sys.stderr)
        return 2
    try:
        loaded = asyncio.run(_keep_files(state, args.fixtures or []))
    except (RuleFileError, StoreUnavailable) as exc:
        print(f"gptnb-mock: {exc}", file=sys.stderr)
        return 2
    if loaded is not None:
        skipped = f", {len(loaded.skipped)} entries skipped (see GET /__mock/rules)" if loaded.skipped else ""
        print(f"gptnb-mock: {len(loaded.rules)} canned replies from {', '.join(args.fixtures)}{skipped}; reloaded when they change", file=sys.stderr)
    options = {"host": args.host, "port": args.port, "log_level": args.log_level, "access_log": args.access_log}
    options.update(uvicorn_options(args.max_header_bytes, args.shutdown_timeout))
    guarded = " (admin token required)" if settings.admin_token else ""
    listening = f"http://{_url_host(args.host)}:{args.port}"
    inspector = f"http://{_url_host(args.host, browsable=True)}:{args.port}/__mock/ui"
    where = f"{len(state.registry)} contracts on {listening}, {args.workers} worker(s), state in {store.describe()}"
    print(f"gptnb-mock {__version__}: {where} (admin: /__mock/{guarded}); inspector: {inspector}", file=sys.stderr)
    if args.workers == 1:
        config = uvicorn.Config(MockApp(state=state), **options)
        freeze_startup_heap()
        install_log_redaction()  # after uvicorn's logging set-up, so its handlers get the filter too
        uvicorn.Server(config).run()
        return 0
    handed = {
        "settings": settings.to_json(),
        "store": args.store,
        "fixtures": args.fixtures or [],
        "replay": replay,
        "max_header_bytes": args.max_header_bytes,
        "shutdown_timeout": args.shutdown_timeout,
    }
    os.environ[WORKER_ENV] = json.dumps(handed)
    uvicorn.run("mockserver.cli:worker_app", factory=True, workers=args.workers, **options)
    return 0


def _physics(args: argparse.Namespace) -> Physics:
    """Serve-wide physics from --ttft / --tps / --jitter; --chunk-delay MS is --tps 1000/MS."""
    given = {key: value for key, value in (("ttft", args.ttft), ("tps", args.tps), ("jitter", args.jitter)) if value is not None}
    if args.chunk_delay:
        if not 0 < args.chunk_delay <= MAX_DELAY_MS:
            raise ValueError(f"--chunk-delay must be 0..{MAX_DELAY_MS} ms")
        if "tps" in given:
            raise ValueError("--chunk-delay and --tps both set the pace of streams; give one")
        given["tps"] = 1000 / args.chunk_delay
    _, physics, _ = parse_items(given)
    return physics or Physics()


def _quota(text: str) -> tuple[str, int]:
    key, sep, amount = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--quota {text}: expected KEY=AMOUNT (quota points, or dollars as $1.50)")
    return key.strip(), parse_amount(amount)


def _chaos(args: argparse.Namespace) -> Chaos | None:
    if args.chaos is None:
        if args.chaos_mix is not None:
            raise ValueError("--chaos-mix needs --chaos P")
        return None
    from .steering import ScenarioError, rule_from_json

    try:  # judged as a rule is, so the mix entries get the same checks and messages
        chaos = rule_from_json({"chaos": args.chaos, **({"chaos_mix": args.chaos_mix.split("|")} if args.chaos_mix else {})}).chaos
    except ScenarioError as exc:
        raise ValueError(f"--chaos: {exc}") from None
    return chaos


async def _check_store(store: Any) -> None:
    try:
        await store.open()
    finally:
        await store.close()


async def _keep_files(state: Any, paths: list[str]) -> Any:
    """Make the files' rules the shared rules (none without files: a restart without --fixtures forgets
    those of an earlier run); the files as loaded, or None. RuleFileError names what is wrong."""
    from .rulefiles import RuleFiles, digest

    try:
        if not paths:
            await state.store.replace_shared_rules([], digest([]))
            return None
        state.rule_files = RuleFiles([Path(p) for p in paths], state)
        return await state.rule_files.load()
    finally:
        await state.store.close()


def worker_app() -> Any:
    """The app of one ``--workers`` process (uvicorn imports this in each worker)."""
    from .app import MockApp
    from .proxy.cli import load_replay
    from .rulefiles import RuleFiles
    from .serving import freeze_startup_heap, install_log_redaction, uvicorn_options
    from .state import MockState, limits_of
    from .store import open_store

    handed = json.loads(os.environ[WORKER_ENV])
    uvicorn_options(handed["max_header_bytes"], handed["shutdown_timeout"])  # this process's header limit
    install_log_redaction()
    settings = Settings.from_json(handed["settings"])
    store = open_store(handed["store"], limits_of(settings), settings.clock, settings.clock_speed)
    state = MockState(settings, store=store)
    state.replay = load_replay(handed["replay"])  # each worker reads the recordings; how far they played is in the store
    if handed["fixtures"]:
        state.rule_files = RuleFiles([Path(p) for p in handed["fixtures"]], state)  # loaded (once for all) as the worker starts
    app = MockApp(state=state)
    freeze_startup_heap()
    return app


def _url_host(host: str, *, browsable: bool = False) -> str:
    """``host`` as a URL writes it; ``browsable``: a wildcard address becomes one a browser can open."""
    if browsable and host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _check_limits(settings: Settings) -> str | None:
    if not 0 <= settings.latency_ms <= MAX_DELAY_MS:
        return f"--latency must be 0..{MAX_DELAY_MS} ms"
    flags = {"max_body_bytes": "--max-body", "journal_entry_bytes": "--journal-entry-bytes", "task_param_bytes": "--task-param-bytes",
             "callback_concurrency": "--callback-concurrency", "realtime_audio_bytes": "--realtime-audio-bytes"}
    for name, flag in flags.items():
        if getattr(settings, name) < 1:
            return f"{flag} must be positive"
    return None


def _contracts(args: argparse.Namespace) -> int:
    rows = [c for c in default_registry() if args.family is None or c.family == args.family]
    if args.json:
        from .admin import contract_summary

        print(json.dumps([contract_summary(c) for c in rows], ensure_ascii=False, indent=2))
        return 0
    for c in rows:
        aliases = f"  (+{len(c.aliases)} aliases)" if c.aliases else ""
        print(f"{c.id:<40} {c.method:<6} {c.path}{aliases}  {c.title}")
    print(f"{len(rows)} contracts", file=sys.stderr)
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from .openapi import openapi_document

    try:
        document = openapi_document(default_registry(), set(args.family) if args.family else None, args.server)
    except ValueError as exc:
        print(f"gptnb-mock: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"gptnb-mock: cannot write {args.output}: {exc}", file=sys.stderr)
        return 2
    operations = [op for item in document["paths"].values() for op in item.values()]
    variants = sum(len(op.get("x-gptnb-variants", ())) for op in operations)
    print(f"{args.output}: OpenAPI {document['openapi']}, {len(operations)} operations ({variants} variants folded in)", file=sys.stderr)
    return 0


def _load_payload(source: str) -> str:
    return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")


def _route_path(given: str) -> str:
    """The path a route is matched on, whether given bare, with a query string or as a full URL."""
    return urlsplit(given).path or "/"


def _find_contract(registry: ContractRegistry, method: str, given: str, body: Any, wanted: str | None) -> Contract | None:
    if wanted:
        return registry[wanted]
    match = Router(registry).match(_route_path(given), method.upper())
    candidates = match.route.methods.get(method.upper()) if match else None
    if not candidates:
        return None
    # Headers are not known here: a variant only they pick must be named with --contract.
    variants = VariantPicker(registry)
    candidates = variants.by_request(candidates, {}, parse_qsl(urlsplit(given).query, keep_blank_values=True))
    return variants.by_body(candidates, body)


def _validate(args: argparse.Namespace) -> int:
    registry = default_registry()
    try:
        raw = _load_payload(args.file)
    except OSError as exc:
        print(f"gptnb-mock: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    is_stream = raw.lstrip().startswith(("data:", "event:", ":"))
    try:
        payload: Any = None if is_stream else json.loads(raw)
    except ValueError as exc:
        if args.content_type and not args.content_type.startswith("application/json"):
            payload = raw
        else:
            print(f"gptnb-mock: {args.file} is not JSON ({exc}); for text bodies pass --content-type text/plain", file=sys.stderr)
            return 2
    try:
        # A variant is picked by the request body (its ``when``); a response says nothing about that.
        request_body = payload if args.status is None else None
        contract = _find_contract(registry, args.method, args.path, request_body, args.contract)
    except KeyError as exc:
        print(f"gptnb-mock: {exc.args[0]}", file=sys.stderr)
        return 2
    if contract is None:
        print(f"gptnb-mock: no contract serves {args.method.upper()} {args.path} (see `gptnb-mock contracts`)", file=sys.stderr)
        return 2
    violations = _judge(registry, contract, args, raw, payload, is_stream)
    what = f"response {args.status}" if args.status is not None else "request body"
    if violations:
        print(f"{contract.id}: {what} does NOT conform ({len(violations)} violation(s)):")
        for violation in violations:
            print(f"  - {violation}")
        return 1
    print(f"{contract.id}: {what} conforms")
    return 0


def _judge(registry: ContractRegistry, contract: Contract, args: argparse.Namespace, raw: str, payload: Any, is_stream: bool) -> list[str]:
    if args.status is None:
        if "body" not in contract.request:
            return ["this endpoint takes no request body"]
        body = contract.absence.drop(payload)  # as the relay reads it
        return [str(v) for v in registry.check(contract.pointer("request", "body")).violations(body)]
    judge = ResponseJudge(contract, registry)
    if not is_stream:
        return judge.body_violations(args.status, args.content_type or "application/json", payload)
    return judge.stream_violations(args.status, raw if raw.endswith("\n") else raw + "\n\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gptnb-mock",
        description="A mock of the GPTNB API (goapi.gptnb.ai) driven by JSON-Schema contracts.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gptnb-mock {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the mock server", description="Run the mock under uvicorn. Every GPTNB path answers as the real service would.")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: %(default)s)")
    serve.add_argument("--seed", type=int, default=0, help="seed for generated content when a request has none; same request + same seed gives the same reply (default: %(default)s)")
    serve.add_argument("--api-key", action="append", metavar="KEY", help="accept only this key (repeatable); without it any key is accepted, a missing key still gets 401")
    serve.add_argument("--latency", type=int, default=0, metavar="MS", help=f"milliseconds added before every answer, at most {MAX_DELAY_MS} (default: %(default)s)")
    serve.add_argument("--chunk-delay", type=int, default=0, metavar="MS", help="milliseconds between streamed events; the same as --tps 1000/MS (default: %(default)s)")
    serve.add_argument("--ttft", type=int, metavar="MS", help="stream physics: milliseconds before the first event of every stream")
    serve.add_argument("--tps", type=float, metavar="N", help="stream physics: events (tokens) per second of every stream")
    serve.add_argument("--jitter", type=int, metavar="MS", help="stream physics: each gap between events moves by up to MS either way")
    serve.add_argument("--model-physics", metavar="FILE", help="per-model physics: 'builtin' (figures like real models) or a JSON file mapping model globs to {ttft, tps, jitter}")
    serve.add_argument("--chaos", type=float, metavar="P", help="share of requests (0..1) that get a fault from --chaos-mix, repeatable by seed")
    serve.add_argument("--chaos-mix", metavar="MIX", help=f"faults chaos picks from, scenario items joined by | (default: {'|'.join(DEFAULT_MIX)})")
    serve.add_argument("--chaos-seed", type=int, metavar="N", help="seed of chaos and jitter (default: --seed); the same seed and request order give the same faults")
    serve.add_argument("--strict", action="store_true", help="check every response against its contract; violations are logged and shown in /__mock/journal")
    serve.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY_BYTES, metavar="BYTES", help="largest request body accepted; larger gets 413 (default: %(default)s)")
    serve.add_argument("--journal-size", type=int, default=1000, metavar="N", help="calls kept in each namespace's journal ring (default: %(default)s)")
    serve.add_argument("--error-type", default="new_api_error", help="error.type of relay errors (default: %(default)s)")
    serve.add_argument("--clock", choices=MODES, default="real", help="real: wall time (scaled by --clock-speed); manual: moves only via POST /__mock/clock; step: every poll of a task moves it one state on (default: %(default)s)")
    serve.add_argument("--clock-speed", type=float, default=1.0, metavar="X", help="how much faster than real time the real clock runs (default: %(default)s)")
    serve.add_argument("--callback-allow", action="append", metavar="HOST", help="also POST task callbacks to HOST (repeatable; loopback is always allowed)")
    serve.add_argument("--max-tasks", type=int, default=10_000, metavar="N", help="tasks kept per namespace; past this the oldest finished ones are forgotten (default: %(default)s)")
    serve.add_argument("--task-failure-rate", type=float, default=0.0, metavar="P", help="share of async tasks planned to fail, 0..1 (default: %(default)s)")
    serve.add_argument("--task-concurrency", type=int, default=10, metavar="N", help="tasks a family runs at once before queueing, Midjourney code 22 (default: %(default)s)")
    serve.add_argument("--task-queue", type=int, default=100, metavar="N", help="queued tasks a family accepts before refusing, Midjourney code 23 (default: %(default)s)")
    serve.add_argument("--banned-word", action="append", metavar="WORD", help="refuse prompts containing WORD (repeatable; adds to the defaults), Midjourney code 24")
    serve.add_argument("--quota", action="append", metavar="KEY=AMOUNT", help="give KEY this quota (new-api points, 500000 = $1, or dollars as $1.50); answers drain it by their usage and a used-up key is refused as the relay refuses it (repeatable)")
    serve.add_argument("--limit", action="append", metavar="FIELDS", help="a rate limit or concurrency gate: key=KEY or model=GLOB, with rpm=N, tpm=N, concurrency=N, window=SECONDS (e.g. key=sk-test,rpm=3; repeatable)")
    serve.add_argument("--allow-host", action="append", metavar="NAME", help="also answer requests whose Host header is NAME (repeatable; '*' for any). Served by default: the --host interface, localhost, 127.0.0.1, ::1, and any IP address when --host is 0.0.0.0 or ::")
    serve.add_argument("--admin-token", default=os.environ.get("GPTNB_MOCK_ADMIN_TOKEN"), metavar="TOKEN", help="require this token in the X-Mock-Admin-Token header of admin calls (default: $GPTNB_MOCK_ADMIN_TOKEN, else none)")
    serve.add_argument("--max-header-bytes", type=int, default=DEFAULT_MAX_HEADER_BYTES, metavar="BYTES", help="largest request line + headers; larger gets 431 (default: %(default)s)")
    serve.add_argument("--journal-entry-bytes", type=int, default=Settings.journal_entry_bytes, metavar="BYTES", help="request/response bytes one journal entry keeps, larger values truncated with a marker (default: %(default)s)")
    serve.add_argument("--task-param-bytes", type=int, default=Settings.task_param_bytes, metavar="BYTES", help="request parameter bytes one task keeps (default: %(default)s)")
    serve.add_argument("--callback-concurrency", type=int, default=Settings.callback_concurrency, metavar="N", help="callback deliveries in flight at once (default: %(default)s)")
    serve.add_argument("--realtime-audio-bytes", type=int, default=Settings.realtime_audio_bytes, metavar="BYTES", help="largest Realtime input audio buffer (default: %(default)s)")
    serve.add_argument("--media-cache-bytes", type=int, default=Settings.media_cache_bytes, metavar="BYTES", help="generated media kept for repeated downloads, 0 for none (default: %(default)s)")
    serve.add_argument("--shutdown-timeout", type=float, default=DEFAULT_SHUTDOWN_SECONDS, metavar="S", help="on SIGTERM, seconds open requests, streams and sessions get before they are cancelled (default: %(default)s)")
    serve.add_argument(
        "--generated-json",
        choices=list(GENERATED_JSON),
        default="full",
        help="JSON made from your schemas (tool-call arguments, json_schema and JSON-mode replies): full fills every optional property, minimal only the required ones (default: %(default)s)",
    )
    serve.add_argument(
        "--fixtures",
        action="append",
        metavar="PATH",
        help="canned replies from a JSON or YAML file, or every such file in a directory (repeatable); "
        "aimock fixture files load as they are; files are reloaded when they change",
    )
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"], help="uvicorn log level (default: %(default)s)")
    serve.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=True, help="log every request (default: on)")
    serve.add_argument(
        "--store",
        default="memory",
        metavar="URL",
        help="where tasks, rules, journals and clocks live: memory (this process; gone when it stops) or redis://[:PASSWORD@]HOST:PORT/DB "
        "(shared by every worker and replica pointing at it, kept across restarts; rediss:// for TLS) (default: %(default)s)",
    )
    serve.add_argument("--workers", type=int, default=1, metavar="N", help="uvicorn worker processes; more than one needs --store redis://... (default: %(default)s)")
    serve.add_argument(
        "--namespace-per-key",
        action="store_true",
        help="requests without an X-Mock-Namespace header get a namespace of their API key (tasks, rules, journal and clock apart per key)",
    )
    from .proxy.cli import add_proxy_arguments, add_replay_arguments, run_proxy

    add_replay_arguments(serve)
    serve.set_defaults(run=_serve)

    listing = commands.add_parser("contracts", help="list the contracts", description="List every contract: id, method, path, aliases, title.")
    listing.add_argument("--json", action="store_true", help="print JSON (id, family, method, path, aliases, title, summary, kind, cost)")
    listing.add_argument("--family", help="only this family (e.g. openai)")
    listing.set_defaults(run=_contracts)

    validate = commands.add_parser(
        "validate",
        help="is this payload a valid request or response for an endpoint?",
        description="Judge a request body (default) or, with --status, a response body or SSE stream against the contract of METHOD PATH. "
        "Exit 0 when it conforms, 1 with the violations listed when it does not, 2 on usage errors.",
    )
    validate.add_argument("--method", required=True, help="HTTP method, e.g. POST")
    validate.add_argument("--path", required=True, help="request path, e.g. /v1/chat/completions (a query string or a full URL is fine)")
    validate.add_argument("--status", type=int, help="judge FILE as the response with this status instead of as a request")
    validate.add_argument("--content-type", help="the response's content type (default: application/json; SSE is recognised by its data: lines)")
    validate.add_argument("--contract", help="contract id, when the path alone does not pick the variant you mean")
    validate.add_argument("file", metavar="FILE", help="JSON file (or a saved SSE stream); - reads standard input")
    validate.set_defaults(run=_validate)

    openapi = commands.add_parser(
        "openapi",
        help="export the contracts as an OpenAPI 3.1 document",
        description="Write the contracts as one OpenAPI 3.1 JSON document (for schemathesis, code generators, API browsers). "
        "One operation per contract; aliases and variants ride in x-gptnb-* extensions. A running mock serves the same "
        "document at /__mock/openapi.json and a readable page at /__mock/docs.",
    )
    openapi.add_argument("--family", action="append", metavar="F", help="only this family (repeatable, e.g. --family openai --family midjourney; default: all)")
    openapi.add_argument("--server", metavar="URL", help="base URL for the document's servers list, e.g. http://127.0.0.1:8000 (default: none)")
    openapi.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    openapi.set_defaults(run=_openapi)

    check = commands.add_parser(
        "check",
        help="check a server (the real upstream or this mock) against the contracts",
        description="Send documented, generated and one-rule-broken requests to BASE_URL and judge every answer against its contract. "
        "Free contracts only unless --allow-paid. The last line printed is the verdict on the whole run. Exit status: 0 every "
        "case ran and conformed; 1 a case did not conform; 3 none failed but the request budget (--max-requests) ran out "
        "before every case was checked, so the run is incomplete.",
    )
    from pytest_plugin.conformance_cli import add_arguments, run

    add_arguments(check)
    check.set_defaults(run=run)

    proxy = commands.add_parser(
        "proxy",
        help="forward requests to the upstream, judge every exchange against its contract, record cassettes",
        description="A validating proxy: every request (HTTP, SSE streams, uploads, downloads, Realtime WebSocket frames) goes to "
        "--upstream and its answer comes back unchanged, while request, response, every event and every frame are judged against the "
        "contract. Verdicts go to the journal (/__proxy/journal) and the x-gptnb-verdict header; --record DIR keeps one cassette per "
        "exchange, with every credential replaced. Free routes only unless --allow-paid; a request budget (--max-requests).",
    )
    add_proxy_arguments(proxy)
    proxy.set_defaults(run=run_proxy)

    drift = commands.add_parser(
        "drift",
        help="compare recorded traffic with the contracts and propose patches",
        description="Read the cassettes in DIR and report, per contract, what real traffic did that the contract does not say: unknown "
        "fields, missing required fields, enum values and status words never listed, type changes, new error shapes, unknown event types. "
        "Proposes a JSON Patch per contract file (each operation says how often its case occurred): a summary is printed, --report writes "
        "it whole, --apply writes it applied to a copy. Exit 0 without drift, 1 with drift, 2 on errors.",
    )
    from .proxy.drift_cli import add_drift_arguments, run_drift

    add_drift_arguments(drift)
    drift.set_defaults(run=run_drift)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:  # `gptnb-mock contracts | head`: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
