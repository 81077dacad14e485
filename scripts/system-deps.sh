#!/usr/bin/env bash
# Installs the Debian packages the end-to-end tests need, if they are missing:
#   systemd          systemd-analyze (unit verification) and systemd-socket-activate
#   libplist-utils   plistutil (checks the launchd plist with Apple's parser's cousin, libplist)
#   python3          plistlib, to read the plist's keys
#   prometheus       a real Prometheus server scraping ktrdrd's /metrics, and promtool
#                    (tests/tests/metrics.rs)
#   tmux             drives `ktrdrctl top` as a person would (tests/tests/top.rs)
#   chromium         headless browser that opens the charts' HTML (tests/tests/chart.rs)
#   node, npm        npm fetches lightweight-charts from the npm registry (scripts/fetch-charts-js.sh)
#   slurmctld, slurmd, slurm-client, munge
#                    a one-node Slurm cluster (scripts/slurm-cluster.sh) for slurm/tests/cluster.rs
# Idempotent: installs nothing, and runs no `apt-get update`, when everything is already there.
# Runs as root (CI) or through sudo when available. No systemd manager is needed or started.
set -euo pipefail

# The daemons (slurmctld, slurmd, munged) live in /usr/sbin, which a non-root PATH may lack.
PATH=$PATH:/usr/sbin:/sbin

# tool -> package that provides it
declare -A NEEDED=(
  [systemd-analyze]=systemd
  [systemd-socket-activate]=systemd
  [plistutil]=libplist-utils
  [python3]=python3
  [prometheus]=prometheus
  [promtool]=prometheus
  [tmux]=tmux
  [chromium]=chromium
  [node]=nodejs
  [npm]=npm
  [slurmctld]=slurmctld
  [slurmd]=slurmd
  [sbatch]=slurm-client
  [squeue]=slurm-client
  [munged]=munge
  [mungekey]=munge
)

missing=()
for tool in "${!NEEDED[@]}"; do
  if command -v "$tool" >/dev/null 2>&1; then
    echo "system-deps: $tool found at $(command -v "$tool")"
  else
    pkg=${NEEDED[$tool]}
    echo "system-deps: $tool missing (package $pkg)"
    [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "system-deps: nothing to install"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: no apt-get here; install these packages by hand: ${missing[*]}" >&2
  exit 1
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "system-deps: not root and no sudo; as root run: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "system-deps: ${as_root[*]:+${as_root[*]} }apt-get update"
"${as_root[@]}" apt-get update -qq
echo "system-deps: ${as_root[*]:+${as_root[*]} }apt-get install -y --no-install-recommends ${missing[*]}"
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

for tool in "${!NEEDED[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || { echo "system-deps: $tool still missing after install" >&2; exit 1; }
done
echo "system-deps: done"
