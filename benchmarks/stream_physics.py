"""Measurement 7: do streams keep their physics under load? N concurrent streams asked for ``tps=50``.

Each stream is one chat completion of ``TOKENS`` content deltas with ``X-Mock-Scenario: tps=50`` on a
connection of its own (raw HTTP/1.1 over asyncio, so the client spends little per event). A stream's
achieved rate is its events after the first divided by the time from the first event to the last;
the result compares those rates with the asked one, for one stream alone and for N at once.
"""

from __future__ import annotations

import asyncio
import json
import statistics
from urllib.parse import urlsplit

from common import AUTH, CHAT_PATH

ASKED_TPS = 50
TOKENS = 100
BODY = json.dumps({
    "model": "gpt-4o-mini", "stream": True, "max_tokens": TOKENS,
    "messages": [{"role": "user", "content": "Describe a long walk along the coast from one lighthouse to the next, in detail, " * 4}],
}).encode()
EVENT = b"data: "


async def _one(host: str, port: int) -> dict[str, float]:
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        f"POST {CHAT_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\nAuthorization: {AUTH}\r\n"
        f"X-Mock-Scenario: tps={ASKED_TPS}\r\nContent-Length: {len(BODY)}\r\nConnection: close\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    writer.write(head + BODY)
    sent = loop.time()
    first = last = None
    events = 0
    tail = b""
    while chunk := await reader.read(65536):
        now = loop.time()
        found = (tail + chunk).count(EVENT) - tail.count(EVENT)
        if found:
            first = now if first is None else first
            last = now
            events += found
        tail = chunk[-len(EVENT) :]
    writer.close()
    if first is None or last is None or events < 3:
        raise RuntimeError(f"a stream ended after {events} events")
    events -= 1  # data: [DONE] is not a token
    return {"events": events, "ttft_s": first - sent, "rate": (events - 1) / (last - first) if last > first else float("inf")}


async def _many(url: str, streams: int) -> list[dict[str, float]]:
    parts = urlsplit(url)
    return await asyncio.gather(*(_one(parts.hostname or "127.0.0.1", parts.port or 80) for _ in range(streams)))


def _summary(runs: list[dict[str, float]]) -> dict[str, float]:
    rates = sorted(run["rate"] for run in runs)
    return {
        "streams": len(runs),
        "events_per_stream": statistics.median(run["events"] for run in runs),
        "median_tps": round(statistics.median(rates), 2),
        "p5_tps": round(rates[max(int(len(rates) * 0.05) - 1, 0)], 2),
        "min_tps": round(rates[0], 2),
        "median_shortfall_pct": round(100 * (1 - statistics.median(rates) / ASKED_TPS), 1),
        "p5_shortfall_pct": round(100 * (1 - rates[max(int(len(rates) * 0.05) - 1, 0)] / ASKED_TPS), 1),
    }


def measure(url: str, streams: int) -> dict:
    alone = asyncio.run(_many(url, 1))
    crowd = asyncio.run(_many(url, streams))
    return {"asked_tps": ASKED_TPS, "alone": _summary(alone), "concurrent": _summary(crowd)}
