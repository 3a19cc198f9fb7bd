"""The pytest plugin (entry point ``pytest11``): fixtures ``gptnb`` and ``gptnb_server``.

``gptnb`` answers httpx and httpx2 requests to the GPTNB hosts in-process (no socket); ``gptnb_server``
is the same app under uvicorn on a free loopback port, for clients that httpx does not carry
(requests, aiohttp, curl, Node). Both start from a clean state in every test, and both fail the test
when, in strict mode, the mock's own answers broke their contracts.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver import rulefiles
from mockserver.app import MockApp
from mockserver.clock import MODES
from mockserver.config import Settings
from mockserver.contracts import default_registry
from mockserver.faults.chaos import Chaos
from mockserver.faults.grammar import FaultSpecError, physics_from_fields
from mockserver.guard import served_hosts
from mockserver.namespaces import PATH_PREFIX, strip_prefix, url_prefix
from mockserver.state import MockState
from mockserver.store import DEFAULT_NAMESPACE

from .bridge import ASGIApp, ASGIBridge
from .cassettes import CASSETTE_OPTIONS, CassetteUse, add_options, cassette_use
from .controls import InProcess, OverHttp
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
    group.addoption(
        "--gptnb-server-url",
        default=None,
        metavar="URL",
        help="gptnb_server uses the mock served at URL (a team instance, a container) instead of starting one; each test gets its own namespace there",
    )
    parser.addini("gptnb_hosts", "extra hosts the gptnb fixture intercepts", type="linelist", default=[])
    parser.addini("gptnb_seed", "seed for generated content", default="0")
    parser.addini("gptnb_strict", "fail a test whose mock responses break their contracts", type="bool", default=True)
    parser.addini("gptnb_fixtures", "files or directories of canned replies every test gets (relative to the ini file)", type="linelist", default=[])
    add_options(group, parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(seed=None, strict=None, api_keys=(), clock='real', latency_ms=0, generated_json='full', physics=None, model_physics=None, "
        "chaos=None, chaos_seed=None, fixtures=(), cassette=None, replay_timing='fast'): configure the gptnb and gptnb_server fixtures for one "
        "test; fixtures= loads files of canned replies; "
        "cassette='name' replays (or, with --gptnb-record, records) cassettes/<name>/",
    )


def _settings(request: pytest.FixtureRequest) -> Settings:
    config = request.config
    seed = config.getoption("--gptnb-seed")
    strict_option = config.getoption("--gptnb-strict")
    options: dict[str, Any] = {
        "seed": int(config.getini("gptnb_seed")) if seed is None else seed,
        "strict": bool(config.getini("gptnb_strict")) if strict_option is None else strict_option == "on",
    }
    overrides = {k: v for k, v in _marker_options(request).items() if k not in CASSETTE_OPTIONS and k != "fixtures"}
    if "api_keys" in overrides:
        overrides["api_keys"] = frozenset(overrides["api_keys"])
    if isinstance(overrides.get("physics"), dict):  # physics={"ttft": 300, "tps": 50}
        try:
            overrides["physics"] = physics_from_fields(overrides["physics"], "@pytest.mark.gptnb(physics=...)")
        except FaultSpecError as exc:
            raise pytest.UsageError(str(exc)) from None
    if isinstance(overrides.get("chaos"), (int, float)):  # chaos=0.2: the default mix
        overrides["chaos"] = Chaos(float(overrides["chaos"]))
    try:
        return Settings(**{**options, **overrides})
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"@pytest.mark.gptnb: {exc}") from None


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    overrides = {k: v for k, v in (marker.kwargs if marker else {}).items() if v is not None}
    if overrides.get("clock", "real") not in MODES:
        raise pytest.UsageError(f"@pytest.mark.gptnb(clock=...) must be one of {MODES}")
    return overrides


def _fixture_files(request: pytest.FixtureRequest) -> list[Path]:
    """The project's canned-reply files (ini ``gptnb_fixtures``), then the test's own (marker ``fixtures``)."""
    config = request.config
    base = config.inipath.parent if config.inipath else config.rootpath
    paths = [base / p for p in config.getini("gptnb_fixtures")]
    marker = request.node.get_closest_marker(MARKER)
    given = marker.kwargs.get("fixtures", ()) if marker else ()
    here = request.path.parent
    paths += [here / p for p in ([given] if isinstance(given, (str, os.PathLike)) else given)]
    return paths


def _load_fixture_files(request: pytest.FixtureRequest, mock: GptnbMock) -> None:
    """Load the test's canned-reply files into its namespace."""
    paths = _fixture_files(request)
    try:
        if paths:
            mock.load_fixtures(*paths)
    except rulefiles.RuleFileError as exc:
        pytest.fail(f"gptnb fixtures: {exc}", pytrace=False)


def _hosts(config: pytest.Config) -> tuple[str, ...]:
    return (*DEFAULT_HOSTS, *config.getini("gptnb_hosts"), *config.getoption("--gptnb-host"))


def _fail_on_violations(*mocks: GptnbMock) -> None:
    found = [v for mock in mocks if mock.controls.strict() for v in mock.violations()]
    if found:
        pytest.fail("gptnb-mock answers broke their contracts:\n  " + "\n  ".join(found), pytrace=False)


def _fail_on_misses(use: CassetteUse | None, request: pytest.FixtureRequest | None = None) -> None:
    if request is not None and request.node.stash.get(_MISSES_REPORTED, False):
        return
    missed = use.failures() if use is not None else []
    if missed:
        pytest.fail(f"cassette {use.name!r} does not answer every request (record it again with --gptnb-record=new):\n  " + "\n  ".join(missed), pytrace=False)  # type: ignore[union-attr]


def _cassette(request: pytest.FixtureRequest, state: MockState, namespace: str) -> CassetteUse | None:
    """The test's cassette, if it names one: ``state`` replays it, or the recording proxy is built."""
    use = cassette_use(request, state, namespace, _marker_options(request))
    if use is not None:
        request.node.stash.setdefault(_CASSETTES, []).append(use)
    return use


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
    if any(m.controls.strict() and m.violations() for m in mocks):
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
    state = MockState(_settings(request))
    cassette = _cassette(request, state, DEFAULT_NAMESPACE)
    app = MockApp(state=state)
    mock = GptnbMock(InProcess(state, DEFAULT_NAMESPACE), state.registry, f"https://{DEFAULT_HOSTS[0]}")
    _load_fixture_files(request, mock)
    bridge = ASGIBridge(cassette.proxy if cassette and cassette.proxy else app)
    with Interceptor(bridge, _hosts(request.config)):
        yield mock
    bridge.close()
    state.close()
    _fail_at_teardown(request, mock)
    _fail_on_misses(cassette, request)


class _Switch:
    """The live server's app: the mock, or for a test that records its cassette, the recording proxy
    (which gets the paths as the mock would, without the namespace prefix)."""

    def __init__(self, mock: MockApp) -> None:
        self.mock = mock
        self.serving: ASGIApp = mock

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.serving is not self.mock and scope["type"] != "lifespan" and scope["path"].startswith(PATH_PREFIX):
            scope = strip_prefix(scope)
        await self.serving(scope, receive, send)


class _SharedServer:
    """The mock every ``gptnb_server`` test of the session shares: one started here, or an external one."""

    def __init__(self, url: str | None) -> None:
        self.external = url
        self.live: LiveServer | None = None
        self.switch: _Switch | None = None
        if url is None:
            self.switch = _Switch(MockApp(state=MockState(Settings(strict=True))))
            self.live = LiveServer(self.switch)
            self.live.start()

    @property
    def url(self) -> str:
        return self.external or self.live.url  # type: ignore[union-attr]

    @property
    def state(self) -> MockState:
        return self.switch.mock.state  # type: ignore[union-attr]


@pytest.fixture(scope="session")
def _gptnb_live_server(request: pytest.FixtureRequest) -> Iterator[_SharedServer]:
    url = request.config.getoption("--gptnb-server-url")
    if url:
        _check_reachable(url)
    shared = _SharedServer(url)
    yield shared
    if shared.live is not None:
        shared.live.stop()


def _check_reachable(url: str) -> None:
    try:
        httpx.get(url.rstrip("/") + "/__mock/health", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        raise pytest.UsageError(f"--gptnb-server-url {url}: no gptnb-mock answers there ({exc})") from None


@pytest.fixture
def gptnb_server(request: pytest.FixtureRequest, _gptnb_live_server: _SharedServer) -> Iterator[GptnbMock]:
    """The mock over a real socket, in a namespace of its own for this test (a fresh one each time):
    one server per session started here, or the one ``--gptnb-server-url`` names. Use ``.url``."""
    shared = _gptnb_live_server
    namespace = _fresh_namespace(request.node.name)
    controls: InProcess | OverHttp
    cassette = None
    switch = shared.switch
    if switch is not None:
        shared.state.configure(replace(_settings(request), allowed_hosts=served_hosts(shared.live.host)))  # type: ignore[union-attr]
        controls = InProcess(shared.state, namespace)
        cassette = _cassette(request, shared.state, namespace)
        switch.serving = cassette.proxy if cassette and cassette.proxy else switch.mock
    else:
        unsupported = set(_marker_options(request)) - {"clock", "fixtures"}
        if unsupported:
            raise pytest.UsageError(f"@pytest.mark.gptnb({', '.join(sorted(unsupported))}=...) sets up the server itself: start the mock at --gptnb-server-url with those flags")
        controls = OverHttp(shared.url, namespace)
    mock = GptnbMock(controls, default_registry(), shared.url + url_prefix(namespace))
    try:
        _load_fixture_files(request, mock)  # first: a refused file leaves nothing behind
        clock = _marker_options(request).get("clock")
        if clock is not None:
            controls.change_clock({"mode": clock})
        yield mock
    finally:
        if switch is not None:
            switch.serving = switch.mock
            switch.mock.state.replay = None
    _fail_at_teardown(request, mock)
    _fail_on_misses(cassette, request)
    controls.reset()
    if isinstance(controls, OverHttp):
        controls.drop()


def _fresh_namespace(test_name: str) -> str:
    """Readable in namespace lists (the test's name) and unique (a random tail)."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", test_name).strip("-._")[:60] or "test"
    return f"{readable}-{secrets.token_hex(4)}"
