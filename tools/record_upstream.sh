#!/usr/bin/env bash
# Record real traffic from the upstream through the validating proxy, then report its drift.
#
#   GPTNB_API_KEY=sk-... tools/record_upstream.sh      # free endpoints only, cassettes and reports in build/
#   tools/record_upstream.sh                           # no key: a dry run of every step, nothing is called
#
# Starts `gptnb-mock proxy --record` in front of UPSTREAM (default https://goapi.gptnb.ai) with the key
# from GPTNB_API_KEY (the proxy is the only process that holds it), sends the conformance runner's
# documented requests for the free endpoints through it (`gptnb-mock check`, a budget of MAX_REQUESTS),
# stops the proxy, and writes the drift report of what was recorded. The exit status is the drift
# command's: 0 without drift, 1 with drift. OUT (default build/) receives cassettes/, the check report
# and drift.html / drift.json.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$(cd "${BIN:-$ROOT/.venv/bin}" && pwd)"
UPSTREAM="${UPSTREAM:-https://goapi.gptnb.ai}"
OUT="${OUT:-build}"
MAX_REQUESTS="${MAX_REQUESTS:-200}"
PORT="${PORT:-$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
URL="http://127.0.0.1:$PORT"

if [ -z "${GPTNB_API_KEY:-}" ]; then
  echo "GPTNB_API_KEY is not set: a dry run (nothing is called)" >&2
  "$BIN/gptnb-mock" proxy --upstream "$UPSTREAM" --record "$OUT/cassettes" --max-requests "$MAX_REQUESTS" --dry-run
  "$BIN/gptnb-mock" check "$URL" --examples 0 --no-negative --max-requests "$MAX_REQUESTS" --dry-run
  echo "then: gptnb-mock drift $OUT/cassettes --report $OUT/drift.html --report $OUT/drift.json" >&2
  exit 0
fi

mkdir -p "$OUT"
"$BIN/gptnb-mock" proxy --upstream "$UPSTREAM" --port "$PORT" --record "$OUT/cassettes" --max-requests "$MAX_REQUESTS" --log-level warning &
PROXY=$!
trap 'kill "$PROXY" 2>/dev/null || true; wait "$PROXY" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  "$BIN/python" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1])" "$URL/__proxy/health" 2>/dev/null && break
  sleep 0.1
done

# The runner sends its placeholder key; the proxy puts the real one in on the way out.
env -u GPTNB_API_KEY "$BIN/gptnb-mock" check "$URL" --examples 0 --no-negative --max-requests "$MAX_REQUESTS" --report "$OUT/upstream-via-proxy.html" || true
kill "$PROXY" 2>/dev/null || true
wait "$PROXY" 2>/dev/null || true
trap - EXIT

"$BIN/gptnb-mock" drift "$OUT/cassettes" --report "$OUT/drift.html" --report "$OUT/drift.json"
