#!/usr/bin/env bash
# Type-checks the bar store (the crate holding ktrdrd's platform calls) as if it were built off
# Linux: `--cfg ktrdr_nonlinux` selects the fallbacks in store/src/sys.rs, so a macOS build's side
# of every platform call is at least compiled here, where no Apple target's standard library is
# installed. It cannot show that the macOS build links, nor that the dependencies build there.
#   bash scripts/check-nonlinux.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo rustc --locked -p ktrdr-store --lib --profile check -- --cfg ktrdr_nonlinux -D warnings
