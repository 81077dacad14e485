#!/usr/bin/env bash
# Line coverage per crate, measured with cargo-tarpaulin (ptrace engine: no llvm-tools needed), and a
# table of the figures. Not part of CI (.ci/run): instrumented builds and traced test runs are slow.
# Figures and targets: docs/coverage.md. The daemon together with its end-to-end tests (which run
# ktrdrd and ktrdrctl as separate processes, invisible to ptrace): scripts/coverage-e2e.sh.
#
#   bash scripts/coverage.sh                          every workspace crate
#   bash scripts/coverage.sh market strategy backtest  some crates (directory or package name)
#
# cargo-tarpaulin is installed once from crates.io into $KTRDR_TOOLS (default ~/.cache/ktrdr/tools;
# about 12 minutes of compiling on 2 cores); later runs only check its version, so they work
# offline. Builds go to $KTRDR_COVERAGE_TARGET (default /var/tmp/ktrdr-coverage-target), outside the
# clone and apart from the normal target directory, because tarpaulin's RUSTFLAGS would otherwise
# force the everyday build to recompile everything. Reports (JSON per crate, summary.tsv) go to
# $KTRDR_COVERAGE_OUT (default $KTRDR_COVERAGE_TARGET/reports).
set -euo pipefail
cd "$(dirname "$0")/.."

tarpaulin_version=0.37.5
tools=${KTRDR_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/ktrdr/tools}
target=${KTRDR_COVERAGE_TARGET:-/var/tmp/ktrdr-coverage-target}
out=${KTRDR_COVERAGE_OUT:-$target/reports}
tarpaulin=$tools/bin/cargo-tarpaulin

if [[ "$("$tarpaulin" --version 2>/dev/null || true)" != "tarpaulin $tarpaulin_version" ]]; then
  echo "==> installing cargo-tarpaulin $tarpaulin_version into $tools (once)" >&2
  # Its own build directory: the install must not disturb (or be disturbed by) the project's.
  CARGO_TARGET_DIR="$target/tools-build" \
    cargo install --locked "cargo-tarpaulin@$tarpaulin_version" --root "$tools" >&2
fi

# Workspace members as "directory package" lines, from cargo's own view of the workspace.
members=$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, os, sys
meta = json.load(sys.stdin)
root = meta["workspace_root"]
for p in meta["packages"]:
    print(os.path.relpath(os.path.dirname(p["manifest_path"]), root), p["name"])
')

selected=()
if [[ $# -eq 0 ]]; then
  while read -r dir _; do selected+=("$dir"); done <<<"$members"
else
  for want in "$@"; do
    dir=$(awk -v w="$want" '$1 == w || $2 == w { print $1 }' <<<"$members")
    if [[ -z "$dir" ]]; then
      echo "coverage.sh: no workspace crate named $want; crates: $(awk '{ printf "%s ", $1 }' <<<"$members")" >&2
      exit 2
    fi
    selected+=("$dir")
  done
fi

# Crates that link libtorch (directly or through ktrdr-train), and the end-to-end tests, which run
# the real ktrdrd.
needs_torch() { [[ " daemon train tests benches " == *" $1 "* ]]; }
for dir in "${selected[@]}"; do
  if needs_torch "$dir"; then
    eval "$(bash scripts/setup-torch.sh)"
    break
  fi
done

export CARGO_TARGET_DIR=$target
mkdir -p "$out"
failed=()
for dir in "${selected[@]}"; do
  pkg=$(awk -v d="$dir" '$1 == d { print $2 }' <<<"$members")
  if [[ "$dir" == tests ]]; then
    # The end-to-end tests find ktrdrd and ktrdrctl beside their own executable (target/debug).
    cargo build --locked -p ktrdr-daemon -p ktrdr-ctl --bins >&2
  fi
  echo "==> $pkg" >&2
  mkdir -p "$out/$dir"
  # Benchmark drivers (src/bin/bench_*.rs) are run by the benchmark scripts, never by tests, so
  # they are left out of the denominator. A failing test does not stop the run: its crate's figure
  # is still printed, and the script exits non-zero at the end.
  if ! "$tarpaulin" tarpaulin --locked -p "$pkg" --skip-clean --no-fail-fast --timeout 600 \
    --exclude-files '*/src/bin/bench_*' --out Json --output-dir "$out/$dir" >"$out/$dir/log.txt" 2>&1; then
    failed+=("$dir")
    echo "    tarpaulin failed or a test failed for $pkg; see $out/$dir/log.txt" >&2
  fi
done

# Only the crate's own src/ files count towards its figure: tarpaulin's report also lists the
# workspace files its dependencies' code maps to.
python3 - "$out" "$PWD" "${selected[@]}" <<'PY'
import json, os, sys
out, root, crates = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = []
for crate in crates:
    report = os.path.join(out, crate, "tarpaulin-report.json")
    if not os.path.exists(report):
        rows.append((crate, None, None))
        continue
    covered = coverable = 0
    prefix = os.path.join(root, crate, "src") + os.sep
    for f in json.load(open(report))["files"]:
        path = os.path.join(*f["path"])
        if path.startswith(prefix):
            covered += f["covered"]
            coverable += f["coverable"]
    rows.append((crate, covered, coverable))
with open(os.path.join(out, "summary.tsv"), "w") as tsv:
    print(f"{'crate':<12} {'lines':>15} {'coverage':>9}")
    for crate, covered, coverable in rows:
        if covered is None:
            print(f"{crate:<12} {'no report':>15} {'-':>9}")
            tsv.write(f"{crate}\t\t\t\n")
            continue
        pct = 100.0 * covered / coverable if coverable else 100.0
        print(f"{crate:<12} {f'{covered}/{coverable}':>15} {pct:>8.2f}%")
        tsv.write(f"{crate}\t{covered}\t{coverable}\t{pct:.2f}\n")
PY

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "coverage.sh: failures in: ${failed[*]} (figures above are from the tests that ran)" >&2
  exit 1
fi
