#!/usr/bin/env bash
# Line coverage of the daemon (daemon/src, per module) counting both its own tests and the end-to-end
# tests in tests/, which run the real ktrdrd and ktrdrctl as separate processes. Not part of CI
# (.ci/run): a cold instrumented build takes 15-25 minutes on 2 cores. Figures: docs/coverage.md.
#
#   bash scripts/coverage-e2e.sh            build, run the tests, print the table
#   bash scripts/coverage-e2e.sh --report   only the table, from the profiles of the last run
#
# Why not scripts/coverage.sh (tarpaulin): its ptrace engine sees only the test process, not the
# ktrdrd and ktrdrctl it spawns, and the tests stop ktrdrd with SIGKILL, which loses an ordinary LLVM
# profile (written at exit). So this script uses LLVM source coverage directly:
# - the workspace's crates are built with -Cinstrument-coverage and counter relocation
#   (scripts/coverage-rustc.sh, a RUSTC_WRAPPER; dependencies stay plain), and every process writes
#   its counters continuously into its own file (LLVM_PROFILE_FILE=...%c%p.profraw), so a daemon
#   killed with SIGKILL keeps what it ran;
# - the profiles are merged and reported with llvm-profdata and llvm-cov of rustc's LLVM major
#   version, from Debian (`apt-get install llvm-NN`; rustup's llvm-tools cannot be downloaded here).
#
# Build directory: $KTRDR_COVERAGE_E2E_TARGET (default /var/tmp/ktrdr-coverage-e2e-target; about
# 2 GB), apart from the everyday target/ and from coverage.sh's. Profiles and reports:
# $KTRDR_COVERAGE_E2E_OUT (default $target/reports). Lines are llvm-cov's (lines with code), minus
# the daemon's test code (#[cfg(test)] modules); they are not the same lines tarpaulin counts.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

target=${KTRDR_COVERAGE_E2E_TARGET:-/var/tmp/ktrdr-coverage-e2e-target}
out=${KTRDR_COVERAGE_E2E_OUT:-$target/reports}
report_only=false
[[ "${1:-}" == --report ]] && report_only=true

llvm_major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
profdata=$(command -v "llvm-profdata-$llvm_major" || true)
llvmcov=$(command -v "llvm-cov-$llvm_major" || true)
# Installed from Debian when missing and we may (root, apt-get): the project installs what it needs.
if [[ (-z "$profdata" || -z "$llvmcov") && $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "==> installing llvm-$llvm_major from Debian (llvm-profdata, llvm-cov)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "llvm-$llvm_major" >&2 ||
    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "llvm-$llvm_major" >&2; } || true
  profdata=$(command -v "llvm-profdata-$llvm_major" || true)
  llvmcov=$(command -v "llvm-cov-$llvm_major" || true)
fi
if [[ -z "$profdata" || -z "$llvmcov" ]]; then
  echo "coverage-e2e.sh: needs llvm-profdata-$llvm_major and llvm-cov-$llvm_major (rustc uses LLVM $llvm_major):" \
    "apt-get install llvm-$llvm_major" >&2
  exit 2
fi

eval "$(bash scripts/setup-torch.sh)"
export CARGO_TARGET_DIR=$target
export RUSTC_WRAPPER=$root/scripts/coverage-rustc.sh
export KTRDR_COVERAGE_WORKSPACE=$root
# No debug info: llvm-cov reads the coverage mapping, not DWARF, and debug builds of ktrdrd are ~1 GB.
export CARGO_PROFILE_DEV_DEBUG=0
export CARGO_INCREMENTAL=0

packages=(-p ktrdr-daemon -p ktrdr-tests)
if ! $report_only; then
  # The end-to-end tests find ktrdrd and ktrdrctl beside their own executable (target/debug).
  nice -n 10 cargo build --locked -p ktrdr-daemon -p ktrdr-ctl --bins >&2
  nice -n 10 cargo test --locked --no-run "${packages[@]}" >&2
fi

# Test targets as "package kind name directory" (lib or test), from cargo's view of the workspace.
targets=$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, os, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] not in ("ktrdr-daemon", "ktrdr-tests"):
        continue
    d = os.path.dirname(p["manifest_path"])
    for t in p["targets"]:
        if "lib" in t["kind"] and p["name"] == "ktrdr-daemon":
            print(p["name"], "lib", t["name"], d)
        elif "test" in t["kind"]:
            print(p["name"], "test", t["name"], d)
')

prof=$out/profiles
failed=()
if ! $report_only; then
  rm -rf "$out"
  mkdir -p "$prof"
  # One test target at a time, its raw profiles (one per process: thousands of ktrdrctl runs) merged
  # right after it, so they never pile up on disk.
  while read -r pkg kind name dir; do
    echo "==> $pkg $kind $name" >&2
    raw=$out/raw/$name
    mkdir -p "$raw"
    # A process started without our environment (systemd-socket-activate passes only what -E
    # names) writes the runtime's default default_<id>_<pid>.profraw into its working directory, the
    # package's: those are collected too, and must not be left over from an earlier run.
    rm -f "$dir"/default_*.profraw
    sel=(--lib)
    [[ $kind == test ]] && sel=(--test "$name")
    if ! LLVM_PROFILE_FILE="$raw/%c%p.profraw" cargo test --locked -p "$pkg" "${sel[@]}" \
      >"$out/$pkg-$name.log" 2>&1; then
      failed+=("$pkg/$name")
      echo "    a test failed; see $out/$pkg-$name.log" >&2
    fi
    grep -E '^test result:' "$out/$pkg-$name.log" | sed 's/^/    /' >&2 || true
    for f in "$dir"/default_*.profraw; do [[ -e "$f" ]] && mv "$f" "$raw/"; done
    if compgen -G "$raw/*.profraw" >/dev/null; then
      find "$raw" -name '*.profraw' >"$raw.list"
      "$profdata" merge -sparse -f "$raw.list" -o "$prof/$pkg-$name.profdata"
    fi
    rm -rf "$raw" "$raw.list"
  done <<<"$targets"
fi

# Objects holding the coverage mapping: the two binaries and every test executable.
objects=("$target/debug/ktrdrd" "$target/debug/ktrdrctl")
while read -r exe; do objects+=("$exe"); done < <(
  cargo test --locked --no-run "${packages[@]}" --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])
')
obj_args=()
for o in "${objects[@]:1}"; do obj_args+=(-object "$o"); done

# Two reports over the same objects: the daemon's own tests only, and everything.
"$profdata" merge -sparse "$prof"/ktrdr-daemon-*.profdata -o "$out/daemon-only.profdata"
"$profdata" merge -sparse "$prof"/*.profdata -o "$out/all.profdata"
for which in daemon-only all; do
  "$llvmcov" export -format=lcov -instr-profile="$out/$which.profdata" "${objects[0]}" "${obj_args[@]}" \
    -ignore-filename-regex='/(\.cargo|\.rustup|rustc)/' >"$out/$which.lcov"
done

python3 - "$out" "$root" <<'PY'
import os, re, sys
out, root = sys.argv[1], sys.argv[2]
src = os.path.join(root, "daemon", "src")

def lcov(path):
    files = {}
    cur = None
    for line in open(path):
        if line.startswith("SF:"):
            cur = files.setdefault(os.path.normpath(line[3:].strip()), {})
        elif line.startswith("DA:") and cur is not None:
            n, c = line[3:].split(",")[:2]
            cur[int(n)] = max(cur.get(int(n), 0), int(c))
    return files

# Test code is not product code: whole files declared as `#[cfg(test)] mod x;` and the lines of
# `#[cfg(test)] mod x { ... }` blocks are left out (tarpaulin leaves tests out too).
def strip_strings(line):
    line = re.sub(r"'(\\.|[^'\\])'", "' '", line)          # char literals such as '{'
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    return line.split("//")[0]

test_files, test_lines = set(), {}
for dirpath, _, names in os.walk(src):
    for n in names:
        if not n.endswith(".rs"):
            continue
        path = os.path.join(dirpath, n)
        lines = open(path).read().split("\n")
        excl = set()
        i = 0
        while i < len(lines):
            if lines[i].strip() == "#[cfg(test)]" and i + 1 < len(lines):
                m = re.match(r"\s*(pub(\(\w+\))?\s+)?mod\s+(\w+)\s*(;|\{)", lines[i + 1])
                if m and m.group(4) == ";":
                    base = dirpath if n in ("mod.rs", "lib.rs", "main.rs") else os.path.join(dirpath, n[:-3])
                    for cand in (os.path.join(base, m.group(3) + ".rs"), os.path.join(base, m.group(3), "mod.rs")):
                        test_files.add(os.path.normpath(cand))
                elif m:
                    depth, j = 0, i + 1
                    while j < len(lines):
                        s = strip_strings(lines[j])
                        depth += s.count("{") - s.count("}")
                        excl.add(j + 1)
                        if depth <= 0 and "{" in strip_strings("".join(lines[i + 1:j + 1])):
                            break
                        j += 1
                    excl.add(i + 1)
                    i = j
            i += 1
        test_lines[os.path.normpath(path)] = excl

modules = ["cmd", "service", "host.rs", "data", "ib", "ops", "training", "backtest", "config", "strategy.rs"]
def module_of(rel):
    top = rel.split(os.sep)[0]
    if top in modules:
        return top
    if top[:-3] in modules and top.endswith(".rs"):   # config.rs-style parents of a directory
        return top[:-3]
    return "other"

def tally(files):
    per_file, per_mod = {}, {}
    for path, das in files.items():
        if not path.startswith(src + os.sep) or path in test_files:
            continue
        excl = test_lines.get(path, set())
        lines = {n: c for n, c in das.items() if n not in excl}
        cov, tot = sum(1 for c in lines.values() if c > 0), len(lines)
        rel = os.path.relpath(path, src)
        per_file[rel] = (cov, tot)
        m = module_of(rel)
        a, b = per_mod.get(m, (0, 0))
        per_mod[m] = (a + cov, b + tot)
    return per_file, per_mod

own_files, own_mods = tally(lcov(os.path.join(out, "daemon-only.lcov")))
all_files, all_mods = tally(lcov(os.path.join(out, "all.lcov")))
pct = lambda c, t: 100.0 * c / t if t else 100.0

with open(os.path.join(out, "summary.tsv"), "w") as tsv:
    tsv.write("unit\tcovered_all\tlines\tpct_all\tcovered_daemon_tests_only\tpct_daemon_tests_only\n")
    def row(name, a, o):
        print(f"{name:<26} {f'{a[0]}/{a[1]}':>12} {pct(*a):>7.2f}%   {f'{o[0]}/{o[1]}':>12} {pct(*o):>7.2f}%")
        tsv.write(f"{name}\t{a[0]}\t{a[1]}\t{pct(*a):.2f}\t{o[0]}\t{pct(*o):.2f}\n")
    print(f"{'daemon/src':<26} {'all tests':>21}   {'daemon tests only':>21}")
    for f in sorted(all_files):
        if f.startswith("service" + os.sep):
            row(f, all_files[f], own_files.get(f, (0, all_files[f][1])))
    for m in modules + ["other"]:
        if m in all_mods:
            row(m + ("/" if not m.endswith(".rs") and m != "other" else ""), all_mods[m], own_mods.get(m, (0, all_mods[m][1])))
    tot = lambda d: (sum(v[0] for v in d.values()), sum(v[1] for v in d.values()))
    row("daemon (all of src)", tot(all_mods), tot(own_mods))
PY
echo "per-file lcov: $out/all.lcov (all tests), $out/daemon-only.lcov; table: $out/summary.tsv" >&2

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "coverage-e2e.sh: failures in: ${failed[*]} (figures above are from the tests that ran)" >&2
  exit 1
fi
