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

echo "==> building ktrdrd and ktrdrctl (release)"
cargo build --release --locked -p ktrdr-daemon -p ktrdr-ctl

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

echo "==> ktrdrctl health"
"$ctl" health
echo
echo "ktrdrctl is at $ctl (add $bin to PATH). Try: ktrdrctl ops demo --seconds 3; ktrdrctl stats; scripts/run.sh stop"
