"""The pytest plugin (entry point ``pytest11``): fixtures ``gptnb`` and ``gptnb_server``.

``gptnb`` answers httpx and httpx2 requests to the GPTNB hosts in-process (no socket); ``gptnb_server``
is the same app under uvicorn on a free loopback port, for clients that httpx does not carry
(requests, aiohttp, curl, Node). Both start from a clean state in every test, and both fail the test
when, in strict mode, the mock's own answers broke their contracts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from mockserver.app import MockApp
from mockserver.clock import MODES, Clock
from mockserver.config import Settings
from mockserver.guard import served_hosts
from mockserver.state import MockState

from .bridge import ASGIApp, ASGIBridge
from .cassettes import CassetteUse, add_options, cassette_use
from .fixture import GptnbMock
from .interception import Interceptor
from .server import LiveServer

DEFAULT_HOSTS = ("goapi.gptnb.ai", "api.gptnb.ai")
MARKER = "gptnb"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gptnb", "gptnb-mock: a mock of the GPTNB API")
    group.addoption("--gptnb-host", action="append", default=[], metavar="HOST", help="another host the gptnb fixture intercepts (repeatable)")
    group.addoption("--gptnb-seed", type=int, default=None, help="seed for generated content (default: ini gptnb_seed or 0)")
    group.addoption("--gptnb-strict", choices=("on", "off"), default=None, help="check every mock response against its contract (default: ini gptnb_strict or on)")
    parser.addini("gptnb_hosts", "extra hosts the gptnb fixture intercepts", type="linelist", default=[])
    parser.addini("gptnb_seed", "seed for generated content", default="0")
    parser.addini("gptnb_strict", "fail a test whose mock responses break their contracts", type="bool", default=True)
    add_options(group, parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(seed=None, strict=None, api_keys=(), clock='real', latency_ms=0, generated_json='full', cassette=None, replay_timing='fast'): "
        "configure the gptnb and gptnb_server fixtures for one test; cassette='name' replays (or, with --gptnb-record, records) cassettes/<name>/",
    )


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    return dict(marker.kwargs) if marker else {}


def _settings(request: pytest.FixtureRequest, overrides: dict[str, Any]) -> tuple[Settings, Clock]:
    config = request.config
    seed = config.getoption("--gptnb-seed")
    strict_option = config.getoption("--gptnb-strict")
    options: dict[str, Any] = {
        "seed": int(config.getini("gptnb_seed")) if seed is None else seed,
        "strict": bool(config.getini("gptnb_strict")) if strict_option is None else strict_option == "on",
    }
    overrides = dict(overrides)
    clock_mode = overrides.pop("clock", "real")
    if clock_mode not in MODES:
        raise pytest.UsageError(f"@pytest.mark.gptnb(clock=...) must be one of {MODES}")
    if "api_keys" in overrides:
        overrides["api_keys"] = frozenset(overrides["api_keys"])
    try:
        settings = Settings(**{**options, **{k: v for k, v in overrides.items() if v is not None}})
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"@pytest.mark.gptnb: {exc}") from None
    return settings, Clock(clock_mode)


def _hosts(config: pytest.Config) -> tuple[str, ...]:
    return (*DEFAULT_HOSTS, *config.getini("gptnb_hosts"), *config.getoption("--gptnb-host"))


def _fail_on_violations(*mocks: GptnbMock) -> None:
    found = [v for mock in mocks if mock.state.settings.strict for v in mock.violations()]
    if found:
        pytest.fail("gptnb-mock answers broke their contracts:\n  " + "\n  ".join(found), pytrace=False)


def _fail_on_misses(use: CassetteUse | None, request: pytest.FixtureRequest | None = None) -> None:
    if request is not None and request.node.stash.get(_MISSES_REPORTED, False):
        return
    missed = use.failures() if use is not None else []
    if missed:
        pytest.fail(f"cassette {use.name!r} does not answer every request (record it again with --gptnb-record=new):\n  " + "\n  ".join(missed), pytrace=False)  # type: ignore[union-attr]


def _prepare(request: pytest.FixtureRequest, state: MockState | None = None, hosts: frozenset[str] | None = None) -> tuple[MockState, CassetteUse | None]:
    """The test's state (new, or the live server's reconfigured to serve ``hosts``) and its cassette, if it names one."""
    options = _marker_options(request)
    settings, clock = _settings(request, {k: v for k, v in options.items() if k not in ("cassette", "replay_timing")})
    if state is None:
        state = MockState(settings, clock=clock)
    else:
        state.configure(replace(settings, allowed_hosts=hosts), clock)
    use = cassette_use(request, state, options)
    if use is not None:
        request.node.stash.setdefault(_CASSETTES, []).append(use)
    return state, use


# Set once the call phase has failed a test for its violations, so the fixtures' teardown stays quiet.
_VIOLATIONS_REPORTED = pytest.StashKey[bool]()
# The test's cassettes, and whether its replay misses are already reported (by the test's own failure:
# a miss under strict replay is an error answer the code under test sees and usually raises on).
_CASSETTES = pytest.StashKey[list[CassetteUse]]()
_MISSES_REPORTED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # Judged at the end of the call, not only at teardown: pytest reports a teardown failure as an
    # error next to a *passed* test, while a broken contract is this test's failure. (A test that
    # already failed on its own raises out of the yield; teardown still reports the violations.)
    try:
        result = yield
    except BaseException:
        item.stash[_MISSES_REPORTED] = True
        raise
    funcargs = getattr(item, "funcargs", {})
    mocks = [m for m in (funcargs.get("gptnb"), funcargs.get("gptnb_server")) if isinstance(m, GptnbMock)]
    if any(m.state.settings.strict and m.violations() for m in mocks):
        item.stash[_VIOLATIONS_REPORTED] = True
        _fail_on_violations(*mocks)
    for use in item.stash.get(_CASSETTES, []):
        item.stash[_MISSES_REPORTED] = True
        _fail_on_misses(use)
    return result


def _fail_at_teardown(request: pytest.FixtureRequest, mock: GptnbMock) -> None:
    if not request.node.stash.get(_VIOLATIONS_REPORTED, False):
        _fail_on_violations(mock)


@pytest.fixture
def gptnb(request: pytest.FixtureRequest) -> Iterator[GptnbMock]:
    """In-process mock of https://goapi.gptnb.ai: httpx / httpx2 clients (and the openai SDK) reach it unchanged."""
    state, cassette = _prepare(request)
    app = MockApp(state=state)
    bridge = ASGIBridge(cassette.proxy if cassette and cassette.proxy else app)
    with Interceptor(bridge, _hosts(request.config)):
        mock = GptnbMock(app, f"https://{DEFAULT_HOSTS[0]}")
        yield mock
    bridge.close()
    _fail_at_teardown(request, mock)
    _fail_on_misses(cassette, request)


class _Switch:
    """The live server's app: the mock, or for a test that records its cassette, the recording proxy."""

    def __init__(self, mock: MockApp) -> None:
        self.mock = mock
        self.serving: ASGIApp = mock

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.serving(scope, receive, send)


@pytest.fixture(scope="session")
def _gptnb_live_server() -> Iterator[LiveServer]:
    server = LiveServer(_Switch(MockApp(state=MockState(Settings(strict=True)))))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def gptnb_server(request: pytest.FixtureRequest, _gptnb_live_server: LiveServer) -> Iterator[GptnbMock]:
    """The mock under uvicorn on 127.0.0.1 (one server per session, clean state per test); use ``.url``."""
    switch: _Switch = _gptnb_live_server.app  # type: ignore[assignment]
    app = switch.mock
    _, cassette = _prepare(request, app.state, served_hosts(_gptnb_live_server.host))
    switch.serving = cassette.proxy if cassette and cassette.proxy else app
    mock = GptnbMock(app, _gptnb_live_server.url)
    try:
        yield mock
    finally:
        switch.serving = app
        app.state.replay = None
    _fail_at_teardown(request, mock)
    _fail_on_misses(cassette, request)
    app.state.reset()
