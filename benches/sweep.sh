#!/usr/bin/env bash
# A 24-cell sweep three ways in one run: `ktrdrctl sweep run` (local executor), the same cells as
# `ktrdrctl train` + `ktrdrctl backtest` one after another, and as a pandas + PyTorch loop
# (release build; docs/benchmarks.md "Sweeps").
#
#   bash benches/sweep.sh [SWEEP.yaml]       # default benches/sweep.yaml; BUILD=0 skips the build
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/setup-torch.sh)"
python -c 'import pandas' 2>/dev/null || python -m pip install -q pandas >&2
# Two builds: a --bin filter applies to every -p of one command, which would leave ktrdrd out.
if [[ ${BUILD:-1} != 0 ]]; then
  cargo build --release -q -p ktrdr-daemon -p ktrdr-ctl
  cargo build --release -q -p ktrdr-benches --bin bench-sweep
fi
BIN=${CARGO_TARGET_DIR:-target}/release
"$BIN/bench-sweep" --ktrdrd "$BIN/ktrdrd" --ctl "$BIN/ktrdrctl" --sweep "${1:-benches/sweep.yaml}" \
  --bars ../shared/data/public/EURUSD.csv --python "$(command -v python)"
