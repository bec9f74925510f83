#!/usr/bin/env bash
# The web map in a real browser (issue 13): Debian's Chromium driven by playwright-core
# (pinned in scripts/browser/package-lock.json; it downloads no browser), two parties' pages
# side by side against `deconflict demo`. Screenshots go to target/browser/; prints the
# frame rate with 10,000 tracks. Usage: scripts/browser_test.sh [path/to/deconflict]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-target/release/deconflict}"
test -x "$BIN" || { echo "no $BIN: build it first (cargo build --release -p deconflict-cli)"; exit 1; }
if [ ! -x /usr/bin/chromium ]; then
  apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }
fi
if ! command -v npm >/dev/null; then
  apt-get install -y nodejs npm || { apt-get update && apt-get install -y nodejs npm; }
fi
(cd scripts/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
mkdir -p target/browser
DATA="$(mktemp -d)"
LOG="$DATA/demo.log"
# Kept serving after the scenario (no --exit) while the pages look at it; stopped by the trap
# with SIGTERM (a background job of a script ignores SIGINT).
# Emergencies escalate after 8 s instead of 60, so that the pages show an escalation within
# the test's time; the rest is the service's defaults.
printf '[hotline]\nemergency_resend_s = 4.0\nemergency_escalate_s = 8.0\n' >"$DATA/demo.toml"
# The replay mode's files: the scenario's tracks and the episodes `deconflict replay` finds.
"$BIN" replay scenarios/latakia-2015.jsonl --out "$DATA/episodes.jsonl" --quiet
"$BIN" demo --listen 127.0.0.1:0 --speed 10 --data-dir "$DATA" --play-s 120 --config "$DATA/demo.toml" >"$LOG" 2>&1 &
DEMO=$!
trap 'kill $DEMO 2>/dev/null || true; wait $DEMO 2>/dev/null || true; rm -rf "$DATA"' EXIT
URL=""
for _ in $(seq 1 150); do
  URL="$(grep -o 'the service is up at http://[0-9.:]*' "$LOG" | awk '{print $NF}' || true)"
  [ -n "$URL" ] && break
  kill -0 $DEMO 2>/dev/null || { cat "$LOG"; exit 1; }
  sleep 0.2
done
[ -n "$URL" ] || { echo "the demo did not come up"; cat "$LOG"; exit 1; }
echo "demo at $URL"
if ! timeout 200 node scripts/browser_test.mjs "$URL" "$DATA/tokens" target/browser \
    scenarios/latakia-2015.jsonl "$DATA/episodes.jsonl"; then
  echo "--- the demo's output"; cat "$LOG"; exit 1
fi
