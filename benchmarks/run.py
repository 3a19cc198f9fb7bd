"""Run every benchmark, print a table, write benchmarks/results/latest.json.

    make bench                       # == .venv/bin/python benchmarks/run.py
    .venv/bin/python benchmarks/run.py --quick          # a smoke run in ~40 s
    .venv/bin/python benchmarks/run.py --loadgen python # force the Python load generator

Speed is measured here and never asserted in tests: the numbers depend on the machine. Every
throughput figure is a ratio against a bare Starlette app measured in the same run, under the same
uvicorn settings and the same load, so the ratio (not the req/s) is what is comparable across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from typing import Any

import loadgen
import scale
import stream_physics
import stream_time
import throughput
from common import HERE, ROOT
from servers import running

TARGET_RATIO = 0.7  # tracked for measurement 1; below it run.py profiles the hot path
REDIS_TARGET = 0.8  # measurement 7: the Redis store against the in-memory one, one process each
PEER_TARGET = 1.2  # measurement 7: two workers on Redis against the Node peer (one process)
RESULTS = HERE / "results"


def _child(script: str, *args: object, timeout: float = 180) -> Any:
    """Run a measurement in a fresh interpreter (clean RSS, no global patches left behind); read its JSON line."""
    command = [sys.executable, str(HERE / script), *map(str, args)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto", help="auto: wrk when installed, else Python")
    parser.add_argument("--seconds", type=float, default=10, help="measured load per server per round (default: %(default)s)")
    parser.add_argument("--warmup", type=float, default=2, help="load before each measured run, discarded (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=2, help="load rounds per server, in ABBA order (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads / Python processes (default: %(default)s)")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections (default: %(default)s)")
    parser.add_argument("--stream-runs", type=int, default=30, help="timed streams per server (default: %(default)s)")
    parser.add_argument("--fixture-calls", type=int, default=500, help="SDK calls per variant (default: %(default)s)")
    parser.add_argument("--memory-requests", type=int, default=100_000, help="in-process requests (default: %(default)s)")
    parser.add_argument("--tasks", type=int, default=10_000, help="Midjourney tasks submitted and polled (default: %(default)s)")
    parser.add_argument("--sessions", type=int, default=50, help="concurrent Realtime sessions (default: %(default)s)")
    parser.add_argument("--soak", type=float, default=120, help="seconds of mixed traffic in the soak, after a warm-up of a quarter of it (default: %(default)s)")
    parser.add_argument("--physics-streams", type=int, default=200, help="concurrent streams asked for tps=50 (default: %(default)s)")
    parser.add_argument("--profile", action="store_true", help="profile the hot path even when the ratio meets the target")
    parser.add_argument("--quick", action="store_true", help="short everything: a smoke run, not numbers to compare")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup, args.rounds = 2, 1, 1
        args.stream_runs, args.fixture_calls, args.memory_requests = 5, 100, 10_000
        args.tasks, args.sessions, args.soak, args.physics_streams = 2_000, 10, 20, 40
    return args


def _meta(args: argparse.Namespace, tool: str) -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([os.path.relpath(sys.executable, ROOT), os.path.relpath(__file__, ROOT), *sys.argv[1:]]),
        "commit": commit or None,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        # Other processes competing for the CPU move every absolute number; the ratios less so.
        "load_average_at_start": os.getloadavg()[0],
        "loadgen": loadgen.describe(tool, args.threads, args.connections),
        "quick": args.quick,
    }


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}{unit}" if value >= 100 else f"{value:,.2f}{unit}"


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _report(results: dict[str, Any]) -> str:
    meta, tp, st, fx, mem = (results[k] for k in ("meta", "throughput", "stream", "fixture", "memory"))
    tasks, rt, soak, ph = results["tasks"], results["realtime"], results["soak"], results["physics"]
    first_block, last_block = tasks["blocks"][0], tasks["blocks"][-1]
    verdict = "ok" if tp["ratio"] >= TARGET_RATIO else "BELOW TARGET"
    shape = st["shape"]["mock"]
    base_us = fx["baseline_mock_transport"]
    on, off = fx["fixture_strict_on"], fx["fixture_strict_off"]
    first, last = mem["samples"][0], mem["samples"][-1]
    rss = " / ".join(f"{s['requests'] // 1000}k: {s['rss_mib']:.1f}" for s in mem["samples"])
    rows = [
        ("#", "measurement", "mock", "baseline", "ratio", "note"),
        ("1", "non-stream chat completions, req/s", _fmt(tp["mock_rps"]), _fmt(tp["baseline_rps"]), f"{tp['ratio']:.2f}",
         f"target >= {TARGET_RATIO} ({verdict}); errors {tp['errors']['mock']}/{tp['errors']['baseline']}"),
        ("", "  same, server CPU µs per request", _fmt(tp["server_cpu_us_per_request"]["mock"], " µs"),
         _fmt(tp["server_cpu_us_per_request"]["baseline"], " µs"), f"{tp['cpu_ratio']:.2f}" if tp["cpu_ratio"] else "",
         "baseline / mock: the cost ratio, which other load on the machine moves less than req/s"),
        ("2", "500-delta stream, median ms to [DONE]", _fmt(st["mock"]["median_ms"], " ms"), _fmt(st["baseline"]["median_ms"], " ms"), "",
         f"median of {st['runs']} runs; {shape['events']} events, {shape['content_deltas']} content deltas each"),
        ("", "  same stream, chunks/s", _fmt(st["mock"]["events_per_s"]), _fmt(st["baseline"]["events_per_s"]), f"{st['ratio']:.2f}", ""),
        ("3", "openai SDK call via gptnb fixture, µs", _fmt(on["mean_us"], " µs"), _fmt(base_us["mean_us"], " µs"),
         f"{fx['ratio_strict_on']:.2f}",
         f"strict on (fixture default), mean of {on['calls']} calls; baseline: httpx2 MockTransport"),
        ("", "  same, strict off", _fmt(off["mean_us"], " µs"), _fmt(base_us["mean_us"], " µs"), f"{fx['ratio_strict_off']:.2f}",
         f"medians: strict on {on['median_us']:.0f}, off {off['median_us']:.0f}, baseline {base_us['median_us']:.0f} µs"),
        ("4", f"RSS growth {first['requests'] // 1000}k -> {last['requests'] // 1000}k in-process requests",
         f"{mem['growth_first_to_last_mib']:+.2f} MiB", "", "",
         f"RSS MiB at {rss}; journal {last['journal_len']}/{mem['journal_size']}; {mem['us_per_request']:.0f} µs/req"),
        ("5", f"{tasks['tasks'] // 1000}k Midjourney tasks: submit / fetch median µs",
         f"{last_block['submit_median_us']:.0f} / {last_block['fetch_median_us']:.0f}", f"{first_block['submit_median_us']:.0f} / {first_block['fetch_median_us']:.0f}",
         f"{tasks['submit_ratio_last_to_first']:.2f} / {tasks['fetch_ratio_last_to_first']:.2f}",
         f"last vs first 1k block (flat = 1.0); store bounded at {tasks['max_tasks']}; RSS {first_block['rss_mib']:.1f} -> {last_block['rss_mib']:.1f} MiB"),
        ("6", f"{rt['sessions']} concurrent Realtime sessions, ms", f"{rt['wall_ms']:.0f} wall", f"{rt['alone_ms_median']:.0f} alone", "",
         f"one text turn each; per session p50 {rt['session_ms_p50']:.0f} ms, p95 {rt['session_ms_p95']:.0f} ms; errors {rt['errors']}"),
        ("7", f"soak {soak['seconds']:g} s mixed traffic: RSS MB baseline / peak / end", f"{soak['rss_mb']['peak']:.0f} peak",
         f"{soak['rss_mb']['baseline']:.0f}", f"{soak['rss_end_minus_baseline_mb']:+.0f} MB",
         f"end {soak['rss_mb']['end']:.0f} MB (target: within {soak['targets']['rss_mb']} MB of baseline); "
         f"{sum(soak['requests_by_kind'].values())} calls, {soak['callbacks_received']} callbacks, errors {soak['errors']}"),
        ("", "  /__mock/health during the soak, ms", f"p99 {soak['health_ms']['p99']:.0f}", f"p50 {soak['health_ms']['p50']:.0f}", "",
         f"p99 while 4096x4096 media were made {soak['health_ms']['p99_while_4096_media_made']:.0f} ms (target < {soak['targets']['health_p99_ms']}); "
         f"max {soak['health_ms']['max']:.0f} ms; load average {soak['load_average']['start']:.1f} -> {soak['load_average']['end']:.1f}"),
        *scale.rows(results["scale"], REDIS_TARGET, PEER_TARGET),
        ("9", f"{ph['concurrent']['streams']} concurrent streams at tps={ph['asked_tps']}, achieved tps",
         f"{ph['concurrent']['median_tps']:.1f} median", f"{ph['alone']['median_tps']:.1f} alone", f"{ph['concurrent']['median_tps'] / ph['asked_tps']:.2f}",
         f"short of the asked rate by {ph['concurrent']['median_shortfall_pct']}% (median), {ph['concurrent']['p5_shortfall_pct']}% (p5 stream); "
         f"{ph['concurrent']['events_per_stream']:.0f} events each"),
    ]
    head = (
        f"gptnb-mock benchmarks  {meta['when']}  commit {meta['commit']}  Python {meta['python']}  {meta['cpus']} CPUs\n"
        f"command: {meta['command']}\n"
        f"load generator (1): {meta['loadgen']}, {tp['seconds']:g} s after {tp['warmup_seconds']:g} s warm-up, "
        f"{len(tp['runs']['mock'])} round(s) per server in ABBA order\n"
        "both servers: uvicorn, uvloop + httptools, 1 worker, no access log, 127.0.0.1\n"
        "ratio = mock throughput / bare Starlette throughput (1.00 = the mock costs nothing over a bare app)\n"
        f"load average: {meta['load_average_at_start']:.2f} at start, {meta.get('load_average_at_end', float('nan')):.2f} at end\n"
    )
    busiest = max(meta["load_average_at_start"], meta.get("load_average_at_end", 0))
    if busiest > 0.5 * (meta["cpus"] or 1):
        head += f"WARNING: the machine was busy (load average up to {busiest:.1f} on {meta['cpus']} CPUs): absolute numbers are noise\n"
    text = head + "\n" + _table(rows)
    if "hotpath" in results:
        hp = results["hotpath"]
        per_request = hp["in_process_us_per_request"]
        text += (
            f"\n\nhot path (in-process, no sockets): mock {per_request['mock']:.0f} µs/request, "
            f"bare Starlette {per_request['baseline']:.0f} µs/request\n"
            "cProfile, mock functions by inclusive time (% of profiled time):\n"
        )
        text += "\n".join(f"  {r['cumtime_pct']:5.1f}%  {r['function']}" for r in hp["top_mock_inclusive"][:10])
        text += "\ncProfile, top self time:\n"
        text += "\n".join(f"  {r['tottime_pct']:5.1f}%  {r['function']}" for r in hp["top_self_time"][:10])
    return text


def main() -> int:
    args = _args()
    tool = ("wrk" if loadgen.has_wrk() else "python") if args.loadgen == "auto" else args.loadgen
    if tool == "wrk" and not loadgen.has_wrk():
        sys.exit("wrk is not installed (apt-get install -y wrk), or use --loadgen python")
    started = time.monotonic()
    results: dict[str, Any] = {"meta": _meta(args, tool)}
    print(f"load generator: {results['meta']['loadgen']}", file=sys.stderr)

    with running("mock") as mock_url, running("baseline") as baseline_url:
        urls = {"mock": mock_url, "baseline": baseline_url}
        print("1/9 throughput ...", file=sys.stderr)
        results["throughput"] = throughput.measure(urls, tool, args.seconds, args.warmup, args.rounds, args.threads, args.connections)
        print("2/9 stream ...", file=sys.stderr)
        results["stream"] = stream_time.measure(urls, args.stream_runs)
        print("3/9 stream physics ...", file=sys.stderr)
        results["physics"] = stream_physics.measure(mock_url, args.physics_streams)
    print("4/9 fixture overhead ...", file=sys.stderr)
    results["fixture"] = _child("fixture_overhead.py", args.fixture_calls)
    print("5/9 memory ...", file=sys.stderr)
    results["memory"] = _child("memory.py", args.memory_requests)
    print("6/9 tasks ...", file=sys.stderr)
    results["tasks"] = _child("tasks.py", args.tasks)
    print("7/9 realtime sessions ...", file=sys.stderr)
    results["realtime"] = _child("realtime_sessions.py", args.sessions)
    print("8/9 soak ...", file=sys.stderr)
    results["soak"] = _child("soak.py", args.soak, args.soak / 4, timeout=args.soak * 3 + 300)
    print("9/9 shared state (Redis, workers) and the Node peer ...", file=sys.stderr)
    results["scale"] = scale.measure(tool, args.seconds, args.warmup, args.rounds, args.threads, args.connections)
    if args.profile or results["throughput"]["ratio"] < TARGET_RATIO:
        print("profiling the hot path ...", file=sys.stderr)
        results["hotpath"] = _child("hotpath.py")
    results["meta"]["total_seconds"] = round(time.monotonic() - started, 1)
    results["meta"]["load_average_at_end"] = os.getloadavg()[0]

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(_report(results))
    print(f"\n{results['meta']['total_seconds']:.0f} s; wrote {os.path.relpath(RESULTS / 'latest.json', ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
