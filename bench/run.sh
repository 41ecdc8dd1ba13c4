#!/usr/bin/env bash
# Load benchmark of the foundation's hot paths with wrk (installed from Debian if missing).
# Usage: bash bench/run.sh  [WORKERS=2 DURATION=10s CONNECTIONS=32]
# Uses LOYALTY_DATABASE_URL if set, else a throwaway embedded PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
WORKERS=${WORKERS:-2}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-8765}
BIN=.venv/bin

if ! command -v wrk >/dev/null; then
  echo "installing wrk from Debian's packages..."
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi

DATA_DIR=$(mktemp -d /tmp/loyalty-bench-XXXX)
export LOYALTY_DATA_DIR=$DATA_DIR LOYALTY_LOG_LEVEL=WARNING
$BIN/loyalty migrate >/dev/null
out=$($BIN/loyalty create-tenant "bench-$(date +%s)")
tenant=$(sed -n 's/^tenant id: //p' <<<"$out")
admin=$(sed -n 's/^admin key: //p' <<<"$out")
pos=$($BIN/loyalty create-key --tenant "$tenant" --scopes pos --name bench | sed -n 's/^key: //p')

$BIN/loyalty serve --port "$PORT" --workers "$WORKERS" >"$DATA_DIR/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$DATA_DIR"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.2
done
base="http://127.0.0.1:$PORT"
curl -fs -XPOST "$base/v1/stores" -H "Authorization: Bearer $admin" \
  -H 'content-type: application/json' -d '{"code":"S01","name":"Bench"}' >/dev/null

echo "machine: $(nproc) cores; server workers: $WORKERS; wrk: $CONNECTIONS connections, $DURATION"
run() {
  local label=$1; shift
  local result
  result=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$result")
  p50=$(awk '$1=="50%" {print $2}' <<<"$result")
  p99=$(awk '$1=="99%" {print $2}' <<<"$result")
  errors=$(grep -E "Non-2xx|Socket errors" <<<"$result" || true)
  printf '%-40s %10s req/s   p50 %8s   p99 %8s  %s\n' "$label" "$rps" "$p50" "$p99" "$errors"
}
run "GET /healthz (no database)" "$base/healthz"
run "GET /readyz (one query)" "$base/readyz"
run "GET /v1/stores/S01 (auth + read)" -H "Authorization: Bearer $pos" "$base/v1/stores/S01"
run "GET /v1/stores (auth + list)" -H "Authorization: Bearer $pos" "$base/v1/stores"
