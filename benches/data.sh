#!/usr/bin/env bash
# Market data benchmark: one generated 1,000,000-bar 1m series, every figure measured in this run.
#
#   bash benches/data.sh [BARS]
#
# Prints: cold load+filter in ktrdrd (CSV and Parquet) vs pandas read_csv+to_datetime+filter (pandas
# installed from PyPI into bench-results/venv), warm cached `data show` vs cold, and the whole-process
# time of `ktrdrctl data show SYMBOL 1h --tail 100`. Release build; results under bench-results/data/.
set -euo pipefail
cd "$(dirname "$0")/.."
BARS=${1:-1000000}
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

now_ms() { date +%s%3N; }
DIR=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$DIR"' EXIT
mkdir -p "$DIR/data"
SOCK="$DIR/k.sock"
start_daemon() {
  "$BIN/ktrdrd" --socket "$SOCK" --data-dir "$DIR/data" --state-dir "$DIR/state" --log warn 2>>"$OUT/ktrdrd.log" &
  PID=$!
  for _ in $(seq 200); do "$BIN/ktrdrctl" --socket "$SOCK" ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "ktrdrd did not start" >&2; exit 1
}
restart_daemon() { kill "$PID"; wait "$PID" 2>/dev/null || true; start_daemon; }
ctl() { "$BIN/ktrdrctl" --socket "$SOCK" --timeout 600 "$@"; }
# Median of 5 runs of a command, in ms.
median5() {
  local t=()
  for _ in 1 2 3 4 5; do local a; a=$(now_ms); "$@" >/dev/null; t+=($(( $(now_ms) - a ))); done
  printf '%s\n' "${t[@]}" | sort -n | sed -n 3p
}
window() { ctl data show SYN 1m --start "$START" --end "$END" --rows 0; }

cp "$CSV" "$DIR/data/SYN_1m.csv"
start_daemon
a=$(now_ms); window; COLD_CSV=$(( $(now_ms) - a ))
WARM=$(median5 window)
# The same series stored as Parquet (what import writes), loaded cold after a restart.
rm "$DIR/data/SYN_1m.csv"
ctl data import "$CSV" --symbol SYN --timeframe 1m >/dev/null
restart_daemon
a=$(now_ms); window; COLD_PQ=$(( $(now_ms) - a ))
ctl data resample SYN 1m 1h --save --rows 0 2>/dev/null
TAIL=$(median5 ctl data show SYN 1h --tail 100)
a=$(now_ms); ctl data show SYN 1m --format csv >/dev/null; FULL_CSV=$(( $(now_ms) - a ))

PANDAS=$("$OUT/venv/bin/python" - "$CSV" "$START" "$END" <<'PY'
import sys, time
import pandas as pd
path, start, end = sys.argv[1:]
best = []
for _ in range(3):
    t = time.perf_counter()
    df = pd.read_csv(path)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    sel = df[(df["timestamp"] >= pd.Timestamp(start)) & (df["timestamp"] < pd.Timestamp(end))]
    best.append((time.perf_counter() - t) * 1000)
    assert len(sel) > 0
print(int(sorted(best)[1]))
PY
)
kill "$PID"; wait "$PID" 2>/dev/null || true

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b < 1) b = 1; printf "%.1fx", a / b }'; }
cat <<TXT | tee "$OUT/summary.txt"
bars: $BARS (1m, forex 24/5 calendar, seed 42), window $START .. $END
cold load+filter, CSV in the data dir (ktrdrctl process, ms):      $COLD_CSV
cold load+filter, Parquet (after import; ktrdrctl process, ms):     $COLD_PQ
pandas read_csv + to_datetime(utc) + filter (median of 3, ms):     $PANDAS
warm cached data show of the window (median of 5, ms):             $WARM
whole-process ktrdrctl data show SYN 1h --tail 100 (median of 5, ms): $TAIL
stream all $BARS bars as CSV to /dev/null (ms):                    $FULL_CSV
ratios: pandas/cold-csv $(ratio "$PANDAS" "$COLD_CSV"), pandas/cold-parquet $(ratio "$PANDAS" "$COLD_PQ"), cold-csv/warm $(ratio "$COLD_CSV" "$WARM"), cold-parquet/warm $(ratio "$COLD_PQ" "$WARM")
TXT
