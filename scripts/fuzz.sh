#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ (cargo-fuzz + libFuzzer) for a bounded time each, and fails on
# any crash: a panic, an allocation over 512 MB (-malloc_limit_mb), an RSS over 2 GB, or one
# input taking over 10 s. Each target runs on a temporary copy of its corpus (fuzz/corpus/<t>),
# so a run never grows the repository; see docs/operations.md, "Fuzzing".
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 60; CI runs 30)
#
# Environment:
#   FUZZ_JOBS        targets run at once (default: 2, or 1 on a one-core machine)
#   FUZZ_SANITIZER   address (default) or none
#   FUZZ_TARGET_DIR  build directory (default fuzz/target in this checkout)
#   FUZZ_WORK        where the corpus copies and logs go (default: a temporary directory,
#                    removed at the end); set it to keep what the run found, for `cargo fuzz cmin`
#   FUZZ_TARGETS     space-separated subset of targets (default: every target of fuzz/Cargo.toml)
#   FUZZ_TOOLCHAIN   stable: use the stable toolchain even where nightly is installed
#
# Needs the nightly toolchain if rustup has it; otherwise the stable one with RUSTC_BOOTSTRAP=1
# (cargo-fuzz passes -Z flags). Installs cargo-fuzz (crates.io) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
SECS="${1:-60}"
case "$SECS" in '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;; esac
CARGO_FUZZ_VERSION=0.13.2
SANITIZER="${FUZZ_SANITIZER:-address}"
TARGET_DIR="${FUZZ_TARGET_DIR:-$ROOT/fuzz/target}"
JOBS="${FUZZ_JOBS:-$(( $(nproc) >= 2 ? 2 : 1 ))}"
TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
START=$SECONDS

if [ -n "${FUZZ_WORK:-}" ]; then
  WORK="$FUZZ_WORK"
  mkdir -p "$WORK"
else
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/deconflict-fuzz.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
fi

# The toolchain: nightly if rustup has it, else stable told to accept -Z flags.
if [ "${FUZZ_TOOLCHAIN:-auto}" != stable ] && rustup run nightly rustc --version >/dev/null 2>&1; then
  TOOLCHAIN=(+nightly)
  echo "fuzz: toolchain $(rustup run nightly rustc --version)"
else
  TOOLCHAIN=()
  export RUSTC_BOOTSTRAP=1
  if [ "${FUZZ_TOOLCHAIN:-auto}" = stable ]; then why="FUZZ_TOOLCHAIN=stable"; else why="no nightly toolchain"; fi
  echo "fuzz: $why: $(rustc --version) with RUSTC_BOOTSTRAP=1"
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

cd "$ROOT/fuzz"
TARGETS=(${FUZZ_TARGETS:-$(cargo fuzz list)})
# Release with debug assertions and overflow checks (cargo-fuzz's default); 16 codegen units
# build about twice as fast as cargo-fuzz's default of 1 on two cores, for a little speed.
BUILD_START=$SECONDS
cargo "${TOOLCHAIN[@]}" fuzz build --sanitizer "$SANITIZER" --codegen-units 16 \
  --target-dir "$TARGET_DIR"
echo "fuzz: built every target (sanitizer: $SANITIZER) in $((SECONDS - BUILD_START)) s; running ${TARGETS[*]}"
BIN_DIR="$TARGET_DIR/$TRIPLE/release"

# One target: a fresh copy of its corpus, libFuzzer with the limits, the log kept.
run_target() {
  local t="$1" corpus="$WORK/corpus/$1" dict=()
  rm -rf "$corpus"
  mkdir -p "$corpus" "$WORK/artifacts/$t"
  cp -R "$ROOT/fuzz/corpus/$t/." "$corpus/" 2>/dev/null || true
  if [ -f "$ROOT/fuzz/dict/$t.dict" ]; then
    dict=(-dict="$ROOT/fuzz/dict/$t.dict")
  elif [ -f "$ROOT/fuzz/dict/json.dict" ] && [ "$t" != auth_token ]; then
    dict=(-dict="$ROOT/fuzz/dict/json.dict")
  fi
  local rc=0
  "$BIN_DIR/$t" "$corpus" "${dict[@]}" \
    -max_total_time="$SECS" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$WORK/artifacts/$t/" \
    >"$WORK/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$WORK/$t.rc"
}

# Run JOBS targets at a time (libFuzzer uses one core per process).
RUN_START=$SECONDS
running=0
for t in "${TARGETS[@]}"; do
  run_target "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

# One line per target, then the crashes in full.
failed=()
for t in "${TARGETS[@]}"; do
  log="$WORK/$t.log"
  rc="$(cat "$WORK/$t.rc" 2>/dev/null || echo 1)"
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  execs="$(stat number_of_executed_units)"
  rate="$(stat average_exec_per_sec)"
  rss="$(stat peak_rss_mb)"
  added="$(stat new_units_added)"
  last="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
  corp="$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")"
  if [ "$rc" = 0 ]; then verdict=ok; else verdict="FAILED (exit $rc)"; failed+=("$t"); fi
  printf 'fuzz: %-16s %10s execs %7s/s  cov %5s  ft %6s  corpus %4s (+%s)  peak %4s MB  %s\n' \
    "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${added:-?}" "${rss:-?}" "$verdict"
done
echo "fuzz: ${SECS} s per target, $JOBS at a time: runs $((SECONDS - RUN_START)) s, all $((SECONDS - START)) s"

for t in "${failed[@]}"; do
  echo "== fuzz: $t failed; what went wrong, then the end of its log:"
  grep -m 3 -A 6 -E "panicked at|ERROR: (libFuzzer|AddressSanitizer)|out-of-memory|timeout after" \
    "$WORK/$t.log" || true
  echo "   ..."
  tail -n 25 "$WORK/$t.log"
  for a in "$WORK/artifacts/$t"/*; do
    [ -f "$a" ] || continue
    mkdir -p "$ROOT/fuzz/artifacts/$t"
    cp "$a" "$ROOT/fuzz/artifacts/$t/"
    a="$ROOT/fuzz/artifacts/$t/$(basename "$a")"
    echo "== fuzz: $t input $a ($(wc -c <"$a") bytes), base64:"
    head -c 8192 "$a" | base64
    echo "   reproduce: cd fuzz && cargo +nightly fuzz run $t $a"
  done
done
[ "${#failed[@]}" -eq 0 ] || { echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"; exit 1; }
echo "fuzz: no crash in ${#TARGETS[@]} targets"
