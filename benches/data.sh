#!/usr/bin/env bash
# Market data benchmark: one generated 1,000,000-bar 1m series, every figure measured in this run.
#
#   bash benches/data.sh [BARS]
#
# Prints: cold load+filter in ktrdrd (CSV and Parquet) vs pandas read_csv+to_datetime+filter (pandas
# installed from PyPI into bench-results/data/venv), warm cached `data show` vs cold, the whole-process
# time of `ktrdrctl data show SYMBOL 1h --tail 100` (with `ktrdrctl ping` as the process floor), and
# the per-stage times of a load inside one process (benches/src/bin/data_stages.rs). Release build;
# results under bench-results/data/ (summary.txt, stages.txt).
#
# Conditions, the same for both sides:
# - "cold" means not in the daemon's memory: the daemon is restarted before every cold run. The file
#   itself is in the OS page cache for ktrdr and pandas alike (each is read with `cat` right before),
#   so both sides measure parsing, not the disk.
# - ktrdr figures are whole `ktrdrctl` processes (spawn, connect, request, reply); the pandas figure
#   is only the read_csv + to_datetime + filter inside an already started Python with pandas imported.
#   That favours pandas.
# - Each figure is the median of 5 runs (cold ones each after a restart); the load average before and
#   after is printed, since other compiles on the machine slow every figure.
set -euo pipefail
cd "$(dirname "$0")/.."
BARS=${1:-1000000}
RUNS=5
OUT=bench-results/data
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

cargo build --release -q -p ktrdr-daemon -p ktrdr-ctl -p ktrdr-benches
BIN=${CARGO_TARGET_DIR:-target}/release

if [[ ! -x "$OUT/venv/bin/python" ]]; then
  python3 -m venv "$OUT/venv"
  "$OUT/venv/bin/pip" install -q pandas
fi

CSV="$OUT/SYN_1m.csv"
[[ -s "$CSV" ]] && [[ $(($(wc -l <"$CSV") - 1)) -eq $BARS ]] || "$BIN/gen-bars" "$CSV" "$BARS" 1m 42

# Window: the middle half of the series.
read -r START END < <(awk -F, -v n="$BARS" 'NR==int(n/4)+2{s=substr($1,1,19)} NR==int(3*n/4)+2{e=substr($1,1,19)} END{gsub(" ","T",s); gsub(" ","T",e); print s"Z", e"Z"}' "$CSV")

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# Microseconds from bash itself: no `date` process inside the timed region.
now_us() { local t=${EPOCHREALTIME/./}; echo "${t}"; }
elapsed_ms() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", (b - a) / 1000}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }

DIR=$(mktemp -d)
PID=
trap '[[ -n "$PID" ]] && kill "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
mkdir -p "$DIR/data"
SOCK="$DIR/k.sock"
start_daemon() {
  "$BIN/ktrdrd" --socket "$SOCK" --data-dir "$DIR/data" --state-dir "$DIR/state" --log warn >>"$OUT/ktrdrd.log" 2>&1 &
  PID=$!
  for _ in $(seq 400); do "$BIN/ktrdrctl" --socket "$SOCK" ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "ktrdrd did not start" >&2
  exit 1
}
stop_daemon() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }
ctl() { "$BIN/ktrdrctl" --socket "$SOCK" --timeout 600 "$@"; }
# One timed run of a command, in ms.
timed() { local a b; a=$(now_us); "$@" >/dev/null; b=$(now_us); elapsed_ms "$a" "$b"; }
# Median of $RUNS runs of a command, in ms.
median_of() { local t=() i; for ((i = 0; i < RUNS; i++)); do t+=("$(timed "$@")"); done; median "${t[@]}"; }
window() { ctl data show SYN 1m --start "$START" --end "$END" --rows 0; }
# Median of $RUNS cold runs into $COLD: a fresh daemon each time, the file in the page cache. Runs in
# this shell (not in $(...)), so $PID stays the daemon's.
cold_median() {
  local file=$1 t=() i
  for ((i = 0; i < RUNS; i++)); do
    [[ -n "$PID" ]] && stop_daemon
    start_daemon
    cat "$file" >/dev/null
    t+=("$(timed window)")
  done
  COLD=$(median "${t[@]}")
}

cp "$CSV" "$DIR/data/SYN_1m.csv"
cold_median "$DIR/data/SYN_1m.csv"
COLD_CSV=$COLD
WARM=$(median_of window)
# The same series stored as Parquet (what import writes), loaded cold after a restart.
rm "$DIR/data/SYN_1m.csv"
ctl data import "$CSV" --symbol SYN --timeframe 1m >/dev/null
cold_median "$DIR/data/SYN_1m.parquet"
COLD_PQ=$COLD
WARM_PQ=$(median_of window)
ctl data resample SYN 1m 1h --save --rows 0 >/dev/null 2>&1
ctl data show SYN 1h --tail 100 >/dev/null # loads the 1h series; the figure is a cached tail
TAIL=$(median_of ctl data show SYN 1h --tail 100)
PING=$(median_of ctl ping)
FULL_CSV=$(timed ctl data show SYN 1m --format csv)
stop_daemon

cat "$CSV" >/dev/null
PANDAS=$("$OUT/venv/bin/python" - "$CSV" "$START" "$END" "$RUNS" <<'PY'
import statistics, sys, time
import pandas as pd
path, start, end, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ms = []
for _ in range(runs):
    t = time.perf_counter()
    df = pd.read_csv(path)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    sel = df[(df["timestamp"] >= pd.Timestamp(start)) & (df["timestamp"] < pd.Timestamp(end))]
    ms.append((time.perf_counter() - t) * 1000)
    assert len(sel) > 0
print(f"{statistics.median(ms):.1f}")
PY
)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

"$BIN/data_stages" "$CSV" >"$OUT/stages.txt"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b < 0.1) b = 0.1; printf "%.1fx", a / b }'; }
cat <<TXT | tee "$OUT/summary.txt"
bars: $BARS (1m, forex 24/5 calendar, seed 42), window $START .. $END; $(nproc) CPUs
load average before: $LOAD_BEFORE, after: $LOAD_AFTER
cold load+filter, CSV in the data dir (fresh ktrdrd, ktrdrctl process, ms):  $COLD_CSV
cold load+filter, Parquet (after import; fresh ktrdrd, ktrdrctl process, ms): $COLD_PQ
pandas read_csv + to_datetime(utc) + filter (in-process, ms):               $PANDAS
warm cached load+filter of the window (CSV series / Parquet series, ms):     $WARM / $WARM_PQ
whole-process ktrdrctl data show SYN 1h --tail 100 (ms):                      $TAIL
whole-process ktrdrctl ping, the process floor (ms):                          $PING
stream all $BARS bars as CSV to /dev/null (one run, ms):                    $FULL_CSV
ratios: pandas/cold-csv $(ratio "$PANDAS" "$COLD_CSV"), pandas/cold-parquet $(ratio "$PANDAS" "$COLD_PQ"), cold-csv/warm $(ratio "$COLD_CSV" "$WARM"), cold-parquet/warm $(ratio "$COLD_PQ" "$WARM_PQ")
(each figure the median of $RUNS runs; the file in the OS page cache for every side)
TXT
echo "stages inside one process (bench-results/data/stages.txt):"
cat "$OUT/stages.txt"
