#!/usr/bin/env bash
# Fuzz the mock with schemathesis, using the OpenAPI document the mock serves about itself.
#
#   tools/schemathesis_run.sh                          # every operation, 5 examples each
#   MAX_EXAMPLES=20 tools/schemathesis_run.sh --include-tag openai
#
# Starts `gptnb-mock serve --strict` on a free port, runs `schemathesis run <url>/__mock/openapi.json`
# with the checks that judge the mock (no unexpected 5xx, every body fits its schema; settings in
# tools/schemathesis.toml), prints what the mock's own --strict judge found in its journal, then stops
# the server. Extra arguments go to `schemathesis run`; the exit status is schemathesis's.
# schemathesis runs in WORKDIR (default: a fresh temporary directory) so its crash files
# (.schemathesis/, replay them with `schemathesis replay`) stay out of the repository.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$(cd "${BIN:-$ROOT/.venv/bin}" && pwd)"
HOST="${HOST:-127.0.0.1}"
MAX_EXAMPLES="${MAX_EXAMPLES:-5}"
SEED="${SEED:-0}"
CHECKS="${CHECKS:-not_a_server_error,response_schema_conformance}"
PORT="${PORT:-$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
URL="http://$HOST:$PORT"
WORKDIR="${WORKDIR:-$(mktemp -d -t gptnb-schemathesis.XXXXXX)}"
LOG="$WORKDIR/server.log"

"$BIN/gptnb-mock" serve --host "$HOST" --port "$PORT" --strict --journal-size 100000 --log-level warning --no-access-log >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT

for _ in $(seq 100); do
    if "$BIN/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" "$URL/__mock/health" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$SERVER" 2>/dev/null; then
        echo "gptnb-mock serve exited; its log ($LOG):" >&2
        cat "$LOG" >&2
        exit 2
    fi
    sleep 0.1
done

echo "schemathesis against $URL (work dir and server log: $WORKDIR)" >&2
status=0
(
    cd "$WORKDIR"
    "$BIN/schemathesis" --config-file "$ROOT/tools/schemathesis.toml" --no-color run "$URL/__mock/openapi.json" \
        --url "$URL" \
        --checks "$CHECKS" \
        --max-examples "$MAX_EXAMPLES" \
        --seed "$SEED" \
        --header "Authorization: Bearer sk-schemathesis" \
        "$@"
) || status=$?

# --strict makes the mock judge its own answers too; list the ones that broke their contract.
"$BIN/python" - "$URL" <<'PY' || true
import json, sys, urllib.request
calls = json.load(urllib.request.urlopen(sys.argv[1] + "/__mock/journal?limit=1000000"))["calls"]
broken = [c for c in calls if c.get("violations")]
print(f"mock journal: {len(calls)} calls, {len(broken)} answers that break their contract (--strict)", file=sys.stderr)
for call in broken[:20]:
    print(f"  {call['contract']}: {call['method']} {call['path']} -> {call['status']}: {call['violations']}", file=sys.stderr)
PY
exit "$status"
