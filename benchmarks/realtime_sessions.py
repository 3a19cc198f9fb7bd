"""Measurement 6: 50 concurrent Realtime sessions, each one text turn, against a served mock.

Every session connects over a real WebSocket (beta protocol), sends a user item and response.create,
and reads until response.done. Reports wall time for all of them and the per-session latency
spread; the baseline is one session alone on the same server. Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time

import websockets
from servers import running

SESSIONS = 50
HEADERS = {"Authorization": "Bearer sk-bench", "OpenAI-Beta": "realtime=v1"}


async def one_turn(url: str) -> float:
    started = time.perf_counter()
    async with websockets.connect(url, additional_headers=HEADERS, max_size=None) as ws:
        await ws.send(json.dumps({"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}}))
        await ws.send(json.dumps({"type": "response.create", "response": {"modalities": ["text"]}}))
        while json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] != "response.done":
            pass
    return (time.perf_counter() - started) * 1000


async def measure(url: str, sessions: int) -> dict:
    alone = [await one_turn(url) for _ in range(5)]
    started = time.perf_counter()
    together = await asyncio.gather(*(one_turn(url) for _ in range(sessions)))
    wall = (time.perf_counter() - started) * 1000
    ordered = sorted(together)
    return {
        "sessions": sessions,
        "wall_ms": round(wall, 1),
        "session_ms_p50": round(statistics.median(ordered), 1),
        "session_ms_p95": round(ordered[int(len(ordered) * 0.95) - 1], 1),
        "alone_ms_median": round(statistics.median(alone), 1),
        "errors": 0,
    }


def main() -> int:
    sessions = int(sys.argv[1]) if len(sys.argv) > 1 else SESSIONS
    with running("mock") as base:
        url = base.replace("http://", "ws://") + "/v1/realtime?model=gpt-4o-realtime-preview"
        print(json.dumps(asyncio.run(measure(url, sessions))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
