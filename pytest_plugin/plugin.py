"""The pytest plugin (entry point ``pytest11``): fixtures ``gptnb`` and ``gptnb_server``.

``gptnb`` answers httpx and httpx2 requests to the GPTNB hosts in-process (no socket); ``gptnb_server``
is the same app under uvicorn on a free loopback port, for clients that httpx does not carry
(requests, aiohttp, curl, Node). Both start from a clean state in every test, and both fail the test
when, in strict mode, the mock's own answers broke their contracts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mockserver import rulefiles
from mockserver.app import MockApp
from mockserver.clock import MODES, Clock
from mockserver.config import Settings
from mockserver.guard import served_hosts
from mockserver.state import MockState

from .bridge import ASGIBridge
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
    parser.addini("gptnb_fixtures", "files or directories of canned replies every test gets (relative to the ini file)", type="linelist", default=[])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(seed=None, strict=None, api_keys=(), clock='real', latency_ms=0, generated_json='full', fixtures=()): configure the gptnb and gptnb_server fixtures for one test",
    )


def _settings(request: pytest.FixtureRequest) -> tuple[Settings, Clock]:
    config = request.config
    seed = config.getoption("--gptnb-seed")
    strict_option = config.getoption("--gptnb-strict")
    options: dict[str, Any] = {
        "seed": int(config.getini("gptnb_seed")) if seed is None else seed,
        "strict": bool(config.getini("gptnb_strict")) if strict_option is None else strict_option == "on",
    }
    marker = request.node.get_closest_marker(MARKER)
    overrides = dict(marker.kwargs) if marker else {}
    clock_mode = overrides.pop("clock", "real")
    overrides.pop("fixtures", None)
    if clock_mode not in MODES:
        raise pytest.UsageError(f"@pytest.mark.gptnb(clock=...) must be one of {MODES}")
    if "api_keys" in overrides:
        overrides["api_keys"] = frozenset(overrides["api_keys"])
    try:
        settings = Settings(**{**options, **{k: v for k, v in overrides.items() if v is not None}})
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"@pytest.mark.gptnb: {exc}") from None
    return settings, Clock(clock_mode)


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
    """Make the test's canned-reply files the instance's file rules (none: none)."""
    paths = _fixture_files(request)
    try:
        mock.state.rules.replace_files(rulefiles.load(paths, mock.state).rules if paths else [])
    except rulefiles.RuleFileError as exc:
        pytest.fail(f"gptnb fixtures: {exc}", pytrace=False)


def _hosts(config: pytest.Config) -> tuple[str, ...]:
    return (*DEFAULT_HOSTS, *config.getini("gptnb_hosts"), *config.getoption("--gptnb-host"))


def _fail_on_violations(*mocks: GptnbMock) -> None:
    found = [v for mock in mocks if mock.state.settings.strict for v in mock.violations()]
    if found:
        pytest.fail("gptnb-mock answers broke their contracts:\n  " + "\n  ".join(found), pytrace=False)


# Set once the call phase has failed a test for its violations, so the fixtures' teardown stays quiet.
_VIOLATIONS_REPORTED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # Judged at the end of the call, not only at teardown: pytest reports a teardown failure as an
    # error next to a *passed* test, while a broken contract is this test's failure. (A test that
    # already failed on its own raises out of the yield; teardown still reports the violations.)
    result = yield
    funcargs = getattr(item, "funcargs", {})
    mocks = [m for m in (funcargs.get("gptnb"), funcargs.get("gptnb_server")) if isinstance(m, GptnbMock)]
    if any(m.state.settings.strict and m.violations() for m in mocks):
        item.stash[_VIOLATIONS_REPORTED] = True
        _fail_on_violations(*mocks)
    return result


def _fail_at_teardown(request: pytest.FixtureRequest, mock: GptnbMock) -> None:
    if not request.node.stash.get(_VIOLATIONS_REPORTED, False):
        _fail_on_violations(mock)


@pytest.fixture
def gptnb(request: pytest.FixtureRequest) -> Iterator[GptnbMock]:
    """In-process mock of https://goapi.gptnb.ai: httpx / httpx2 clients (and the openai SDK) reach it unchanged."""
    settings, clock = _settings(request)
    app = MockApp(state=MockState(settings, clock=clock))
    mock = GptnbMock(app, f"https://{DEFAULT_HOSTS[0]}")
    _load_fixture_files(request, mock)
    bridge = ASGIBridge(app)
    with Interceptor(bridge, _hosts(request.config)):
        yield mock
    bridge.close()
    _fail_at_teardown(request, mock)


@pytest.fixture(scope="session")
def _gptnb_live_server() -> Iterator[LiveServer]:
    app = MockApp(state=MockState(Settings(strict=True)))
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def gptnb_server(request: pytest.FixtureRequest, _gptnb_live_server: LiveServer) -> Iterator[GptnbMock]:
    """The mock under uvicorn on 127.0.0.1 (one server per session, clean state per test); use ``.url``."""
    app: MockApp = _gptnb_live_server.app  # type: ignore[assignment]
    settings, clock = _settings(request)
    app.state.configure(replace(settings, allowed_hosts=served_hosts(_gptnb_live_server.host)), clock)
    mock = GptnbMock(app, _gptnb_live_server.url)
    _load_fixture_files(request, mock)
    yield mock
    _fail_at_teardown(request, mock)
    app.state.reset()
