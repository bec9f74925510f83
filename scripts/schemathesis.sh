#!/usr/bin/env bash
# Property-based API tests: runs schemathesis (pinned in scripts/requirements-schemathesis.txt)
# with every check against a fresh `deconflict serve` on loopback, as a registered party.
#
#   scripts/schemathesis.sh [BINARY [SCHEMATHESIS-ARGS...]]
#
# BINARY defaults to target/release/deconflict (build it with
# `cargo build --release -p deconflict-cli`). Further arguments go to `schemathesis run`
# (e.g. --seed 1, or --max-examples 100; a later --max-examples wins). Every failing case of
# each operation is reported (--continue-on-failure). The server gets a data directory of its
# own, removed afterwards; the Python venv is kept at ${TMPDIR:-/tmp}/deconflict-stvenv and reinstalled
# when the requirements change. Only the pip install reaches the network (PyPI); the tests
# talk to 127.0.0.1 only. Exits non-zero when schemathesis finds any failure or error.
#
# Two settings per operation (the generated schemathesis.toml below says why): the event
# stream is read for 1 s instead of the whole request timeout, and on the three operations
# whose bodies carry rules JSON Schema cannot state, a 422 to schema-valid data is expected.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${1:-$ROOT/target/release/deconflict}"
shift || true
[ -x "$BIN" ] || { echo "schemathesis.sh: $BIN is not an executable (cargo build --release -p deconflict-cli)" >&2; exit 2; }
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
REQS="$ROOT/scripts/requirements-schemathesis.txt"
VENV="${TMPDIR:-/tmp}/deconflict-stvenv"
# Seconds each: waiting for the server, one request, the whole run (a hard stop: the run is
# bounded by --max-examples and normally takes a few minutes).
START_TIMEOUT=30
REQUEST_TIMEOUT=10
RUN_TIMEOUT=1800

WORK="$(mktemp -d "${TMPDIR:-/tmp}/deconflict-st.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== schemathesis: venv at $VENV"
STAMP="$VENV/.deconflict-requirements.sha256"
WANT="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/schemathesis" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQS"
  echo "$WANT" >"$STAMP"
fi
"$VENV/bin/schemathesis" --version

echo "== deconflict: party ALPHA and its token, in $WORK/data"
DATA="$WORK/data"
"$BIN" party add ALPHA --data-dir "$DATA" >/dev/null
TOKEN="$("$BIN" token issue ALPHA --data-dir "$DATA")"
[ -n "$TOKEN" ] || { echo "schemathesis.sh: no token issued" >&2; exit 1; }

# Port 0: the kernel picks a free port, and the server names it in its "listening on" line.
RUST_LOG=warn "$BIN" serve --data-dir "$DATA" --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
BASE=""
for _ in $(seq 1 $((START_TIMEOUT * 10))); do
  BASE="$(sed -n 's/^listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$WORK/serve.out" | head -n 1)"
  [ -n "$BASE" ] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "schemathesis.sh: the server exited:" >&2
    cat "$WORK/serve.err" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$BASE" ] || { echo "schemathesis.sh: no 'listening on' line within ${START_TIMEOUT}s" >&2; cat "$WORK/serve.err" >&2; exit 1; }
echo "== server at $BASE (pid $SERVER_PID)"

# Loopback only: no proxy may take the requests elsewhere.
export NO_PROXY="127.0.0.1,localhost" no_proxy="127.0.0.1,localhost"
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy

# Per-operation settings; every check stays on for every operation.
cat >"$WORK/schemathesis.toml" <<'TOML'
# GET /v1/stream answers 200 with an event stream that never ends; schemathesis reads it until
# the request timeout. On loopback 1 s is enough to see the answer's status and headers, and
# keeps the run from waiting 10 s on each of the stream's cases.
[[operations]]
include-path = "/v1/stream"
request-timeout = 1.0

# These bodies have rules JSON Schema cannot state, which the server answers with 422 (and
# the document declares): a report's time at most max_future_s ahead of the server clock and
# its `party` the caller's own name; a volume's altitude_lower below altitude_upper, time_end
# after time_start, a simple polygon outline within the area and radius limits, a duration
# within max_duration_s. Schema-valid data may break them, so 422 is an expected answer to it
# here (positive_data_acceptance); everything else stays as schemathesis expects.
[[operations]]
include-path = "/v1/tracks"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

[[operations]]
include-path = "/v1/intents/{id}"
include-method = "PUT"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

[[operations]]
include-path = "/v1/constraints/{id}"
include-method = "PUT"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
TOML

run_schemathesis() {
  (cd "$WORK" && timeout "$RUN_TIMEOUT" "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run "$BASE/openapi.json" \
    --url "$BASE" \
    --header "Authorization: Bearer $TOKEN" \
    --checks all \
    --max-examples 30 \
    --continue-on-failure \
    --request-timeout "$REQUEST_TIMEOUT" \
    --workers 2 \
    --generation-database none \
    --no-color \
    "$@") 2>&1 | tee "$WORK/run.log"
  return "${PIPESTATUS[0]}"
}

echo "== schemathesis run $BASE/openapi.json"
status=0
run_schemathesis "$@" || status=$?
# Schemathesis 4.32 sometimes stops on an error of its own generator (Hypothesis "Inconsistent
# results", seen once with the fixed seed, gone on a re-run): that is not a finding about the
# API, so a run whose only trouble is that is run once more. A real failure is never retried.
if [ "$status" -ne 0 ] && grep -q "Inconsistent results" "$WORK/run.log" && ! grep -q "= FAILURES =" "$WORK/run.log"; then
  echo "== schemathesis stopped on its own generator error (not a finding); running once more"
  status=0
  run_schemathesis "$@" || status=$?
fi

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "schemathesis.sh: the server died during the run:" >&2
  cat "$WORK/serve.err" >&2
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
