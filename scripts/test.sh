#!/usr/bin/env bash
# Sets up and runs every test: system packages the tests use, formatting, lints, the build of the
# real binaries the end-to-end tests drive, then all tests of the workspace. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -x scripts/system-deps.sh || -f scripts/system-deps.sh ]]; then
  bash scripts/system-deps.sh
fi

# lightweight-charts for the charts' HTML (pinned, integrity-checked, cached; idempotent).
bash scripts/fetch-charts-js.sh >/dev/null

# libtorch for tch: PyPI torch in a per-user venv (idempotent; scripts/setup-torch.sh), and the environment torch-sys builds with.
eval "$(bash scripts/setup-torch.sh)"

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings

echo "==> cargo check of the daemon as if not on Linux (the fallbacks in store/src/sys.rs)"
bash scripts/check-nonlinux.sh

echo "==> cargo build (the binaries the end-to-end tests run)"
cargo build --locked --workspace --bins

echo "==> cargo test"
# A hung test must fail the run, not eat CI's 90 minutes: 40 minutes covers compiling the test
# targets from nothing and running them on 2 cores with a wide margin.
guard=()
command -v timeout >/dev/null && guard=(timeout --kill-after=30s 40m)
"${guard[@]}" cargo test --locked --workspace --all-targets --no-fail-fast
