#!/usr/bin/env bash
# Installs the libtorch that tch 0.26 builds against: PyPI torch==2.13.0 in a venv at a stable per-user
# path, $KTRDR_TORCH_VENV or ~/.cache/ktrdr/venv-torch-2.13.0. Stable, not inside the clone: torch-sys
# bakes the library path into its build output and does not notice VIRTUAL_ENV changing, so a target
# directory reused by another clone (CI's cache) must keep finding libtorch at the same place.
# Idempotent (a second run only checks the version). PyPI is the only source: libtorch is not
# fetched from anywhere else. Prints the environment to export before any cargo command.
#
#   bash scripts/setup-torch.sh            install if missing, print the exports
#   eval "$(bash scripts/setup-torch.sh)"   same, and set them in this shell
set -euo pipefail
cd "$(dirname "$0")/.."

torch_version=2.13.0
venv=${KTRDR_TORCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/ktrdr/venv-torch-$torch_version}
mkdir -p "$(dirname "$venv")"

installed() {
  [[ -x "$venv/bin/python" ]] &&
    [[ "$("$venv/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null)" == "$torch_version" ]]
}

if ! installed; then
  echo "==> installing torch==$torch_version into $venv (about 1 minute and 4.7 GB)" >&2
  if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
  fi
  # The full package, not --no-deps: libtorch_cpu.so itself needs the CUDA runtime wheels.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "torch==$torch_version" >&2
  installed || { echo "setup-torch.sh: torch $torch_version did not import from $venv" >&2; exit 1; }
fi

cat <<ENV
export VIRTUAL_ENV=$venv
export PATH=$venv/bin:\$PATH
export LIBTORCH_USE_PYTORCH=1
ENV
