#!/usr/bin/env bash
# A one-node SLURM cluster on localhost (CPUs only), for the tests and for trying the SLURM path on a laptop.
#   bash slurm/local_cluster.sh start [STATE_DIR]    # prints the `export SLURM_CONF=...` to use it
#   bash slurm/local_cluster.sh stop  [STATE_DIR]    # stops the daemons it started (by their PIDs), nothing else
# Needs Debian's slurm-wlm and munge (apt-get install slurm-wlm munge) and root: the daemons run as root,
# in the foreground of their own sessions (no systemd), with every file under STATE_DIR.
set -euo pipefail
cmd=${1:-}
state=$(realpath -m "${2:-${IMDB_SLURM_STATE:-/tmp/imdb-slurm}}")
conf=$state/slurm.conf

stop() {
  [[ -f $state/pids ]] || return 0
  while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$state/pids"
  for _ in $(seq 50); do
    alive=0
    while read -r pid; do kill -0 "$pid" 2>/dev/null && alive=1; done < "$state/pids"
    [[ $alive == 0 ]] && break
    sleep 0.2
  done
  while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done < "$state/pids"
  rm -f "$state/pids"
}

start() {
  for exe in munged slurmctld slurmd sbatch; do
    command -v "$exe" >/dev/null || { echo "error: $exe not found; install it: apt-get install slurm-wlm munge" >&2; exit 1; }
  done
  [[ $(id -u) == 0 ]] || { echo "error: the local cluster's daemons run as root; run this as root" >&2; exit 1; }
  stop
  mkdir -p "$state"/{spool,ctld,log,munge}
  host=$(hostname -s)
  # The node as slurmd sees it (CPUs, sockets, memory): never declare more than exists.
  node=$(slurmd -C | head -1 | sed "s/^NodeName=[^ ]*/NodeName=$host NodeAddr=127.0.0.1/")
  [[ -f $state/munge/munge.key ]] || { dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none; chmod 400 "$state/munge/munge.key"; }
  cat > "$conf" <<CONF
ClusterName=imdblocal
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmctldPort=${IMDB_SLURMCTLD_PORT:-6817}
SlurmdPort=${IMDB_SLURMD_PORT:-6818}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$state/munge/munge.socket
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobRequeue=1
KillWait=5
MinJobAge=600
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
$node State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  : > "$state/pids"
  setsid munged -F --force --key-file="$state/munge/munge.key" --socket="$state/munge/munge.socket" \
    --pid-file="$state/munge/munged.pid" --log-file="$state/log/munged.log" --seed-file="$state/munge/munged.seed" \
    > "$state/log/munged.out" 2>&1 < /dev/null & echo $! >> "$state/pids"
  for _ in $(seq 50); do [[ -S $state/munge/munge.socket ]] && break; sleep 0.1; done
  setsid slurmctld -D -i -f "$conf" > "$state/log/slurmctld.out" 2>&1 < /dev/null & echo $! >> "$state/pids"
  setsid slurmd -D -f "$conf" -N "$host" > "$state/log/slurmd.out" 2>&1 < /dev/null & echo $! >> "$state/pids"
  for _ in $(seq 150); do
    if [[ $(SLURM_CONF=$conf sinfo -h -o %t 2>/dev/null) == idle ]]; then
      echo "export SLURM_CONF=$conf"
      return 0
    fi
    sleep 0.2
  done
  echo "error: the local SLURM node did not become idle; see $state/log/" >&2
  tail -5 "$state"/log/*.log >&2 || true
  stop
  exit 1
}

case $cmd in
  start) start ;;
  stop) stop ;;
  status) SLURM_CONF=$conf sinfo ;;
  *) echo "usage: $0 start|stop|status [STATE_DIR]" >&2; exit 2 ;;
esac
