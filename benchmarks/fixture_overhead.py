"""Measurement 3: what one ``client.chat.completions.create()`` costs through the ``gptnb`` fixture.

Builds what the fixture builds (MockApp + ASGIBridge + Interceptor on the default hosts) without a
pytest session around it, and compares with the same openai SDK on an httpx2 MockTransport that
returns a canned copy of the mock's own answer: the difference is the fixture (respx interception,
the bridge's loop thread, the mock's pipeline). Runs in its own process because the Interceptor
patches httpcore globally. Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time

import httpx
import httpx2
import openai

from common import CHAT_BODY, Deadline, median

from mockserver.app import MockApp
from mockserver.config import Settings
from mockserver.journal import violations as journal_violations
from mockserver.state import MockState
from mockserver.store import DEFAULT_NAMESPACE, run_sync
from pytest_plugin.bridge import ASGIBridge
from pytest_plugin.interception import Interceptor
from pytest_plugin.plugin import DEFAULT_HOSTS

BASE = f"https://{DEFAULT_HOSTS[0]}/v1"
WARMUP = 20
BLOCK = 50


def _canned_client(canned: bytes) -> openai.OpenAI:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=canned, headers={"content-type": "application/json"})

    # MockTransport never reaches httpcore2's pool, so the Interceptor's patch does not touch it.
    http_client = httpx2.Client(transport=httpx2.MockTransport(answer))
    return openai.OpenAI(base_url=BASE, api_key="sk-bench", max_retries=0, http_client=http_client)


def _stats(per_call: list[float]) -> dict[str, float]:
    return {"calls": len(per_call), "mean_us": round(sum(per_call) / len(per_call) * 1e6, 1), "median_us": round(median(per_call) * 1e6, 1)}


def measure(n: int = 500, budget_s: float = 30.0) -> dict:
    # As pytest_plugin.plugin.gptnb builds it (seed 0, real clock). Strict on is the fixture's default;
    # strict off is swapped in per block the way the gptnb_server fixture swaps settings.
    app = MockApp(state=MockState(Settings(strict=True)))
    bridge = ASGIBridge(app)
    with Interceptor(bridge, DEFAULT_HOSTS):
        canned = httpx.post(BASE + "/chat/completions", json=CHAT_BODY, headers={"authorization": "Bearer sk-bench"}).content
        intercepted = openai.OpenAI(base_url=BASE, api_key="sk-bench", max_retries=0)
        variants = {
            "baseline_mock_transport": (_canned_client(canned), None),
            "fixture_strict_on": (intercepted, Settings(strict=True)),
            "fixture_strict_off": (intercepted, Settings(strict=False)),
        }
        for client, settings in variants.values():
            app.state.settings = settings or app.state.settings
            for _ in range(WARMUP):
                client.chat.completions.create(**CHAT_BODY)
        times: dict[str, list[float]] = {name: [] for name in variants}
        deadline = Deadline(budget_s)
        # Blocks of BLOCK calls, variants in turn, so a busy moment of the machine hits all three alike.
        while len(times["fixture_strict_off"]) < n and not deadline.passed:
            for name, (client, settings) in variants.items():
                app.state.settings = settings or app.state.settings
                for _ in range(min(BLOCK, n - len(times[name]))):
                    start = time.perf_counter()
                    client.chat.completions.create(**CHAT_BODY)
                    times[name].append(time.perf_counter() - start)
        intercepted.close()
        variants["baseline_mock_transport"][0].close()
    bridge.close()
    violations = journal_violations(run_sync(app.state.store.journal(DEFAULT_NAMESPACE)))
    if violations:
        raise RuntimeError(f"strict mode found violations: {violations[:3]}")
    result: dict = {"n": n, **{name: _stats(t) for name, t in times.items()}}
    base = result["baseline_mock_transport"]["mean_us"]
    for mode in ("strict_on", "strict_off"):
        mean = result[f"fixture_{mode}"]["mean_us"]
        # Calls-per-second ratio (baseline time / fixture time): 1.0 would mean the fixture is free.
        result[f"ratio_{mode}"] = round(base / mean, 3)
        result[f"overhead_us_{mode}"] = round(mean - base, 1)
    return result


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 500)))
