"""The served mock as an attacker and a careless client would probe it: ``gptnb-mock serve`` processes
on real sockets (and the app in-process where a socket adds nothing)."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import websockets.sync.client

from callback_listener import CallbackListener
from mockserver.app import MockApp
from mockserver.canned import Canned
from mockserver.config import Settings
from mockserver.steering import Rule
from mockserver.store import DEFAULT_NAMESPACE, run_sync
from processes import COMMAND, free_port, wait_for_health

KEY_A = {"Authorization": "Bearer sk-alice"}
KEY_B = {"Authorization": "Bearer sk-bob"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


class Served:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url, self.process, self.log = url, process, log
        self.port = int(url.rsplit(":", 1)[1])

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")


@contextmanager
def serve(tmp: Path, *flags: str) -> Iterator[Served]:
    port = free_port()
    log = tmp / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*COMMAND, "serve", "--port", str(port), "--log-level", "warning", *flags], stdout=out, stderr=subprocess.STDOUT)
    served = Served(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_for_health(process, served.url, log)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("hardening"), "--clock-speed", "50") as served:
        yield served


@pytest.fixture
def base(server: Served) -> str:
    assert requests.post(server.url + "/__mock/reset", timeout=10).status_code == 200
    return server.url


def journal(url: str, **params: Any) -> list[dict[str, Any]]:
    return requests.get(url + "/__mock/journal", params=params, timeout=10).json()["calls"]


# --- security: the admin API and any web page ---------------------------------------------------------------------


def test_a_cross_origin_page_cannot_steer_or_read_the_mock(base: str) -> None:
    rule = json.dumps({"contract": "*", "status": 500})
    # What a page on another site can send without a preflight: text/plain, from its own Origin.
    steered = requests.post(base + "/__mock/rules", data=rule, headers={"Content-Type": "text/plain", "Origin": "http://evil.example"}, timeout=10)
    assert steered.status_code == 403 and "cross-origin" in steered.json()["error"]["message"]
    read = requests.get(base + "/__mock/journal", headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, timeout=10)
    assert read.status_code == 403
    assert requests.post(base + "/__mock/reset", headers={"Sec-Fetch-Site": "cross-site"}, timeout=10).status_code == 403
    # Without an Origin (curl, scripts) a non-JSON body is still refused: no simple request gets through.
    plain = requests.post(base + "/__mock/rules", data=rule, headers={"Content-Type": "text/plain"}, timeout=10)
    assert plain.status_code == 415 and "application/json" in plain.json()["error"]["message"]
    assert requests.get(base + "/__mock/rules", timeout=10).json()["rules"] == []
    assert requests.post(base + "/v1/chat/completions", json=CHAT, headers=KEY_A, timeout=10).status_code == 200


def test_a_same_origin_page_uses_the_admin_api_with_json(base: str) -> None:
    # What the inspector page under /__mock/ui sends: its own origin, fetch() with a JSON body.
    page = {"Origin": base, "Sec-Fetch-Site": "same-origin"}
    created = requests.post(base + "/__mock/rules", json={"contract": "openai.*", "status": 503}, headers=page, timeout=10)
    assert created.status_code == 201
    assert requests.get(base + "/__mock/journal", headers=page, timeout=10).status_code == 200
    assert requests.delete(base + "/__mock/rules", headers=page, timeout=10).status_code == 200


def test_dns_rebinding_names_are_refused_everywhere(server: Served, base: str) -> None:
    rebound = {"Host": f"attacker.example:{server.port}"}
    for path in ("/__mock/journal", "/v1/models"):
        refused = requests.get(base + path, headers={**rebound, **KEY_A}, timeout=10)
        assert refused.status_code == 403 and "--allow-host attacker.example" in refused.json()["error"]["message"]
    for host in (f"localhost:{server.port}", f"127.0.0.1:{server.port}", f"[::1]:{server.port}"):
        assert requests.get(base + "/__mock/health", headers={"Host": host}, timeout=10).status_code == 200
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        upgrade = (
            "GET /v1/realtime?model=gpt-4o-realtime-preview HTTP/1.1\r\nHost: attacker.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer sk-alice\r\n\r\n"
        )
        sock.sendall(upgrade.encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 403")


def test_admin_token_and_added_hosts(tmp_path: Path) -> None:
    with serve(tmp_path, "--admin-token", "s3cret", "--allow-host", "mock.test") as served:
        url = served.url
        assert requests.get(url + "/__mock/journal", timeout=10).status_code == 401
        assert requests.get(url + "/__mock/journal", headers={"X-Mock-Admin-Token": "s3creT"}, timeout=10).status_code == 401
        assert requests.post(url + "/__mock/reset", timeout=10).status_code == 401
        assert requests.get(url + "/__mock/journal", headers={"X-Mock-Admin-Token": "s3cret"}, timeout=10).status_code == 200
        # Liveness and the media handed to API clients stay open.
        assert requests.get(url + "/__mock/health", timeout=10).status_code == 200
        assert requests.get(url + "/__mock/media/image/8x8/1.png", timeout=10).status_code == 200
        assert requests.get(url + "/__mock/health", headers={"Host": f"mock.test:{served.port}"}, timeout=10).status_code == 200
        assert requests.get(url + "/__mock/health", headers={"Host": "other.test"}, timeout=10).status_code == 403
    assert "s3cret" not in served.log.read_text()


def test_callbacks_never_reach_the_mock_itself_and_tell_nothing_about_ports(server: Served, base: str) -> None:
    requests.post(base + "/__mock/rules", json={"contract": "openai.models.list", "status": 418, "message": "still here"}, timeout=10)
    with _hanging_up_port() as open_port:
        targets = [
            f"{base}/__mock/reset",
            f"http://localhost:{server.port}/v1/models",
            f"http://127.0.0.1:{free_port()}/closed",
            f"http://127.0.0.1:{open_port}/not-http",
        ]
        for target in targets:
            body = {"model_name": "kling-v1", "prompt": "a cat", "callback_url": target}
            task_id = requests.post(base + "/kling/v1/videos/text2video", json=body, headers=KEY_A, timeout=10).json()["data"]["task_id"]
            requests.post(f"{base}/__mock/tasks/{task_id}/complete", json={}, timeout=10)
        deadline = time.monotonic() + 30
        while len(_outcomes(base, targets[2])) < 4 or len(_outcomes(base, targets[3])) < 4:
            assert time.monotonic() < deadline, "the deliveries were not all attempted"
            time.sleep(0.2)
    assert requests.get(base + "/__mock/rules", timeout=10).json()["rules"], "a callback reset the mock"
    assert _outcomes(base, targets[0]) == _outcomes(base, targets[1]) == {"refused: the mock itself is not a callback receiver"}
    # A closed port and a port that hangs up look the same: the journal is no port scanner.
    schedule = ["next attempt in 0.1 s", "next attempt in 0.2 s", "next attempt in 0.4 s", "given up"]
    assert _outcomes(base, targets[2]) == _outcomes(base, targets[3]) == {f"attempt {n}: no HTTP answer; {then}" for n, then in enumerate(schedule, 1)}


def _outcomes(base: str, target: str) -> set[str]:
    return {c["response"] for c in journal(base, limit=1000) if c["kind"] == "callback" and c["path"] == target}


@contextmanager
def _hanging_up_port() -> Iterator[int]:
    """A local port that accepts connections and closes them without a word of HTTP."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def hang_up() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.close()

    threading.Thread(target=hang_up, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def test_tasks_are_visible_only_to_the_key_that_created_them(base: str) -> None:
    task_id = requests.post(base + "/mj/submit/imagine", json={"prompt": "secret lighthouse"}, headers=KEY_A, timeout=10).json()["result"]
    assert requests.get(f"{base}/mj/task/{task_id}/fetch", headers=KEY_B, timeout=10).json()["description"].strip() == "task_no_found"
    assert requests.post(base + "/mj/task/list-by-condition", json={"ids": [task_id]}, headers=KEY_B, timeout=10).json() == []
    assert requests.get(f"{base}/mj/task/{task_id}/fetch", headers=KEY_A, timeout=10).json()["id"] == task_id
    clips = requests.post(base + "/suno/generate", json={"prompt": "a secret song", "mv": "chirp-v3-5"}, headers=KEY_A, timeout=10).json()["clips"]
    ids = ",".join(c["id"] for c in clips)
    assert requests.get(base + "/suno/feed/" + ids, headers=KEY_B, timeout=10).json() == []
    assert len(requests.get(base + "/suno/feed/" + ids, headers=KEY_A, timeout=10).json()) == len(clips)


def test_keys_never_reach_the_log_at_debug(tmp_path: Path) -> None:
    with serve(tmp_path, "--log-level", "debug") as served:
        secret = "sk-never-logged-0123456789"
        ws = served.url.replace("http", "ws") + "/v1/realtime?model=gpt-4o-realtime-preview"
        with websockets.sync.client.connect(ws, additional_headers={"Authorization": f"Bearer {secret}"}, open_timeout=10) as session:
            session.recv(timeout=10)
        browser = ["realtime", f"openai-insecure-api-key.{secret}-subprotocol", "openai-beta.realtime-v1"]
        with websockets.sync.client.connect(ws, subprotocols=browser, open_timeout=10) as session:  # type: ignore[arg-type]
            session.recv(timeout=10)
        requests.post(served.url + "/v1/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {secret}"}, timeout=10)
        assert requests.get(served.url + "/v1beta/models", params={"key": secret}, timeout=10).status_code == 200  # Gemini's key in the query
        time.sleep(0.5)
        log = served.log.read_text()
    assert "authorization: [redacted]" in log and "openai-insecure-api-key.[redacted]" in log  # the handshakes were logged
    assert "/v1beta/models?key=[redacted]" in log  # and the access log its query
    assert secret not in log


# --- one request must not break it ----------------------------------------------------------------------------------


def test_the_clock_refuses_what_would_break_it_and_reset_restores_it(base: str) -> None:
    session = requests.Session()
    for bad in ({"advance": 1e308}, {"advance": "inf"}, {"advance": "nan"}, {"set": 1e20}, {"advance": 10**400}, {"advance": -1}):
        refused = session.post(base + "/__mock/clock", json=bad, timeout=10)
        assert refused.status_code == 400, bad
    assert session.post(base + "/v1/chat/completions", json=CHAT, headers=KEY_A, timeout=10).status_code == 200
    assert session.post(base + "/mj/submit/imagine", json={"prompt": "a fox"}, headers=KEY_A, timeout=10).json()["code"] == 1
    far = session.post(base + "/__mock/clock", json={"set": 253_402_300_000}, timeout=10)
    assert far.status_code == 200
    assert session.post(base + "/v1/chat/completions", json=CHAT, headers=KEY_A, timeout=10).status_code == 200
    session.post(base + "/__mock/reset", timeout=10)
    assert abs(session.get(base + "/__mock/clock", timeout=10).json()["now"] - time.time()) < 60


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def _nested_json(depth: int) -> bytes:
    """``_nested(depth)`` as JSON text: deeper than Python's json (or orjson) would write."""
    return b"[" * depth + b'"leaf"' + b"]" * depth


def test_deep_json_is_refused_and_never_poisons_the_journal_or_the_connection(base: str) -> None:
    session = requests.Session()  # one keep-alive connection throughout
    deep_chat = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "metadata": {"x": ' + _nested_json(1000) + b"}}"
    json_type = {"Content-Type": "application/json"}
    refused = session.post(base + "/v1/chat/completions", data=deep_chat, headers={**KEY_A, **json_type}, timeout=10)
    assert refused.status_code == 400 and "nests deeper" in refused.json()["error"]["message"]
    assert session.get(base + "/__mock/journal", timeout=10).status_code == 200
    deep_rule = session.post(base + "/__mock/rules", data=b'{"contract": "openai.models.list", "body": ' + _nested_json(300) + b"}", headers=json_type, timeout=10)
    assert deep_rule.status_code == 400 and "nests deeper" in deep_rule.json()["error"]["message"]
    assert session.get(base + "/__mock/rules", timeout=10).json()["rules"] == []
    assert session.get(base + "/v1/models", headers=KEY_A, timeout=10).status_code == 200
    assert session.get(base + "/__mock/journal", timeout=10).status_code == 200


def test_a_reply_the_mock_cannot_encode_is_a_500_that_leaves_the_next_request_alone() -> None:
    app = MockApp(Settings())
    run_sync(app.state.store.add_rule(DEFAULT_NAMESPACE, Rule(contract="openai.models.list", replies=(Canned(body=_nested(400)),), times=1)))

    async def run() -> tuple[int, int, int]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://mock") as client:
            broken = await client.get("/v1/models", headers=KEY_A)
            after = await client.get("/v1/models", headers=KEY_A)
            listed = await client.get("/__mock/journal")
            return broken.status_code, after.status_code, listed.status_code

    assert asyncio.run(run()) == (500, 200, 200)


def test_delays_are_capped_and_stop_when_the_client_leaves(base: str) -> None:
    too_long = requests.post(base + "/v1/chat/completions", json=CHAT, headers={**KEY_A, "X-Mock-Scenario": "delay=600000"}, timeout=10)
    assert too_long.status_code == 400 and "60000" in too_long.json()["error"]["message"]
    assert requests.post(base + "/__mock/rules", json={"delay_ms": 600000}, timeout=10).status_code == 400
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(base + "/v1/chat/completions", json=CHAT, headers={**KEY_A, "X-Mock-Scenario": "delay=30000"}, timeout=0.5)
    deadline = time.monotonic() + 10  # well before the 30 s delay would have run out
    while not (gone := [c for c in journal(base) if c["status"] == 499]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert gone and gone[0]["path"] == "/v1/chat/completions"


def test_injected_codes_below_400_are_refused_with_a_reason(base: str) -> None:
    for code in ("302", "204", "200"):
        refused = requests.post(base + "/v1/chat/completions", json=CHAT, headers={**KEY_A, "Prefer": f"code={code}"}, timeout=10)
        assert refused.status_code == 400 and "400-599" in refused.json()["error"]["message"]
    assert requests.post(base + "/__mock/rules", json={"status": 302}, timeout=10).status_code == 400
    assert requests.post(base + "/__mock/rules", json={"status": 202, "body": {"accepted": True}}, timeout=10).status_code == 201


def test_sigterm_stops_within_seconds_with_work_pending(tmp_path: Path) -> None:
    with serve(tmp_path, "--chunk-delay", "1000", "--shutdown-timeout", "2") as served, CallbackListener(lambda body: False) as listener:
        url = served.url
        requests.post(url + "/__mock/rules", json={"contract": "openai.models.list", "delay_ms": 60000}, timeout=10)
        threads = [
            threading.Thread(target=_ignore, args=(requests.get, url + "/v1/models"), kwargs={"headers": KEY_A, "timeout": 60}),
            threading.Thread(target=_ignore, args=(requests.post, url + "/v1/chat/completions"), kwargs={"json": {**CHAT, "stream": True}, "headers": KEY_A, "timeout": 60}),
        ]
        for thread in threads:
            thread.start()
        body = {"model_name": "kling-v1", "prompt": "a cat", "callback_url": listener.url}
        requests.post(url + "/kling/v1/videos/text2video", json=body, headers=KEY_A, timeout=10)
        ws = url.replace("http", "ws") + "/v1/realtime?model=gpt-4o-realtime-preview"
        with websockets.sync.client.connect(ws, additional_headers=KEY_A, open_timeout=10):
            time.sleep(1)
            started = time.monotonic()
            served.process.send_signal(signal.SIGTERM)
            served.process.wait(15)
        assert time.monotonic() - started < 8, "shutdown waited on pending work"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_worker_processes_go_with_the_server(tmp_path: Path, stop: signal.Signals) -> None:
    """A huge JSON body is decoded in a worker process; stopping the server, however, stops those too."""
    with serve(tmp_path) as served:
        huge = {**CHAT, "messages": [{"role": "user", "content": "x" * 3_000_000}]}
        assert requests.post(served.url + "/v1/chat/completions", json=huge, headers=KEY_A, timeout=60).status_code == 200
        workers = _children(served.process.pid)
        assert workers, "the huge body was not decoded in a worker process"
        served.process.send_signal(stop)
        served.process.wait(15)
    deadline = time.monotonic() + 10
    while (left := [pid for pid in workers if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"worker processes {left} outlived the server"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except OSError:
        return False


def _ignore(call: Any, *args: Any, **kwargs: Any) -> None:
    try:
        call(*args, **kwargs)
    except requests.RequestException:
        pass


# --- bounds in bytes ------------------------------------------------------------------------------------------------


def test_thousands_of_callback_tasks_share_one_client_and_memory_comes_back(server: Served, base: str) -> None:
    with CallbackListener(lambda body: False) as listener:
        body = {"model_name": "kling-v1", "prompt": "a cat", "callback_url": listener.url}
        for _ in range(50):  # warm up: the shared client, the listener, allocator pools
            requests.post(base + "/kling/v1/videos/text2video", json=body, headers=KEY_A, timeout=10)
        _wait_for_tasks(base)
        requests.post(base + "/__mock/reset", timeout=10)
        before = server.rss_mib()
        with requests.Session() as session:
            for _ in range(600):
                session.post(base + "/kling/v1/videos/text2video", json=body, headers=KEY_A, timeout=10)
        _wait_for_tasks(base)
        requests.post(base + "/__mock/reset", timeout=10)
        grown = server.rss_mib() - before
    assert len(listener.received) > 600
    assert grown < 60, f"RSS grew {grown:.0f} MiB for 600 tasks with callbacks"


def _wait_for_tasks(base: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        tasks = requests.get(base + "/__mock/tasks", params={"limit": 1000}, timeout=10).json()
        done = all(t["terminal"] for t in tasks["tasks"])
        callbacks = [c for c in journal(base, limit=1000) if c["kind"] == "callback"]
        if done and (not callbacks or time.time() - max(c["time"] for c in callbacks) > 1):
            return
        time.sleep(0.5)
    raise AssertionError("tasks did not finish")


def test_journal_and_tasks_keep_bounded_bytes_with_a_marker() -> None:
    app = MockApp(Settings())
    big_text = "lorem ipsum " * 250_000  # 3 MB
    picture = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(3_000_000)).decode()

    async def run() -> tuple[str, str]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://mock") as client:
            await client.post("/v1/chat/completions", json={**CHAT, "messages": [{"role": "user", "content": big_text}]}, headers=KEY_A)
            answer = await client.post("/mj/submit/describe", json={"base64": "data:image/png;base64," + picture}, headers=KEY_A)
            return answer.json()["result"], (await client.get("/__mock/journal", params={"limit": 1000})).text

    task_id, listed = asyncio.run(run())
    chat, describe = [e for e in run_sync(app.state.store.journal(DEFAULT_NAMESPACE)) if e.kind == "request"]
    kept = chat.body["messages"][0]["content"]
    assert len(kept) < 1000 and "gptnb-mock:truncated: 3000000 chars, sha256" in kept
    assert len(json.dumps(describe.body)) < 20_000 and len(listed) < 100_000
    task = run_sync(app.state.store.task(DEFAULT_NAMESPACE, task_id))
    assert task is not None and "gptnb-mock:truncated" in task.params["base64"] and len(json.dumps(task.params)) < 20_000
    assert task.data["upload"] is None


def test_journal_pages_are_bounded(base: str) -> None:
    for _ in range(5):
        requests.get(base + "/v1/models", headers=KEY_A, timeout=10)
    assert requests.get(base + "/__mock/journal", params={"limit": 5000}, timeout=10).status_code == 400
    models = {"contract": "openai.models.list"}
    first = requests.get(base + "/__mock/journal", params={**models, "after": 0, "limit": 2}, timeout=10).json()
    second = requests.get(base + "/__mock/journal", params={**models, "after": first["next"], "limit": 10}, timeout=10).json()
    assert len(first["calls"]) == 2 and len(second["calls"]) == 3 and second["next"] is None
    assert [c["seq"] for c in first["calls"] + second["calls"]] == sorted({c["seq"] for c in first["calls"] + second["calls"]})


def test_oversized_headers_get_431_and_admin_bodies_are_refused_before_reading(server: Served) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        try:
            for _ in range(200):  # up to 20 MB, stopping when the server hangs up
                sock.sendall(b"a" * 100_000)
        except OSError:
            pass
        assert sock.recv(200).startswith(b"HTTP/1.1 431")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = b"POST /__mock/rules HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200000000\r\n\r\n"
        sock.sendall(head + b"{")
        assert b" 400 " in sock.recv(500)  # answered at once, without waiting for 200 MB


@pytest.mark.usefixtures("base")  # a fresh namespace: no rule an earlier test left on the shared server
def test_a_large_body_arriving_with_its_head_is_not_taken_for_a_large_head(server: Served) -> None:
    body = json.dumps({**CHAT, "messages": [{"role": "user", "content": "x" * 500_000}]}).encode()
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-alice\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head + body)  # one write: the server's first read holds the head and much of the body
        assert sock.recv(200).startswith(b"HTTP/1.1 200")


def test_a_pipelined_request_whose_head_crosses_the_limit_in_one_read_is_answered(tmp_path: Path) -> None:
    limit = 8192  # well under one socket read, so both requests arrive in the server's first read
    second = b"GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    first_head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-alice\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    body = json.dumps({**CHAT, "user": ""}).encode()
    body = json.dumps({**CHAT, "user": "x" * (limit - 20 - len(first_head % 1000) - len(body))}).encode()
    first = first_head % len(body) + body
    assert limit - len(second) < len(first) < limit  # the second head starts before the limit and ends after it
    with serve(tmp_path, "--max-header-bytes", str(limit)) as served, socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(first + second)
        answers = b""
        while chunk := sock.recv(65536):
            answers += chunk
    assert answers.startswith(b"HTTP/1.1 200") and answers.count(b"HTTP/1.1 200") == 2, answers[:300]


@pytest.mark.usefixtures("base")  # a fresh namespace: no rule an earlier test left on the shared server
def test_realtime_audio_buffer_is_capped(server: Served) -> None:
    ws = server.url.replace("http", "ws") + "/v1/realtime?model=gpt-4o-realtime-preview"
    chunk = base64.b64encode(bytes(6_000_000)).decode()  # three of them pass the default 15 MiB
    with websockets.sync.client.connect(ws, additional_headers={**KEY_A, "OpenAI-Beta": "realtime=v1"}, open_timeout=10) as session:
        for _ in range(3):
            session.send(json.dumps({"type": "input_audio_buffer.append", "audio": chunk}))
        while (event := json.loads(session.recv(timeout=30)))["type"] != "error":
            pass
    assert event["error"]["code"] == "input_audio_buffer_too_large"


# --- never block the event loop -------------------------------------------------------------------------------------


def test_health_answers_while_huge_media_are_made(server: Served) -> None:
    url = server.url
    finished: list[float] = []

    def fetch(seed: int) -> None:
        answer = requests.get(f"{url}/__mock/media/image/4096x4096/{seed}.webp", timeout=120)
        assert answer.status_code == 200 and answer.content[:4] == b"RIFF"
        finished.append(time.monotonic())

    seed = int(time.time())
    workers = [threading.Thread(target=fetch, args=(seed + i,)) for i in range(2)]
    for worker in workers:
        worker.start()
    time.sleep(0.2)
    answered = []
    while any(w.is_alive() for w in workers):
        requests.get(url + "/__mock/health", timeout=120)
        answered.append(time.monotonic())
    for worker in workers:
        worker.join()
    assert answered and answered[0] < min(finished), "health waited for the media to be made"
    again = requests.get(f"{url}/__mock/media/image/4096x4096/{seed}.webp", timeout=120)
    assert again.status_code == 200 and again.content[:4] == b"RIFF"


def test_the_fixture_refuses_to_inject_a_status_that_is_no_error(gptnb) -> None:
    with pytest.raises(ValueError, match="400-599"):
        gptnb.route("openai.chat.completions").fail(302)


def test_media_routes_are_the_api_clients_and_skip_the_admin_checks(tmp_path: Path) -> None:
    with serve(tmp_path, "--admin-token", "s3cret") as served:
        # A browser app posting a presigned upload form from its own origin, as to S3.
        form = {"key": (None, "uploads/a.mp3"), "file": ("a.mp3", b"ID3" + bytes(64), "audio/mpeg")}
        uploaded = requests.post(served.url + "/__mock/media/upload/a.mp3", files=form, headers={"Origin": "https://app.example"}, timeout=10)
        assert uploaded.status_code == 204
        assert requests.get(served.url + "/__mock/media/video/1.mp4", headers={"Origin": "https://app.example"}, timeout=10).status_code == 200
