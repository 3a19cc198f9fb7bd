"""``gptnb-mock proxy`` and the replay flags of ``gptnb-mock serve``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from ..contracts import default_registry
from ..guard import served_hosts
from ..serving import install_log_redaction, uvicorn_options
from .app import FREE_METHODS, ProxyApp, ProxyOptions
from .cassette import CassetteError
from .redact import Redactor
from .replay import Replay, parse_timing

KEY_VARIABLE = "GPTNB_API_KEY"
DEFAULT_UPSTREAM = "https://goapi.gptnb.ai"


def add_proxy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--upstream", default=DEFAULT_UPSTREAM, metavar="URL", help="where requests go (default: %(default)s)")
    parser.add_argument("--record", type=Path, metavar="DIR", help="write one cassette (JSON) per exchange into DIR")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8010, help="port to listen on (default: %(default)s)")
    parser.add_argument("--api-key", help=f"key sent upstream in place of the client's (default: ${KEY_VARIABLE}); kept in memory only, never logged or recorded")
    parser.add_argument("--allow-paid", action="store_true", help="also forward routes that cost money upstream, and requests no contract describes (default: free routes and GET downloads only)")
    parser.add_argument("--max-requests", type=int, default=500, metavar="N", help="requests (and WebSocket sessions) forwarded before the proxy refuses more (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=600.0, metavar="S", help="longest wait for the upstream (default: %(default)s)")
    parser.add_argument("--allow-host", action="append", metavar="NAME", help="also answer requests whose Host header is NAME (repeatable; '*' for any). Answered by default: the --host interface, localhost, 127.0.0.1, ::1")
    parser.add_argument("--allow-origin", action="append", metavar="ORIGIN", help="let the web page ORIGIN (e.g. http://localhost:3000) send requests through a proxy that holds a key (repeatable; refused by default: a page could spend the key)")
    parser.add_argument("--dry-run", action="store_true", help="print what the proxy would forward and refuse, then exit without listening")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"], help="log level (default: %(default)s)")


def run_proxy(args: argparse.Namespace) -> int:
    if args.max_requests < 1:
        print("gptnb-mock: --max-requests must be at least 1", file=sys.stderr)
        return 2
    options = ProxyOptions(
        upstream=args.upstream,
        api_key=args.api_key or os.environ.get(KEY_VARIABLE) or None,
        record=args.record,
        allow_paid=args.allow_paid,
        max_requests=args.max_requests,
        timeout=args.timeout,
        allowed_hosts=served_hosts(args.host, tuple(args.allow_host or ())),
        allowed_origins=frozenset(args.allow_origin or ()),
    )
    try:
        app = ProxyApp(options)
    except (ValueError, OSError) as exc:
        print(f"gptnb-mock: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        _print_plan(app, options)
        return 0
    import uvicorn

    logging.basicConfig(level=args.log_level.upper(), format="%(message)s")
    # uvicorn's access log would print query strings, where some families carry keys; the proxy logs
    # each exchange itself, without them.
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False, **uvicorn_options())
    install_log_redaction()  # websockets logs handshake headers at debug: the key must not show there either
    key = "the key from --api-key/$GPTNB_API_KEY" if app.core.upstream.has_key else "each client's own key"
    record = f", recording into {options.record}" if options.record else ""
    print(f"gptnb-mock proxy: http://{args.host}:{args.port} -> {app.core.upstream.base_url} with {key}{record} (admin: /__proxy/)", file=sys.stderr)
    uvicorn.Server(config).run()
    return 0


def _print_plan(app: ProxyApp, options: ProxyOptions) -> None:
    core = app.core
    forwarded = [c for c in core.registry if options.allow_paid or c.cost == "free"]
    refused = [c for c in core.registry if c not in forwarded]
    print(f"upstream: {core.upstream.base_url}")
    print(f"key: {'from --api-key / $' + KEY_VARIABLE if core.upstream.has_key else 'none (each client sends its own)'}")
    print(f"recording: {options.record or 'off'}")
    print(f"budget: {options.max_requests} requests")
    unknown = "forwarded" if options.allow_paid else f"forwarded for {', '.join(sorted(FREE_METHODS))} only"
    print(f"requests no contract describes: {unknown}")
    print(f"credentials never written: headers {', '.join(sorted(core.redactor.headers_named))}; query {', '.join(sorted(core.redactor.query_named))}; subprotocols {', '.join(p + '*' for p in core.redactor.subprotocol_prefixes)}")
    for contract in forwarded:
        print(f"forward {contract.method:<6} {contract.path:<50} {contract.id}")
    for contract in refused:
        print(f"refuse  {contract.method:<6} {contract.path:<50} {contract.id} (paid: --allow-paid)")
    print(f"{len(forwarded)} contracts forwarded, {len(refused)} refused (nothing was started)", file=sys.stderr)


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--replay", type=Path, metavar="DIR", help="answer requests that match a recording in DIR (gptnb-mock proxy --record) with the recorded answer; others get the fake")
    parser.add_argument("--replay-strict", action="store_true", help="refuse (404) requests no recording answers instead of faking an answer")
    parser.add_argument("--replay-timing", default="real", metavar="real|fast|xN", help="recorded pace (real), none (fast), or N times faster (x4) (default: %(default)s)")
    parser.add_argument("--replay-ignore", action="append", metavar="FIELD", help="also ignore body members named FIELD when matching (repeatable)")


def replay_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """The replay the serve flags ask for, as JSON (handed to ``--workers`` processes too); ValueError
    (with the reason) when the flags are wrong."""
    if args.replay is None:
        if args.replay_strict or args.replay_ignore:
            raise ValueError("--replay-strict and --replay-ignore need --replay DIR")
        return None
    parse_timing(args.replay_timing)
    return {"directory": str(args.replay), "strict": args.replay_strict, "timing": args.replay_timing, "ignore": list(args.replay_ignore or ())}


def load_replay(options: dict[str, Any] | None, announce: bool = False) -> Replay | None:
    """The recordings ``replay_options`` names, read from their directory; ValueError when they cannot be."""
    if options is None:
        return None
    try:
        replay = Replay.load(
            Path(options["directory"]),
            strict=options["strict"],
            timing=parse_timing(options["timing"]),
            ignored=frozenset(options["ignore"]),
            secret_query=Redactor(default_registry()).query_named,
        )
    except CassetteError as exc:
        raise ValueError(str(exc)) from None
    if announce:
        print(f"gptnb-mock: replaying {len(replay.cassettes)} recorded exchanges from {options['directory']}", file=sys.stderr)
    return replay
