#!/usr/bin/env bash
# Moves the debug info of release binaries into a compressed file beside each one, so the binaries
# that run (and that `ktrdrctl daemon install` points the service at) stay small while backtraces
# keep their file:line:
#
#   bash scripts/split-debug.sh [BINARY...]     default: ktrdrd and ktrdrctl in the release dir
#
# For each BINARY: `objcopy --only-keep-debug --compress-debug-sections=zlib` writes BINARY.debug,
# then `objcopy --strip-debug --add-gnu-debuglink=BINARY.debug` removes the DWARF sections from the
# binary and records the file's name and CRC. The symbol table stays, so a backtrace always names
# its functions; Rust's backtrace printer follows the debug link (same directory, or `.debug/`, or
# /usr/lib/debug) for file and line. Copy BINARY.debug along with BINARY to keep line numbers.
#
# A binary with no DWARF sections is left alone, so running this twice, or after a `cargo build`
# that had nothing to do, changes nothing; after a rebuild that relinked a binary it splits again.
# Needs binutils' objcopy (Linux). On macOS cargo already keeps debug info out of the binary.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -eq 0 ]]; then
  bin=${CARGO_TARGET_DIR:-$PWD/target}/release
  set -- "$bin/ktrdrd" "$bin/ktrdrctl"
fi
if ! command -v objcopy >/dev/null; then
  echo "split-debug.sh: objcopy not found (Debian/Ubuntu: apt-get install binutils); binaries left as they are" >&2
  exit 0
fi

for exe in "$@"; do
  [[ -f "$exe" ]] || { echo "split-debug.sh: no such file: $exe" >&2; exit 1; }
  # Not `objdump | grep -q`: with pipefail, grep quitting early fails the pipe.
  # .debug_line, not any .debug_*: .debug_gdb_scripts stays in a stripped Rust binary.
  if [[ $(objdump -h "$exe") != *" .debug_line "* ]]; then
    echo "$exe: no debug info in the binary, left as it is"
    continue
  fi
  before=$(stat -c %s "$exe")
  objcopy --only-keep-debug --compress-debug-sections=zlib "$exe" "$exe.debug.tmp"
  mv "$exe.debug.tmp" "$exe.debug"
  objcopy --strip-debug --remove-section=.gnu_debuglink --add-gnu-debuglink="$exe.debug" "$exe"
  echo "$exe: $((before / 1048576)) MiB -> $(($(stat -c %s "$exe") / 1048576)) MiB; debug info in $(basename "$exe").debug ($(($(stat -c %s "$exe.debug") / 1048576)) MiB)"
done
