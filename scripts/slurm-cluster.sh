#!/usr/bin/env bash
# A one-node Slurm cluster for tests, in one directory, without systemd.
#
#   slurm-cluster.sh start DIR   write DIR/slurm.conf, start munged (if not running), slurmctld and
#                                slurmd, wait until the node is idle, print `export SLURM_CONF=...`
#   slurm-cluster.sh stop DIR    cancel DIR's jobs, stop its slurmd and slurmctld (munged stays: it
#                                is the machine's, shared with any other cluster)
#   slurm-cluster.sh env DIR     print `export SLURM_CONF=DIR/slurm.conf`
#
# Usage from a shell: eval "$(scripts/slurm-cluster.sh start /tmp/slurm)"; only the export line goes
# to stdout, progress and errors go to stderr.
#
# Needs root (the daemons run as SlurmUser=root, munged is started as user munge) and the packages
# from scripts/system-deps.sh. Slurm's ports are fixed (slurmctld 6817, slurmd 6818), so only one
# cluster runs at a time on a machine; `start` says which one holds the ports.
#
# Everything the cluster writes (pid files, spool, saved state, logs) is under DIR. A second `start`
# on the same DIR restarts the daemons, which recover the jobs saved in DIR/state.
set -euo pipefail

PATH=$PATH:/usr/sbin:/sbin
CTLD_PORT=6817
SLURMD_PORT=6818
START_TIMEOUT_S=15
STOP_TIMEOUT_S=10

say() { echo "slurm-cluster: $*" >&2; }
die() { say "$*"; exit 1; }

usage() {
  echo "usage: $0 start DIR | stop DIR | env DIR" >&2
  exit 2
}

need_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (slurmctld/slurmd run as SlurmUser=root and munged as user munge); try: sudo $0 $*"
}

need_tools() {
  local t
  for t in slurmctld slurmd sinfo squeue scancel munged munge unmunge; do
    command -v "$t" >/dev/null 2>&1 || die "$t is not installed: run scripts/system-deps.sh (as root)"
  done
}

# Whether a TCP port has a listener, from the kernel's tables (no dependency on ss or netstat).
port_listening() {
  local hex
  hex=$(printf '%04X' "$1")
  # Column 2 is local address:port in hex, column 4 the state; 0A is LISTEN.
  awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p && $4 == "0A" { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# pid from a pid file if that process is alive and is the named program (a recycled pid is not ours).
live_pid() {
  local file=$1 name=$2 pid
  [[ -f $file ]] || return 1
  pid=$(tr -dc '0-9' <"$file")
  [[ -n $pid ]] || return 1
  [[ -r /proc/$pid/comm ]] || return 1
  [[ $(cat "/proc/$pid/comm") == "$name"* ]] || return 1
  echo "$pid"
}

# Running, not merely a zombie waiting for a parent (pid 1 of a container may never reap it).
alive() {
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

stop_daemon() {
  local dir=$1 name=$2 pid i
  if ! pid=$(live_pid "$dir/$name.pid" "$name"); then
    rm -f "$dir/$name.pid"
    return 0
  fi
  say "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    say "$name (pid $pid) still running after ${STOP_TIMEOUT_S} s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.1; done
  fi
  rm -f "$dir/$name.pid"
}

# Jobs still running when slurmd stops would leave their slurmstepd and programs behind, so a
# stop cancels this cluster's jobs first and gives them a few seconds to end.
cancel_jobs() {
  local dir=$1 i
  live_pid "$dir/slurmctld.pid" slurmctld >/dev/null || return 0
  export SLURM_CONF=$dir/slurm.conf
  local jobs
  jobs=$(timeout 5 squeue -h -o %F 2>/dev/null | sort -u || true)
  [[ -n $jobs ]] || return 0
  say "cancelling jobs: $(echo $jobs)"
  # shellcheck disable=SC2086
  timeout 5 scancel $jobs 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    [[ -z $(timeout 5 squeue -h -o %F 2>/dev/null || true) ]] && return 0
    sleep 0.1
  done
  say "jobs still listed after 5 s: stopping anyway"
}

stop_cluster() {
  local dir=$1
  cancel_jobs "$dir"
  # slurmd first: it reports to slurmctld on the way down.
  stop_daemon "$dir" slurmd
  stop_daemon "$dir" slurmctld
}

write_conf() {
  local dir=$1 host=$2 cpus mem_mb real_mb
  cpus=$(nproc)
  mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
  # slurmd refuses to register (node DRAIN, "Low RealMemory") if the configured memory exceeds what
  # it measures, which can be a little below MemTotal: leave 5 %.
  real_mb=$((mem_mb * 95 / 100))
  cat >"$dir/slurm.conf" <<EOF
# Written by scripts/slurm-cluster.sh: a one-node test cluster, everything under $dir.
ClusterName=ktrdrtest
SlurmctldHost=$host
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
# A requeued job becomes eligible again cred_expire + 1 s after its requeue (default 120 s, minimum
# 5 s); tests requeue tasks and wait for their second run.
AuthInfo=cred_expire=10
# No cgroup set-up needed (and none available in containers).
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
# Start a submitted or freed-up job at once rather than batching the scheduling (default 3 s), and
# look at all pending jobs every 2 s (default 60 s): a requeued job waits for its BeginTime, and
# nothing else wakes the scheduler when that time comes.
SchedulerParameters=batch_sched_delay=0,sched_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmUser=root
SlurmdUser=root
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmdSpoolDir=$dir/spool
StateSaveLocation=$dir/state
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
# A finished job stays visible to scontrol show job this long (seconds).
MinJobAge=300
NodeName=$host CPUs=$cpus RealMemory=$real_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=batch Nodes=$host Default=NO MaxTime=INFINITE State=UP
EOF
}

ensure_munged() {
  [[ -f /etc/munge/munge.key ]] || { say "creating /etc/munge/munge.key"; mungekey -c; }
  chown munge:munge /etc/munge/munge.key 2>/dev/null || true
  mkdir -p /run/munge
  chown munge:munge /run/munge
  chmod 0755 /run/munge
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    return 0
  fi
  say "starting munged"
  runuser -u munge -- munged
  local i
  for ((i = 0; i < 50; i++)); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "munged does not answer (munge -n | unmunge fails); see /var/log/munge/munged.log"
}

show_logs() {
  local dir=$1 f
  for f in "$dir/slurmctld.log" "$dir/slurmd.log"; do
    [[ -f $f ]] || continue
    echo "---- tail of $f" >&2
    tail -n 20 "$f" >&2
  done
}

who_holds_ports() {
  local p
  for p in slurmctld slurmd; do
    pgrep -a -x "$p" | grep -v defunct >&2 || true
  done
}

start_cluster() {
  local dir=$1 host i state
  host=$(hostname -s)
  mkdir -p "$dir/spool" "$dir/state"
  stop_cluster "$dir"

  local port
  for port in $CTLD_PORT $SLURMD_PORT; do
    if port_listening "$port"; then
      say "port $port is in use, most likely by a Slurm cluster in another directory:"
      who_holds_ports
      die "stop it first (scripts/slurm-cluster.sh stop ITS_DIR, the directory of the -f slurm.conf above)"
    fi
  done

  write_conf "$dir" "$host"
  ensure_munged
  export SLURM_CONF=$dir/slurm.conf

  local t0=$SECONDS
  slurmctld -f "$SLURM_CONF" || { show_logs "$dir"; die "slurmctld did not start"; }
  slurmd -f "$SLURM_CONF" || { show_logs "$dir"; die "slurmd did not start"; }

  for ((i = 0; i < START_TIMEOUT_S * 5; i++)); do
    state=$(timeout 5 sinfo -h -N -n "$host" -o %T 2>/dev/null | head -n 1 || true)
    if [[ $state == idle || $state == mixed || $state == allocated ]]; then
      say "node $host $state after $((SECONDS - t0)) s (slurm.conf: $SLURM_CONF)"
      echo "export SLURM_CONF=$SLURM_CONF"
      return 0
    fi
    sleep 0.2
  done
  show_logs "$dir"
  die "node $host not idle after ${START_TIMEOUT_S} s (last state: '${state:-none}'); logs above"
}

[[ $# -eq 2 ]] || usage
cmd=$1
[[ -n $2 ]] || usage
dir=$(realpath -m -- "$2")

case $cmd in
  start)
    need_root "$@"
    need_tools
    start_cluster "$dir"
    ;;
  stop)
    need_root "$@"
    stop_cluster "$dir"
    ;;
  env)
    echo "export SLURM_CONF=$dir/slurm.conf"
    ;;
  *) usage ;;
esac
