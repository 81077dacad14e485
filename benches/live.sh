#!/usr/bin/env bash
# Live-bar latency: fake gateway closes a bar -> ktrdrd stores it -> `ktrdrctl data follow` prints it,
# p50/p99 with 1 follower (baseline) and 100 followers, measured in the same run (release build).
#
#   bash benches/live.sh [BARS]        # default 200 bars at 10 bars/s; BUILD=0 skips the build
set -euo pipefail
cd "$(dirname "$0")/.."
# Two builds: a --bin filter applies to every -p of one command, which would leave ktrdrd out.
if [[ ${BUILD:-1} != 0 ]]; then
  cargo build --release -q -p ktrdr-daemon -p ktrdr-ctl
  cargo build --release -q -p ktrdr-benches --bin bench_live
fi
BIN=${CARGO_TARGET_DIR:-target}/release
"$BIN/bench_live" --bin "$BIN" --bars "${1:-200}" --bars-per-sec "${RATE:-10}" --followers "${FOLLOWERS:-100}"
