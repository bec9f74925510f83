#!/usr/bin/env bash
# The feed bridges against real peers (issue 14), all on loopback:
#
#  ADS-B: Debian's dump1090-mutability (--net-only) is fed real Beast frames of a recorded
#    flight (tests/data/beast-slice.csv.gz, 160 s of ../shared/data/adsb/beast_30min.csv.gz),
#    `deconflict feed sbs` reads its SBS-1 port and `deconflict feed beast` its Beast output
#    port into a live `deconflict serve` (each as a party of its own), and
#    scripts/interop_adsb.py checks with pyModeS, decoding the same frames, that every position
#    each bridge stored is within 5 m of an independently decoded one and every aircraft with a
#    position in the slice is tracked by both.
#  TAK: pytak sends the CoT tracks of two converging drones of two parties, each to its own
#    `deconflict feed cot` (one over TCP, one over UDP); scripts/interop_tak.py checks the
#    tracks are stored as sent and both parties are alerted, and that a pytak client on COAL's
#    `deconflict feed cot-out` receives the intruder as a CoT track and the alert as GeoChat
#    within 2 s of the alert, without RUS's drone named; and so does a second, read-only pytak
#    client on the multicast group that cot-out also sends to (`--udp`, on loopback).
#
#   scripts/interop_feeds.sh [BINARY]      (default target/release/deconflict)
#
# INTEROP_ONLY=adsb or INTEROP_ONLY=tak runs one half.
#
# Installs dump1090-mutability with apt-get when it is missing, and pytak and pyModeS (pinned in
# scripts/requirements-interop.txt) in a venv at ${TMPDIR:-/tmp}/deconflict-interopvenv.
# Takes about 3 minutes (the ADS-B replay runs at the recorded speed). Exits non-zero on any
# failure, with the logs of every process.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${1:-$ROOT/target/release/deconflict}"
[ -x "$BIN" ] || { echo "interop_feeds.sh: $BIN is not an executable (cargo build --release -p deconflict-cli)" >&2; exit 2; }
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
REQS="$ROOT/scripts/requirements-interop.txt"
VENV="${TMPDIR:-/tmp}/deconflict-interopvenv"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/deconflict-interop.XXXXXX")"
PIDS=()
cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ]; then
    for f in "$WORK"/*.log; do
      [ -f "$f" ] && { echo "---- $(basename "$f") (last 30 lines)"; tail -n 30 "$f"; }
    done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export NO_PROXY="127.0.0.1,localhost" no_proxy="127.0.0.1,localhost"
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy

echo "== interop: venv at $VENV (pytak, pyModeS)"
STAMP="$VENV/.deconflict-requirements.sha256"
WANT="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQS"
  echo "$WANT" >"$STAMP"
fi
PY="$VENV/bin/python"

D1090="$(command -v dump1090-mutability || true)"
if [ -z "$D1090" ] && [ "${INTEROP_ONLY:-}" != tak ]; then
  echo "== interop: installing dump1090-mutability"
  DEBIAN_FRONTEND=noninteractive apt-get install -y dump1090-mutability >"$WORK/apt.log" 2>&1 \
    || { apt-get update >>"$WORK/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y dump1090-mutability >>"$WORK/apt.log" 2>&1; }
  D1090="$(command -v dump1090-mutability)"
fi

# A free TCP port on loopback (the kernel's choice; closed again at once).
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits up to 20 s for "listening on ..." in $1 and prints what follows it.
listening() {
  for _ in $(seq 1 200); do
    local v; v="$(sed -n 's/^listening on \([^ ]*\).*/\1/p' "$1" | head -n 1)"
    [ -n "$v" ] && { echo "$v"; return 0; }
    sleep 0.1
  done
  echo "interop_feeds.sh: no 'listening on' line in $1" >&2
  return 1
}

echo "== interop: deconflict serve, parties ADSB, BEAST, RUS, COAL"
DATA="$WORK/data"
cat >"$WORK/table.toml" <<'EOF'
[alerting]
hysteresis_s = 0.5
[[pair]]
classes = ["any", "any"]
radius_m = 50.0
half_height_m = 15.0
lookahead_s = 60.0
EOF
# Long coast/drop times: an aircraft of the slice heard briefly stays listed until the check.
printf 'table = "%s"\ncoast_s = 300.0\ndrop_s = 600.0\n' "$WORK/table.toml" >"$WORK/config.toml"
for p in ADSB BEAST RUS COAL; do "$BIN" party add "$p" --data-dir "$DATA" >/dev/null; done
for p in ADSB BEAST RUS COAL; do "$BIN" token issue "$p" --data-dir "$DATA" >"$WORK/$p.token"; done
RUST_LOG=warn "$BIN" serve --data-dir "$DATA" --listen 127.0.0.1:0 --config "$WORK/config.toml" \
  >"$WORK/serve.out" 2>"$WORK/serve.log" &
PIDS+=($!)
BASE="$(listening "$WORK/serve.out")"
echo "   service at $BASE"

ONLY="${INTEROP_ONLY:-}"
if [ "$ONLY" != tak ]; then
echo "== interop ADS-B: dump1090-mutability --net-only on loopback"
BI="$(free_port)"; SBS="$(free_port)"; BO="$(free_port)"
"$D1090" --net-only --net-bind-address 127.0.0.1 --net-ri-port 0 --net-ro-port 0 \
  --net-bi-port "$BI" --net-sbs-port "$SBS" --net-bo-port "$BO" --net-heartbeat 0 --quiet \
  >"$WORK/dump1090.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SBS") 2>/dev/null && break; sleep 0.1; done
echo "   dump1090: Beast in on $BI, SBS-1 out on $SBS, Beast out on $BO"
"$BIN" feed sbs "127.0.0.1:$SBS" --server "$BASE" --token-file "$WORK/ADSB.token" --status-s 5 \
  >"$WORK/feed-sbs.out" 2>"$WORK/feed-sbs.log" &
PIDS+=($!)
"$BIN" feed beast "127.0.0.1:$BO" --server "$BASE" --token-file "$WORK/BEAST.token" --status-s 5 \
  >"$WORK/feed-beast.out" 2>"$WORK/feed-beast.log" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q "connected to" "$WORK/feed-sbs.log" && break; sleep 0.1; done
for _ in $(seq 1 100); do grep -q "connected to" "$WORK/feed-beast.log" && break; sleep 0.1; done
"$PY" "$ROOT/scripts/interop_adsb.py" --frames "$ROOT/tests/data/beast-slice.csv.gz" \
  --beast-port "$BI" --server "$BASE" \
  --token "sbs=$(cat "$WORK/ADSB.token")" --token "beast=$(cat "$WORK/BEAST.token")"
sleep 0.5
echo "   feed sbs: $(grep '^feed: [0-9]* msg/s' "$WORK/feed-sbs.log" | tail -n 1)"
echo "   feed beast: $(grep '^feed: [0-9]* msg/s' "$WORK/feed-beast.log" | tail -n 1)"

fi

if [ "$ONLY" != adsb ]; then
echo "== interop TAK: pytak to two deconflict feed cot bridges (TCP and UDP), and from COAL's feed cot-out (TCP and multicast)"
"$BIN" feed cot --listen 127.0.0.1:0 --server "$BASE" --token-file "$WORK/RUS.token" --status-s 5 \
  >"$WORK/feed-cot-a.out" 2>"$WORK/feed-cot-a.log" &
PIDS+=($!)
"$BIN" feed cot --listen 127.0.0.1:0 --server "$BASE" --token-file "$WORK/COAL.token" --status-s 5 \
  >"$WORK/feed-cot-b.out" 2>"$WORK/feed-cot-b.log" &
PIDS+=($!)
# COAL's cot-out also on TAK's multicast mesh group, on a free port, out by loopback.
MESH="239.2.3.1:$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])')"
"$BIN" feed cot-out --listen 127.0.0.1:0 --server "$BASE" --token-file "$WORK/COAL.token" --status-s 5 \
  --udp "$MESH" --udp-interface 127.0.0.1 >"$WORK/feed-cot-out.out" 2>"$WORK/feed-cot-out.log" &
COT_OUT_PID=$!
PIDS+=($COT_OUT_PID)
COT_A="$(listening "$WORK/feed-cot-a.out")"
COT_B="$(listening "$WORK/feed-cot-b.out")"
COT_OUT="$(listening "$WORK/feed-cot-out.out")"
for _ in $(seq 1 100); do grep -q "stream open" "$WORK/feed-cot-out.log" && break; sleep 0.1; done
"$PY" "$ROOT/scripts/interop_tak.py" --cot-a "$COT_A" --cot-b "$COT_B" --server "$BASE" \
  --token-a "$(cat "$WORK/RUS.token")" --token-b "$(cat "$WORK/COAL.token")" --cot-out "$COT_OUT" \
  --cot-out-udp "$MESH"
sleep 0.5
echo "   feed cot (TCP): $(grep '^feed: [0-9]* msg/s' "$WORK/feed-cot-a.log" | tail -n 1)"
echo "   feed cot (UDP): $(grep '^feed: [0-9]* msg/s' "$WORK/feed-cot-b.log" | tail -n 1)"
echo "   feed cot-out: $(grep '^feed: [0-9]* clients' "$WORK/feed-cot-out.log" | tail -n 1)"
# Stopped before the service, so that the service's shutdown does not count as a lost stream
# (serve itself ends open streams when it stops: cli/tests/revocation.rs).
kill "$COT_OUT_PID" 2>/dev/null || true
wait "$COT_OUT_PID" 2>/dev/null || true
fi
echo "== interop: real-peer checks passed (${ONLY:-adsb and tak})"
