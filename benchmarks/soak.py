"""Measurement 7: a soak -- half an hour of mixed traffic compressed into a bounded run.

``gptnb-mock serve`` runs as a subprocess (its real settings: header limit, off-loop JSON decoding,
media pool) with a fast clock, so tasks finish in seconds. Worker threads send a weighted mix: chat and
streams, Kling and Midjourney tasks with callbacks to a local receiver and polls, media downloads
(4096x4096 pictures with fresh seeds, so each is really made, and repeats that hit the cache), 3 MB
chat and describe bodies, and admin calls (journal, tasks, rules). A separate process (so the load
threads' GIL does not delay it) asks ``/__mock/health`` every 50 ms on its own connection and times it.

Reported: the server's RSS after a warm-up of the same mix (the baseline), its peak during the run
and its RSS once the run's tasks and callbacks are done; health latency p50/p99/max over the run and
p99 while a 4096x4096 picture was being made. Targets: end RSS within 50 MB of the baseline, health
p99 under 100 ms. Prints one JSON line.
"""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from common import HOST, ROOT
from servers import free_port, wait_ready

HEADERS = {"authorization": "Bearer sk-soak"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello from the soak"}]}
BIG_TEXT = "lorem ipsum dolor " * 175_000  # ~3 MB
BIG_PICTURE = "data:image/png;base64," + base64.b64encode(bytes(2_200_000)).decode()  # ~3 MB of base64
SPAWN = multiprocessing.get_context("spawn")
RSS_TARGET_MB = 50
HEALTH_TARGET_MS = 100


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Receiver:
    """Accepts callbacks and counts them (the body is read and dropped)."""

    def __init__(self) -> None:
        self.count = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Mix:
    """The traffic: each step picks one kind of call by weight."""

    def __init__(self, url: str, hook: str, seed: int) -> None:
        self.url, self.hook = url, hook
        self.random = random.Random(seed)
        self.making_huge = SPAWN.Value("i", 0)  # 4096x4096 pictures being made right now
        self.steps = [
            (30, self.chat), (10, self.stream), (12, self.kling), (12, self.midjourney), (10, self.media),
            (4, self.huge_media), (4, self.big_chat), (3, self.big_describe), (15, self.admin),
        ]
        self.weights = [w for w, _ in self.steps]
        self.counts: dict[str, int] = {}
        self.errors = 0

    def step(self, client: httpx.Client) -> None:
        (_, action), = self.random.choices(self.steps, self.weights)
        try:
            action(client)
        except httpx.HTTPError:
            self.errors += 1
        self.counts[action.__name__] = self.counts.get(action.__name__, 0) + 1

    def chat(self, client: httpx.Client) -> None:
        client.post(self.url + "/v1/chat/completions", json=CHAT, headers=HEADERS)

    def stream(self, client: httpx.Client) -> None:
        with client.stream("POST", self.url + "/v1/chat/completions", json={**CHAT, "stream": True}, headers=HEADERS) as answer:
            for _ in answer.iter_bytes():
                pass

    def kling(self, client: httpx.Client) -> None:
        body = {"model_name": "kling-v1", "prompt": "a cat on a roof", "callback_url": self.hook}
        task = client.post(self.url + "/kling/v1/videos/text2video", json=body, headers=HEADERS).json()["data"]["task_id"]
        client.get(f"{self.url}/kling/v1/videos/text2video/{task}", headers=HEADERS)

    def midjourney(self, client: httpx.Client) -> None:
        task = client.post(self.url + "/mj/submit/imagine", json={"prompt": "a lighthouse", "notifyHook": self.hook}, headers=HEADERS).json()["result"]
        client.get(f"{self.url}/mj/task/{task}/fetch", headers=HEADERS)

    def media(self, client: httpx.Client) -> None:
        seed = self.random.randrange(20)  # a small set: mostly cache hits
        client.get(f"{self.url}/__mock/media/image/1024x1024/{seed}.jpeg")
        client.get(f"{self.url}/__mock/media/audio/3/{seed}.wav")

    def huge_media(self, client: httpx.Client) -> None:
        fmt = self.random.choice(("png", "webp", "jpeg"))
        seed = self.random.randrange(1 << 40)  # fresh: made, not cached
        with self.making_huge.get_lock():
            self.making_huge.value += 1
        try:
            client.get(f"{self.url}/__mock/media/image/4096x4096/{seed}.{fmt}")
        finally:
            with self.making_huge.get_lock():
                self.making_huge.value -= 1

    def big_chat(self, client: httpx.Client) -> None:
        client.post(self.url + "/v1/chat/completions", json={**CHAT, "messages": [{"role": "user", "content": BIG_TEXT}]}, headers=HEADERS)

    def big_describe(self, client: httpx.Client) -> None:
        client.post(self.url + "/mj/submit/describe", json={"base64": BIG_PICTURE}, headers=HEADERS)

    def admin(self, client: httpx.Client) -> None:
        client.get(self.url + "/__mock/journal", params={"limit": 100})
        client.get(self.url + "/__mock/tasks", params={"limit": 100})
        rule = client.post(self.url + "/__mock/rules", json={"contract": "openai.models.list", "status": 503, "times": 1}).json()
        client.delete(f"{self.url}/__mock/rules/{rule['id']}")


def _watch(url: str, pid: int, stop: Any, making_huge: Any, out: Any) -> None:
    """(health ms, server RSS MB, whether a 4096x4096 picture was being made) every 50 ms until ``stop``."""
    samples = []
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            huge = making_huge.value > 0
            started = time.perf_counter()
            client.get(url + "/__mock/health")
            samples.append(((time.perf_counter() - started) * 1000, _rss_mb(pid), huge or making_huge.value > 0))
            stop.wait(0.05)
    out.send(samples)


def _traffic(mix: Mix, seconds: float, workers: int) -> None:
    end = time.monotonic() + seconds

    def work() -> None:
        with httpx.Client(timeout=120) as client:
            while time.monotonic() < end:
                mix.step(client)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _quiet(url: str, receiver: Receiver, budget: float = 120) -> None:
    """Wait until every task has ended and callbacks have stopped arriving."""
    deadline = time.monotonic() + budget
    last, still_since = -1, time.monotonic()
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            offset, running = 0, 0
            while offset is not None:
                page = client.get(url + "/__mock/tasks", params={"limit": 1000, "offset": offset}).json()
                running += sum(not t["terminal"] for t in page["tasks"])
                offset = page["next"]
            if receiver.count != last:
                last, still_since = receiver.count, time.monotonic()
            if not running and time.monotonic() - still_since > 2:
                return
            time.sleep(0.5)


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(seconds: float, warmup: float, workers: int) -> dict[str, Any]:
    port = free_port()
    url = f"http://{HOST}:{port}"
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--no-access-log", "--log-level", "warning", "--clock-speed", "30"]
    log = tempfile.TemporaryFile()
    server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(server, port, 60, log)
        receiver = Receiver()
        mix = Mix(url, receiver.url, seed=7)
        _traffic(mix, warmup, workers)
        _quiet(url, receiver)
        baseline = _rss_mb(server.pid)
        stop, (receive_samples, send_samples) = SPAWN.Event(), SPAWN.Pipe(duplex=False)
        watcher = SPAWN.Process(target=_watch, args=(url, server.pid, stop, mix.making_huge, send_samples))
        watcher.start()
        load_start = os.getloadavg()[0]
        mix.counts.clear()
        _traffic(mix, seconds, workers)
        stop.set()
        samples: list[tuple[float, float, bool]] = receive_samples.recv()
        watcher.join()
        load_end = os.getloadavg()[0]
        _quiet(url, receiver)
        end = _rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    latencies = [ms for ms, _, _ in samples]
    during_huge = [ms for ms, _, huge in samples if huge]
    return {
        "seconds": seconds,
        "warmup_seconds": warmup,
        "workers": workers,
        "requests_by_kind": mix.counts,
        "errors": mix.errors,
        "callbacks_received": receiver.count,
        "rss_mb": {"baseline": round(baseline, 1), "peak": round(max(r for _, r, _ in samples), 1), "end": round(end, 1)},
        "rss_end_minus_baseline_mb": round(end - baseline, 1),
        "health_ms": {
            "samples": len(latencies),
            "p50": round(statistics.median(latencies), 1),
            "p99": round(_percentile(latencies, 0.99), 1),
            "max": round(max(latencies), 1),
            "p99_while_4096_media_made": round(_percentile(during_huge, 0.99), 1),
            "samples_while_4096_media_made": len(during_huge),
        },
        "load_average": {"start": load_start, "end": load_end},
        "targets": {"rss_mb": RSS_TARGET_MB, "health_p99_ms": HEALTH_TARGET_MS},
    }


if __name__ == "__main__":
    soak_seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    warmup_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 15
    print(json.dumps(main(soak_seconds, warmup_seconds, workers=4)))
