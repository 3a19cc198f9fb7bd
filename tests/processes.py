"""Real processes for the tests: ``gptnb-mock serve`` on a free port, and ``redis-server`` in a temp dir."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

SCRIPT = Path(sys.executable).parent / "gptnb-mock"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "mockserver.cli"]
STARTUP_TIMEOUT = 60.0  # generous: CI machines run several suites at once
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(log: Path, *flags: str, port: int | None = None) -> Iterator[str]:
    """Start ``gptnb-mock serve`` and yield its base URL once /__mock/health answers; always stop it."""
    port = port or free_port()
    with log.open("ab") as out:
        command = [*COMMAND, "serve", "--port", str(port), "--log-level", "warning", "--no-access-log", *flags]
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(process, url, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


def wait_for_health(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gptnb-mock serve exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if requests.get(url + "/__mock/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail(f"gptnb-mock serve did not answer /__mock/health within {STARTUP_TIMEOUT}s:\n{log.read_text(errors='replace')}")


def redis_server_binary() -> str:
    """The redis-server to run. Missing, the test fails (in CI, or as root, who can install it) or is skipped."""
    found = shutil.which("redis-server")
    if found:
        return found
    install = "install Debian's redis-server (apt-get install -y redis-server; .ci/run does this)"
    if os.environ.get("CI") or os.geteuid() == 0:
        pytest.fail(f"redis-server is not on PATH: {install}")
    pytest.skip(f"redis-server is not on PATH: {install}")


class RedisServer:
    """A real redis-server on a free loopback port, its files in ``directory``; ``kill`` and ``start`` again
    on the same port to play a Redis that goes away and comes back."""

    def __init__(self, directory: Path, password: str | None = None) -> None:
        self.binary = redis_server_binary()
        self.directory = directory
        self.password = password
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory), "--save", "", "--appendonly", "no"]
        command += ["--requirepass", self.password] if self.password else []
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"redis-server exited with {self.process.returncode} on port {self.port}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith((b"+PONG", b"-NOAUTH")):  # up (and asking for its password)
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        pytest.fail(f"redis-server did not answer on port {self.port} within {STARTUP_TIMEOUT}s")

    def flush(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(b"FLUSHALL\r\n")
            assert sock.recv(64).startswith(b"+OK")

    def kill(self) -> None:
        """Gone at once, as a crashed or unplugged Redis is (no shutdown, nothing saved)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)
            self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()
