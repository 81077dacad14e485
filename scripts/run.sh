#!/usr/bin/env bash
# Sets up and runs ktrdr: builds the release binaries, starts ktrdrd on the default data directory
# (unless one is already answering), and asks it a first real question.
#
#   scripts/run.sh            build, start, `ktrdrctl health`
#   scripts/run.sh stop       stop the daemon started here
#
# Environment: KTRDR_DATA_DIR, KTRDR_STATE_DIR, KTRDR_SOCKET as for ktrdrd itself.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
  echo "run.sh: cargo not found; install Rust (https://rustup.rs) first" >&2
  exit 1
fi

target_dir=${CARGO_TARGET_DIR:-$PWD/target}
bin="$target_dir/release"
ctl="$bin/ktrdrctl"

if [[ "${1:-}" == "stop" ]]; then
  exec "$ctl" daemon stop
fi

# libtorch for tch: PyPI torch in a per-user venv (idempotent; scripts/setup-torch.sh), and the environment torch-sys builds with.
eval "$(bash scripts/setup-torch.sh)"

echo "==> building ktrdrd and ktrdrctl (release)"
cargo build --release --locked -p ktrdr-daemon -p ktrdr-ctl
# Debug info into ktrdrd.debug / ktrdrctl.debug beside the binaries (ktrdrd ~460 MiB -> ~50 MiB);
# backtraces keep file:line through the debug link. A no-op when nothing was relinked.
bash scripts/split-debug.sh

state_dir=${KTRDR_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/ktrdr}
mkdir -p "$state_dir"
log="$state_dir/ktrdrd.log"

if "$ctl" ping >/dev/null 2>&1; then
  echo "==> ktrdrd is already running"
else
  echo "==> starting ktrdrd (log: $log)"
  nohup "$bin/ktrdrd" >>"$log" 2>&1 </dev/null &
  for _ in $(seq 1 100); do
    "$ctl" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
fi

# Real sample bars for a fresh data directory: GOOG daily (2004-2013) and EURUSD hourly (2017-2018),
# as shipped inside the PyPI package `backtesting` (only its wheel is downloaded; nothing is installed).
seed() {
  local symbol=$1 timeframe=$2 file=$3
  if "$ctl" data range "$symbol" "$timeframe" >/dev/null 2>&1; then
    return 0
  fi
  if [[ -z "${seed_dir:-}" ]]; then
    seed_dir=$(mktemp -d)
    trap 'rm -rf "$seed_dir"' EXIT
    echo "==> fetching sample bars (PyPI package backtesting==0.6.6)"
    if ! python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$seed_dir" backtesting==0.6.6 \
      || ! python3 -m zipfile -e "$seed_dir"/backtesting-0.6.6-*.whl "$seed_dir/wheel"; then
      echo "run.sh: could not fetch the sample bars from PyPI; the daemon runs with an empty data directory." >&2
      echo "  hint: import your own with: ktrdrctl data import FILE --symbol S --timeframe TF" >&2
      return 1
    fi
  fi
  echo "==> importing $symbol $timeframe"
  "$ctl" data import "$seed_dir/wheel/backtesting/test/$file" --symbol "$symbol" --timeframe "$timeframe"
}
seed GOOG 1d GOOG.csv && seed EURUSD 1h EURUSD.csv || true

echo "==> ktrdrctl health"
"$ctl" health
echo
echo "==> ktrdrctl data list"
"$ctl" data list
echo
echo "==> ktrdrctl data show EURUSD 1h --tail 5"
"$ctl" data show EURUSD 1h --tail 5 || true
echo
echo "ktrdrctl is at $ctl (add $bin to PATH). Try: ktrdrctl ops demo --seconds 3; ktrdrctl stats; scripts/run.sh stop"
