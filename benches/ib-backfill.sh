#!/usr/bin/env bash
# IB historical load benchmark: a backfill of DAYS days of 1-minute bars (default 365: 525,600 bars
# in 365 one-day segments) from the fake gateway (fakegw/) with pacing off, end to end: the IB wire,
# decoding, and the writes to the bar store. Release build; every figure is measured in this run.
#
#   bash benches/ib-backfill.sh [DAYS]
#
# Prints, each the median of RUNS (default 3) runs on a fresh daemon and an empty data directory:
# - batched: the daemon's defaults (a write once 50,000 bars are pending or the oldest waited 1 s);
# - unbatched, the baseline: KTRDR_IB_FLUSH_BARS=1, a write after every segment (the old behaviour);
# - import, the ceiling: `ktrdrctl data import` of the same bars from CSV (one write, no IB wire);
# and the ratios. Figures are whole `ktrdrctl` processes, from the request until the operation ends.
# The load average before and after is printed, since other builds on the machine slow every figure.
# Results under bench-results/ib-backfill/ (summary.txt). BUILD=0 skips the build and uses the release
# binaries already in the target directory.
set -euo pipefail
cd "$(dirname "$0")/.."
DAYS=${1:-365}
RUNS=${RUNS:-3}
OUT=bench-results/ib-backfill
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

[[ ${BUILD:-1} == 0 ]] || cargo build --release -q -p ktrdr-daemon -p ktrdr-ctl -p ktrdr-fakegw
BIN=${CARGO_TARGET_DIR:-target}/release

DIR=$(mktemp -d)
PID=
GW=
trap '[[ -n "$PID" ]] && kill "$PID" 2>/dev/null; [[ -n "$GW" ]] && kill "$GW" 2>/dev/null; rm -rf "$DIR"' EXIT

# Continuous 1m bars from 2024-01-01 00:00 UTC, prices with two decimals.
mkdir -p "$DIR/gw"
CSV="$DIR/gw/BENCH_1m.csv"
awk -v n=$((DAYS * 1440)) 'BEGIN {
  print "timestamp,open,high,low,close,volume"
  t0 = 1704067200
  for (i = 0; i < n; i++) {
    p = 100 + (700 + i % 997) / 100
    print strftime("%Y-%m-%d %H:%M:%S+00:00", t0 + i * 60, 1) "," p "," p + 0.5 "," p - 0.25 "," p + 0.25 "," (i % 1000 + 1)
  }
}' >"$CSV"
BARS=$((DAYS * 1440))
START=2024-01-01T00:00:00Z
END=$(date -u -d "@$((1704067200 + DAYS * 86400))" +%Y-%m-%dT%H:%M:%SZ)

"$BIN/fakegw" --data "$DIR/gw" --port 0 >"$DIR/gw.out" 2>&1 &
GW=$!
PORT=
for _ in $(seq 600); do
  PORT=$(sed -n 's/^fakegw listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$DIR/gw.out")
  [[ -n "$PORT" ]] && break
  sleep 0.05
done
[[ -n "$PORT" ]] || { echo "fakegw did not start: $(cat "$DIR/gw.out")" >&2; exit 1; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
now_us() { local t=${EPOCHREALTIME/./}; echo "${t}"; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }

SOCK="$DIR/k.sock"
# A fresh daemon on an empty data directory; extra environment as arguments (NAME=VALUE).
start_daemon() {
  rm -rf "$DIR/data" "$DIR/state"
  mkdir -p "$DIR/data"
  env IB_HOST=127.0.0.1 IB_PORT="$PORT" KTRDR_IB_PACING_SCALE=0 "$@" \
    "$BIN/ktrdrd" --socket "$SOCK" --data-dir "$DIR/data" --state-dir "$DIR/state" --log warn >>"$OUT/ktrdrd.log" 2>&1 &
  PID=$!
  for _ in $(seq 400); do "$BIN/ktrdrctl" --socket "$SOCK" ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "ktrdrd did not start" >&2
  exit 1
}
stop_daemon() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }
ctl() { "$BIN/ktrdrctl" --socket "$SOCK" --timeout 3600 "$@"; }
rows() { ctl --json data range "$1" 1m | jq -r .rows; }

# One backfill on a fresh daemon; sets SECS and WRITES, and checks every bar was stored.
backfill() {
  local a b
  start_daemon "$@"
  a=$(now_us)
  ctl data load BENCH 1m --mode backfill --start "$START" --end "$END" >/dev/null 2>>"$OUT/ktrdrctl.log"
  b=$(now_us)
  SECS=$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.3f", (b - a) / 1e6}')
  WRITES=$(ctl --json ops list --kind ib_load --limit 1 | jq -r '.items[0].result.writes')
  [[ $(rows BENCH) -eq $BARS ]] || { echo "backfill stored $(rows BENCH) of $BARS bars" >&2; exit 1; }
  stop_daemon
}
import_csv() {
  local a b
  start_daemon
  cat "$CSV" >/dev/null
  a=$(now_us)
  ctl data import "$CSV" --symbol IMP --timeframe 1m >/dev/null
  b=$(now_us)
  SECS=$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.3f", (b - a) / 1e6}')
  [[ $(rows IMP) -eq $BARS ]] || { echo "import stored $(rows IMP) of $BARS bars" >&2; exit 1; }
  stop_daemon
}

# Interleaved, so a change in the machine's load falls on every variant alike.
B=() U=() I=()
for ((r = 0; r < RUNS; r++)); do
  backfill
  B+=("$SECS")
  BW=$WRITES
  backfill KTRDR_IB_FLUSH_BARS=1
  U+=("$SECS")
  UW=$WRITES
  import_csv
  I+=("$SECS")
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
TB=$(median "${B[@]}") TU=$(median "${U[@]}") TI=$(median "${I[@]}")
rate() { awk -v n="$BARS" -v s="$1" 'BEGIN{printf "%.0f", n / s}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1fx", a / b}'; }

cat <<TXT | tee "$OUT/summary.txt"
ib backfill: $BARS 1m bars, $DAYS one-day segments, pacing off, release build; $(nproc) CPUs
load average before: $LOAD_BEFORE, after: $LOAD_AFTER
batched (defaults, $BW writes):        median ${TB} s = $(rate "$TB") bars/s   runs: ${B[*]}
unbatched (KTRDR_IB_FLUSH_BARS=1, $UW writes): median ${TU} s = $(rate "$TU") bars/s   runs: ${U[*]}
import of the same bars from CSV:   median ${TI} s = $(rate "$TI") bars/s   runs: ${I[*]}
batched/unbatched speed-up: $(ratio "$TU" "$TB"); batched time / import time: $(ratio "$TB" "$TI")
(each figure the median of $RUNS runs, interleaved; a fresh ktrdrd on an empty data directory each run)
TXT
