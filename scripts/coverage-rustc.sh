#!/usr/bin/env bash
# RUSTC_WRAPPER for scripts/coverage-e2e.sh: instruments the workspace's own crates for LLVM source
# coverage and leaves dependencies (polars, tch, tokio, ...) plain, so the build stays smaller and the
# test runs and .profraw files stay small. Counter relocation lets the runtime keep counters in the
# mmapped .profraw as they change (continuous mode, `%c` in LLVM_PROFILE_FILE): the end-to-end tests
# stop ktrdrd with SIGKILL, which would otherwise lose everything the daemon ran.
rustc=$1
shift
# Build scripts are left plain too: they run during the build, where an instrumented one would drop a
# default.profraw into the crate directory.
case " $* " in *" --crate-name build_script_"*) exec "$rustc" "$@" ;; esac
case "${CARGO_MANIFEST_DIR:-}" in
  "$KTRDR_COVERAGE_WORKSPACE"/*)
    exec "$rustc" "$@" -Cinstrument-coverage -Cllvm-args=-runtime-counter-relocation ;;
  *)
    exec "$rustc" "$@" ;;
esac
