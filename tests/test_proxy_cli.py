"""``gptnb-mock proxy`` and ``gptnb-mock drift`` as commands, and ``make record-upstream``'s script, run
as real processes against a local mock as the upstream."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import websockets

from mockserver.proxy.cassette import load

from proxy_helpers import files_under, wait_for

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-proxy-cli-key-31337"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def upstream():
    """`gptnb-mock serve` as the upstream."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--log-level", "warning", "--clock", "step"], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/__mock/health")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def gptnb_mock(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mockserver.cli", *args], capture_output=True, text=True, timeout=180, env=env)


def test_the_proxy_records_with_the_key_from_the_environment(upstream, tmp_path) -> None:
    port = free_port()
    env = {**os.environ, "GPTNB_API_KEY": KEY}
    command = [sys.executable, "-m", "mockserver.cli", "proxy", "--upstream", upstream, "--port", str(port), "--record", str(tmp_path), "--allow-paid", "--log-level", "debug"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/__proxy/health")
        answer = httpx.post(url + "/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}, headers={"Authorization": "Bearer sk-anything"})
        health = httpx.get(url + "/__proxy/health").json()
        asyncio.run(_realtime_hello(url.replace("http://", "ws://")))
    finally:
        process.terminate()
        _, log = process.communicate(timeout=10)
    assert answer.status_code == 200 and answer.headers["x-gptnb-verdict"].startswith("conforms")
    assert health["key"] is True and health["forwarded"] == 1 and health["upstream"] == upstream  # (before the session)
    assert f"-> {upstream} with the key from --api-key/$GPTNB_API_KEY, recording into {tmp_path}" in log
    assert "POST /v1/chat/completions -> 200 openai.chat.completions conforms" in log
    assert KEY not in log and all(KEY.encode() not in p.read_bytes() for p in files_under(tmp_path))
    chat, session = load(tmp_path)
    assert chat.contract == "openai.chat.completions" and chat.request["headers"]["authorization"] == "<redacted>"
    assert session.contract == "openai.realtime.session"


async def _realtime_hello(url: str) -> None:
    # The proxy's own WebSocket client logs the handshake at debug: with the key put in by the proxy.
    async with websockets.connect(url + "/v1/realtime?model=gpt-4o-realtime-preview", additional_headers={"Authorization": "Bearer sk-anything"}) as ws:
        await ws.recv()


def test_the_proxy_dry_run_says_what_it_would_forward() -> None:
    result = gptnb_mock("proxy", "--dry-run", "--max-requests", "7")
    assert result.returncode == 0
    assert "upstream: https://goapi.gptnb.ai" in result.stdout and "budget: 7 requests" in result.stdout
    assert "forward GET    /v1/models" in result.stdout
    assert "refuse  POST   /v1/chat/completions" in result.stdout and "openai.chat.completions (paid: --allow-paid)" in result.stdout
    assert "openai-insecure-api-key.*" in result.stdout and "mj-api-secret" in result.stdout
    assert "(nothing was started)" in result.stderr


@pytest.mark.parametrize(("args", "message"), [(("--upstream", "ftp://x"), "must be an http(s) URL"), (("--upstream", "https://user:pw@host"), "not in the upstream URL"), (("--max-requests", "0"), "at least 1")])
def test_the_proxy_names_its_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = gptnb_mock("proxy", "--dry-run", *args)
    assert result.returncode == 2 and message in result.stderr


def test_drift_usage_errors(tmp_path) -> None:
    missing = gptnb_mock("drift", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no such directory of cassettes" in missing.stderr
    empty = gptnb_mock("drift", str(tmp_path))
    assert empty.returncode == 2 and "holds no cassettes" in empty.stderr


def test_make_record_upstream_without_a_key_is_a_dry_run(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GPTNB_API_KEY"}
    env.update(BIN=str(Path(sys.executable).parent), OUT=str(tmp_path))
    result = subprocess.run([str(ROOT / "tools" / "record_upstream.sh")], capture_output=True, text=True, timeout=180, env=env)
    assert result.returncode == 0, result.stderr
    assert "a dry run (nothing is called)" in result.stderr and "(nothing was called)" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_make_record_upstream_records_and_reports_drift(upstream, tmp_path) -> None:
    env = {**os.environ, "GPTNB_API_KEY": KEY, "UPSTREAM": upstream, "OUT": str(tmp_path), "MAX_REQUESTS": "15", "BIN": str(Path(sys.executable).parent)}
    result = subprocess.run([str(ROOT / "tools" / "record_upstream.sh")], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode in (0, 1), result.stderr  # 1: drift found (the mock's own extras)
    cassettes = load(tmp_path / "cassettes")
    assert len(cassettes) == 15  # the budget
    report = json.loads((tmp_path / "drift.json").read_text(encoding="utf-8"))
    assert report["summary"]["cassettes"] == 15 and (tmp_path / "drift.html").is_file()
    assert all(KEY.encode() not in p.read_bytes() for p in files_under(tmp_path))
