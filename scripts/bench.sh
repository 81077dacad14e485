#!/usr/bin/env bash
# Socket-path benchmarks (release build). Prints each figure next to a baseline measured in the same
# run; see docs/benchmarks.md for recorded results.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release --locked -p ktrdr-benches -p ktrdr-ctl
mkdir -p bench-results
"$target_dir/release/bench-roundtrip" --ctl "$target_dir/release/ktrdrctl" --seconds "${BENCH_SECONDS:-3}" \
  | tee "bench-results/roundtrip-$(date -u +%Y%m%dT%H%M%SZ).txt"
