"""Cassettes in tests, in the spirit of pytest-recording: ``@pytest.mark.gptnb(cassette="name")`` and
``--gptnb-record=once|new|none``.

A cassette is a directory of recorded exchanges (``<test dir>/cassettes/<name>/``, one JSON file per
exchange, as ``gptnb-mock proxy --record`` writes them). Modes:

- ``none`` (default): never record. The test's requests are answered from the cassette; a request it
  does not answer, or a cassette that was never recorded, fails the test (with the nearest recording).
- ``once``: a cassette that does not exist yet is recorded — the test's requests go to the upstream
  through the validating proxy (``--gptnb-upstream``, key from ``$GPTNB_API_KEY``); an existing one
  replays as under ``none``.
- ``new``: recorded exchanges replay; requests they do not answer go to the upstream and are added.

Both fixtures work the same way: ``gptnb`` routes the intercepted clients to the mock or the proxy,
``gptnb_server`` serves one or the other on its port. ``calls`` shows the requests either way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.proxy import ProxyApp, ProxyOptions
from mockserver.proxy.cassette import SUFFIX, load
from mockserver.proxy.cli import DEFAULT_UPSTREAM, KEY_VARIABLE
from mockserver.proxy.redact import Redactor
from mockserver.proxy.replay import Replay, parse_timing
from mockserver.state import MockState

from .interception import NetworkTransport

RECORD_MODES = ("once", "new", "none")
DEFAULT_DIR = "cassettes"
CASSETTE_OPTIONS = ("cassette", "replay_timing")
"""The marker's options read here, not by the mock's settings."""


@dataclass
class CassetteUse:
    """How one test uses its cassette: replaying it, recording it, or both (``new``)."""

    name: str
    directory: Path
    replay: Replay | None = None
    proxy: ProxyApp | None = None

    def failures(self) -> list[str]:
        """What the test must fail for: requests the cassette did not answer while it only replays."""
        if self.replay is None or self.proxy is not None:
            return []
        return [str(miss) for miss in self.replay.misses]


def add_options(group: Any, parser: pytest.Parser) -> None:
    group.addoption("--gptnb-record", choices=RECORD_MODES, default=None, help="cassettes: none replays only (default), once records missing ones, new adds what is not recorded yet")
    group.addoption("--gptnb-upstream", default=None, metavar="URL", help=f"where cassettes are recorded from (default: ini gptnb_upstream or {DEFAULT_UPSTREAM}); key from ${KEY_VARIABLE}")
    parser.addini("gptnb_record", "cassette record mode: none, once or new", default="none")
    parser.addini("gptnb_upstream", "the upstream cassettes are recorded from", default=DEFAULT_UPSTREAM)
    parser.addini("gptnb_cassette_dir", "where cassettes live, relative to each test file's directory", default=DEFAULT_DIR)


def cassette_use(request: pytest.FixtureRequest, state: MockState, namespace: str, marker_options: dict[str, Any]) -> CassetteUse | None:
    """Set ``state`` up for the test's cassette (replay, played in the test's ``namespace``), or build the
    recording proxy (journalling into that namespace, so ``calls`` shows what it forwarded); None without one."""
    name = marker_options.pop("cassette", None)
    timing = marker_options.pop("replay_timing", "fast")
    if name is None:
        return None
    if not isinstance(name, str) or not name or name.startswith(("/", ".")):
        raise pytest.UsageError("@pytest.mark.gptnb(cassette=...) is a relative name, e.g. cassette='chat_hello'")
    config = request.config
    mode = config.getoption("--gptnb-record") or config.getini("gptnb_record")
    if mode not in RECORD_MODES:
        raise pytest.UsageError(f"gptnb_record must be one of {', '.join(RECORD_MODES)}, not {mode!r}")
    directory = Path(request.node.path).parent / config.getini("gptnb_cassette_dir") / name
    recorded = directory.is_dir() and any(directory.rglob("*" + SUFFIX))
    try:
        pace = parse_timing(timing)
    except ValueError as exc:
        raise pytest.UsageError(f"@pytest.mark.gptnb(replay_timing=...): {exc}") from None
    use = CassetteUse(name, directory)
    if recorded:
        use.replay = Replay(load(directory), strict=True, timing=pace, secret_query=Redactor(state.registry).query_named)
    if mode == "none" or (mode == "once" and recorded):
        if not recorded:
            pytest.fail(f"cassette {name!r} was never recorded (no {directory}); record it with --gptnb-record=once", pytrace=False)
        state.replay = use.replay
        return use
    upstream = config.getoption("--gptnb-upstream") or config.getini("gptnb_upstream")
    key = os.environ.get(KEY_VARIABLE) or None
    if key is None and upstream.rstrip("/") == DEFAULT_UPSTREAM:
        # The test's own placeholder key would only record GPTNB's 401s.
        pytest.fail(f"recording cassette {name!r} from {DEFAULT_UPSTREAM} needs the key in ${KEY_VARIABLE}", pytrace=False)
    options = ProxyOptions(upstream=upstream, api_key=key, record=directory, allow_paid=True)
    use.proxy = ProxyApp(options, store=state.store, namespace=namespace, replay=use.replay, client_factory=_network_client)
    return use


def _network_client() -> httpx.AsyncClient:
    # The recording proxy runs inside the test, where the GPTNB hosts are intercepted: its own
    # requests to the upstream must still reach the network.
    return httpx.AsyncClient(transport=NetworkTransport(), timeout=600.0)
