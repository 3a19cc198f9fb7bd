"""Debian's Chromium, headless, driven through Debian's chromedriver (nothing is downloaded).

The tests speak the W3C WebDriver protocol (https://www.w3.org/TR/webdriver2/) to chromedriver over
HTTP themselves: the dozen commands they use are plain JSON requests, and a client library would
bring its own async stack into the test environment (selenium needs trio, which makes anyio run
every downstream ``@pytest.mark.anyio`` test a second time, on trio).

``Browser`` is one Chromium with a fresh profile that can reach only loopback addresses (every other
host name fails to resolve, so a page that needed the network would show it). ``Page`` is what a
test does with it: open a view of the inspector at a window size, wait for what the page shows,
press keys, save a screenshot.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests

T = TypeVar("T")
WAIT = 30.0  # generous: CI machines run several suites at once, and the page refreshes every second
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
WIDE = (1280, 800)
NARROW = (390, 844)
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # how WebDriver marks an element in JSON


class Keys:
    """WebDriver's codes for keys that are not characters."""

    TAB = "\ue004"
    ENTER = "\ue007"
    ESCAPE = "\ue00c"
    ARROW_UP = "\ue013"
    ARROW_DOWN = "\ue015"


class WebDriverError(Exception):
    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message.splitlines()[0] if message else ''}")
        self.error = error


def program(name: str, package: str) -> str:
    """A Debian program the browser tests need. Missing, they fail (in CI, or as root, who can
    install it) or are skipped on a developer's machine."""
    found = shutil.which(name)
    if found:
        return found
    install = f"install Debian's {package} (apt-get install -y {package}; .ci/run does this)"
    if os.environ.get("CI") or os.geteuid() == 0:
        pytest.fail(f"{name} is not on PATH: {install}")
    pytest.skip(f"{name} is not on PATH: {install}")


class Browser:
    """chromedriver on a free loopback port, and one session of Chromium in it."""

    def __init__(self, home: Path) -> None:
        chromium, chromedriver = program("chromium", "chromium"), program("chromedriver", "chromium-driver")
        home.mkdir(parents=True, exist_ok=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.driver = subprocess.Popen([chromedriver, f"--port={port}", f"--log-path={home / 'chromedriver.log'}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        self._wait_for_driver()
        options = {"binary": chromium, "args": [*FLAGS, f"--user-data-dir={home / 'profile'}"]}
        capabilities = {"browserName": "chrome", "goog:chromeOptions": options, "goog:loggingPrefs": {"browser": "ALL"}}
        answer = requests.post(f"{self.url}/session", json={"capabilities": {"alwaysMatch": capabilities}}, timeout=120).json()["value"]
        if "sessionId" not in answer:
            self.driver.terminate()
            raise WebDriverError(answer.get("error", "?"), answer.get("message", ""))
        self.session = f"{self.url}/session/{answer['sessionId']}"

    def _wait_for_driver(self) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.driver.poll() is not None:
                raise AssertionError(f"chromedriver exited with {self.driver.returncode}")
            try:
                if requests.get(f"{self.url}/status", timeout=2).json()["value"]["ready"]:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise AssertionError(f"chromedriver did not start within {WAIT}s")

    def command(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = requests.request(method, self.session + path, json=body if body is not None else ({} if method == "POST" else None), timeout=120)
        value = answer.json()["value"]
        if answer.status_code >= 400:
            raise WebDriverError(value["error"], value.get("message", ""))
        return value

    def quit(self) -> None:
        try:
            requests.delete(self.session, timeout=30)
        finally:
            self.driver.terminate()
            self.driver.wait(10)


class Element:
    def __init__(self, browser: Browser, element_id: str) -> None:
        self.browser = browser
        self.id = element_id

    def _do(self, method: str, what: str, body: dict[str, Any] | None = None) -> Any:
        return self.browser.command(method, f"/element/{self.id}/{what}", body)

    def click(self) -> None:
        self._do("POST", "click")

    def send_keys(self, text: str) -> None:
        self._do("POST", "value", {"text": text})

    def clear(self) -> None:
        self._do("POST", "clear")

    @property
    def text(self) -> str:
        return self._do("GET", "text")

    @property
    def tag_name(self) -> str:
        return self._do("GET", "name")

    @property
    def rect(self) -> dict[str, float]:
        return self._do("GET", "rect")

    def get_attribute(self, name: str) -> str | None:
        return self._do("GET", f"attribute/{name}")

    def get_property(self, name: str) -> Any:
        return self._do("GET", f"property/{name}")

    def is_displayed(self) -> bool:
        return self._do("GET", "displayed")

    def is_enabled(self) -> bool:
        return self._do("GET", "enabled")


class Page:
    def __init__(self, browser: Browser, base: str, shots: Path) -> None:
        self.browser = browser
        self.base = base
        self.shots = shots

    def size(self, width: int, height: int) -> None:
        """The page's viewport, exactly (window decorations do not count)."""
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}
        self.browser.command("POST", "/goog/cdp/execute", {"cmd": "Emulation.setDeviceMetricsOverride", "params": metrics})

    def open(self, view: str = "", *, shown: bool = True) -> None:
        """A fresh load of the inspector on ``#view`` (a hash change alone would not reload it);
        without one, the page as first opened (the journal, focus at the top). ``shown``: wait
        until the view is on show."""
        self.browser.command("POST", "/url", {"url": "about:blank"})
        self.browser.command("POST", "/url", {"url": f"{self.base}/__mock/ui" + (f"#{view}" if view else "")})
        if shown:
            self.wait(lambda: self.js("return !document.querySelector('#' + arguments[0].split('/')[0]).hidden", view or "journal"))

    def js(self, script: str, *args: Any) -> Any:
        sent = [{ELEMENT: a.id} if isinstance(a, Element) else a for a in args]
        return self._elements(self.browser.command("POST", "/execute/sync", {"script": script, "args": sent}))

    def _elements(self, value: Any) -> Any:
        if isinstance(value, dict) and ELEMENT in value:
            return Element(self.browser, value[ELEMENT])
        if isinstance(value, list):
            return [self._elements(v) for v in value]
        return value

    def find(self, css: str, root: Element | None = None) -> Element:
        where = f"/element/{root.id}/element" if root else "/element"
        return Element(self.browser, self.browser.command("POST", where, {"using": "css selector", "value": css})[ELEMENT])

    def all(self, css: str, root: Element | None = None) -> list[Element]:
        where = f"/element/{root.id}/elements" if root else "/elements"
        return [Element(self.browser, e[ELEMENT]) for e in self.browser.command("POST", where, {"using": "css selector", "value": css})]

    def wait(self, condition: Callable[[], T], message: str = "", timeout: float = WAIT) -> T:
        """``condition()``'s first truthy value; elements a refresh replaced meanwhile are looked up again."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = condition()
                if found:
                    return found
            except WebDriverError as error:
                if error.error not in ("stale element reference", "no such element"):
                    raise
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout}s: {message or condition}; page status: {self.status()!r}; console: {self.console()}")
            time.sleep(0.2)

    def text(self, css: str) -> str:
        return self.find(css).text

    def status(self) -> str:
        return self.js("return document.querySelector('#status').textContent")

    def press(self, key: str) -> None:
        """A key pressed on whatever has the focus, as a person would."""
        keys = [{"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]
        self.browser.command("POST", "/actions", {"actions": [{"type": "key", "id": "keyboard", "actions": keys}]})

    def focused(self) -> Element:
        return Element(self.browser, self.browser.command("GET", "/element/active")[ELEMENT])

    def console(self) -> list[str]:
        return [entry["message"] for entry in self.browser.command("POST", "/se/log", {"type": "browser"})]

    def shot(self, name: str) -> Path:
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        path.write_bytes(base64.b64decode(self.browser.command("GET", "/screenshot")))
        return path

    def no_horizontal_scroll(self) -> bool:
        return self.js("return document.documentElement.scrollWidth <= window.innerWidth")
