#!/usr/bin/env bash
# What the opt-in /metrics listener costs: ping round trip p50/p99 and whole-process
# `ktrdrctl health`, with metrics.listen off and on (scraped every second, as Prometheus would), two
# real release daemons measured in the same run, interleaved; prints on/off ratios.
#
#   bash benches/metrics.sh [extra bench-metrics flags, e.g. --rounds 20 --scrape-ms 100]
#
# Results in bench-results/metrics-<time>.txt; figures recorded in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release --locked -q -p ktrdr-daemon -p ktrdr-ctl -p ktrdr-benches --bin ktrdrd --bin ktrdrctl --bin bench-metrics
mkdir -p bench-results
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$target_dir/release/bench-metrics" --ktrdrd "$target_dir/release/ktrdrd" --ctl "$target_dir/release/ktrdrctl" "$@" \
  | tee "bench-results/metrics-$(date -u +%Y%m%dT%H%M%SZ).txt"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
