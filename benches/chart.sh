#!/usr/bin/env bash
# Chart benchmark: a generated 1,000,000-bar 1m series with three indicators (SMA 20 and EMA 50 on
# the price, RSI 14 in a pane), drawn by ktrdrd as PNG, SVG and interactive HTML, against
# matplotlib/mplfinance drawing the same PNG in the same run (matplotlib, mplfinance and pandas
# installed from PyPI into bench-results/chart/venv).
#
#   bash benches/chart.sh [BARS]
#
# ktrdr figures are whole `ktrdrctl chart` processes against a running daemon with the series
# already loaded (its first chart is reported apart): reading the cached bars, computing the three
# indicators over every bar, drawing, encoding, streaming the file and writing it atomically. The
# mplfinance figure is only the plot + savefig inside a started Python with the data frame read
# (the indicators, computed with pandas, are reported apart). Medians of RUNS runs; release build.
# Results under bench-results/chart/ (summary.txt and the files).
set -euo pipefail
cd "$(dirname "$0")/.."
BARS=${1:-1000000}
RUNS=${RUNS:-3}
OUT=bench-results/chart
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

cargo build --release -q -p ktrdr-daemon -p ktrdr-ctl -p ktrdr-benches
BIN=${CARGO_TARGET_DIR:-target}/release
JS_DIR=$(bash scripts/fetch-charts-js.sh)

if [[ ! -x "$OUT/venv/bin/python" ]]; then
  python3 -m venv "$OUT/venv"
  "$OUT/venv/bin/pip" install -q pandas matplotlib mplfinance six  # mplfinance imports six without declaring it
fi

CSV="$OUT/SYN_1m.csv"
[[ -s "$CSV" ]] && [[ $(($(wc -l <"$CSV") - 1)) -eq $BARS ]] || "$BIN/gen-bars" "$CSV" "$BARS" 1m 42

now_us() { local t=${EPOCHREALTIME/./}; echo "${t}"; }
elapsed_ms() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", (b - a) / 1000}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
timed() { local a b; a=$(now_us); "$@" >/dev/null; b=$(now_us); elapsed_ms "$a" "$b"; }
median_of() { local t=() i; for ((i = 0; i < RUNS; i++)); do t+=("$(timed "$@")"); done; median "${t[@]}"; }

DIR=$(mktemp -d)
PID=
trap '[[ -n "$PID" ]] && kill "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
SOCK="$DIR/k.sock"
KTRDR_CHART_JS_DIR=$JS_DIR "$BIN/ktrdrd" --socket "$SOCK" --data-dir "$DIR/data" --state-dir "$DIR/state" --log warn >>"$OUT/ktrdrd.log" 2>&1 &
PID=$!
for _ in $(seq 400); do "$BIN/ktrdrctl" --socket "$SOCK" ping >/dev/null 2>&1 && break; sleep 0.05; done
ctl() { "$BIN/ktrdrctl" --socket "$SOCK" --timeout 600 "$@"; }
ctl data import "$CSV" --symbol SYN --timeframe 1m >/dev/null

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
IND=(--indicator sma:period=20 --indicator ema:period=50 --indicator rsi:period=14)
chart() { ctl chart SYN 1m "${IND[@]}" --width 1400 --height 860 --output "$1"; }
FIRST=$(timed chart "$OUT/chart.png")
PNG=$(median_of chart "$OUT/chart.png")
SVG=$(median_of chart "$OUT/chart.svg")
HTML=$(median_of chart "$OUT/chart.html")
PING=$(median_of ctl ping)
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
PNG_BYTES=$(stat -c %s "$OUT/chart.png")
SVG_BYTES=$(stat -c %s "$OUT/chart.svg")
HTML_BYTES=$(stat -c %s "$OUT/chart.html")

# mplfinance draws a million candles in minutes, so it runs once (MPL_RUNS to change).
read -r MPL_IND MPL_PLOT < <("$OUT/venv/bin/python" benches/chart_mplfinance.py "$CSV" "$OUT/mplfinance.png" "${MPL_RUNS:-1}")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b < 0.1) b = 0.1; printf "%.1fx", a / b }'; }
mb() { awk -v b="$1" 'BEGIN{printf "%.1f MB", b / 1e6}'; }
cat <<TXT | tee "$OUT/summary.txt"
bars: $BARS (1m, seed 42), indicators sma 20, ema 50, rsi 14; canvas 1400 x 860; $(nproc) CPUs
load average before: $LOAD_BEFORE, after: $LOAD_AFTER
ktrdrctl chart ... --output chart.png, first (ms):          $FIRST
ktrdrctl chart ... --output chart.png (ms):                 $PNG   ($PNG_BYTES bytes)
ktrdrctl chart ... --output chart.svg (ms):                 $SVG   ($SVG_BYTES bytes)
ktrdrctl chart ... --output chart.html (ms):                $HTML   ($(mb "$HTML_BYTES"), every bar + coarser levels)
ktrdrctl ping, the process floor (ms):                      $PING
mplfinance plot + savefig of the same PNG (ms):             $MPL_PLOT
pandas sma + ema + rsi for it (ms):                         $MPL_IND
ratios: mplfinance/ktrdr png $(ratio "$MPL_PLOT" "$PNG"), (mplfinance+pandas indicators)/ktrdr png $(ratio "$(awk -v a="$MPL_PLOT" -v b="$MPL_IND" 'BEGIN{print a+b}')" "$PNG")
goals: png under 1000 ms: $(awk -v a="$PNG" 'BEGIN{print (a < 1000) ? "yes" : "NO"}'); html under 20 MB: $(awk -v b="$HTML_BYTES" 'BEGIN{print (b < 20e6) ? "yes" : "NO"}')
(ktrdr: medians of $RUNS runs; mplfinance: ${MPL_RUNS:-1} run)
TXT
