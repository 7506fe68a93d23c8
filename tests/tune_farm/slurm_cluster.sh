#!/bin/sh
# A single-node Slurm cluster on this machine, for the `m1c tune --runner "srun ..."` test
# (test_tune_farm.cpp). Needs root and Debian's slurmctld, slurmd, slurm-client and munge.
#   slurm_cluster.sh start DIR   munge key, munged (as user munge), slurm.conf naming this
#                                host, slurmctld and slurmd; waits until the node is idle.
#                                Everything lives under DIR, except munge's files: munged
#                                insists that no directory above its key be writable by
#                                others, so they go to a fresh directory in /tmp (named in
#                                DIR/munge.dir). Prints the SLURM_CONF to export.
#   slurm_cluster.sh stop DIR    stops the daemons by their pid files (never by name) and
#                                removes munge's directory.
set -eu
cmd=$1 dir=$2

stop_pid() {  # stop_pid PIDFILE NAME: SIGTERM, then SIGKILL after 10 s
  [ -s "$1" ] || return 0
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || return 0
  i=0
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then echo "slurm_cluster: $2 ($pid) ignored SIGTERM; killing it" >&2; kill -9 "$pid" 2>/dev/null || true; fi
    [ $i -gt 120 ] && break
    sleep 0.1
  done
}

if [ "$cmd" = stop ]; then
  stop_pid "$dir/slurmd.pid" slurmd
  stop_pid "$dir/slurmctld.pid" slurmctld
  if [ -s "$dir/munge.dir" ]; then
    munge_dir=$(cat "$dir/munge.dir")
    stop_pid "$munge_dir/munged.pid" munged
    case "$munge_dir" in /tmp/m1c-munge.*) rm -rf "$munge_dir" ;; esac
  fi
  exit 0
fi
[ "$cmd" = start ] || { echo "usage: slurm_cluster.sh start|stop DIR" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "slurm_cluster: needs root (the daemons run as root)" >&2; exit 1; }
for b in munged slurmctld slurmd srun sinfo; do
  command -v "$b" >/dev/null || { echo "slurm_cluster: $b not found (install munge slurmctld slurmd slurm-client)" >&2; exit 1; }
done

mkdir -p "$dir/state" "$dir/spool"
munge_dir=$(mktemp -d /tmp/m1c-munge.XXXXXX)
echo "$munge_dir" > "$dir/munge.dir"
chown munge:munge "$munge_dir"
chmod 755 "$munge_dir"   # clients (srun, the daemons) must reach the socket
# A fresh key, readable by munge only.
dd if=/dev/urandom of="$munge_dir/munge.key" bs=1024 count=1 2>/dev/null
chown munge:munge "$munge_dir/munge.key"
chmod 400 "$munge_dir/munge.key"
runuser -u munge -- munged --key-file="$munge_dir/munge.key" --socket="$munge_dir/munge.socket" \
  --pid-file="$munge_dir/munged.pid" --log-file="$munge_dir/munged.log" \
  --seed-file="$munge_dir/munged.seed"

# Two free TCP ports (the default 6817/6818 may be taken by a real cluster).
ports=$(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
ctld_port=${ports% *} d_port=${ports#* }
host=$(hostname -s)
cpus=$(nproc)
cat > "$dir/slurm.conf" <<CONF
ClusterName=m1ctest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$munge_dir/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=m1c Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
# Up when the node reports idle (seconds here; give it a minute on a loaded machine).
i=0
until [ "$(sinfo -h -N -o %t 2>/dev/null)" = idle ]; do
  i=$((i + 1))
  if [ $i -gt 600 ]; then
    echo "slurm_cluster: the node did not come up in 60 s; logs:" >&2
    tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
    exit 1
  fi
  sleep 0.1
done
echo "SLURM_CONF=$SLURM_CONF"
