#!/usr/bin/env bash
# A private single-node Slurm on localhost for tests: munged, slurmctld and
# slurmd with their own config, sockets, ports and state in one folder.
#   source tests/slurm/slurm_env.sh; slurm_up DIR; ...; slurm_down
# Needs root and Debian's slurm-wlm and munge packages.

slurm_up() {
  SLURM_DIR=$1
  mkdir -p "$SLURM_DIR"/{state,spool,log}
  local host cpus mem ctld_port slurmd_port
  host=$(hostname -s)
  # two free ports, so that runs side by side (or a slurm already here) never clash
  read -r ctld_port slurmd_port < <(/usr/bin/python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
  cat > "$SLURM_DIR/slurm.conf" <<CONF
ClusterName=tkdtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$SLURM_DIR/munge.sock
CredType=cred/munge
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobRequeue=1
KillWait=30
MinJobAge=600
InactiveLimit=0
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
  : > "$SLURM_DIR/cgroup.conf"
  export SLURM_CONF=$SLURM_DIR/slurm.conf
  munged --force -S "$SLURM_DIR/munge.sock" --pid-file="$SLURM_DIR/munged.pid" \
    --log-file="$SLURM_DIR/log/munged.log" --seed-file="$SLURM_DIR/munge.seed" \
    --key-file=/etc/munge/munge.key || return 1
  slurmctld -i || return 1
  slurmd || return 1
  local i
  for i in $(seq 1 60); do
    if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then return 0; fi
    sleep 1
  done
  echo "slurm did not come up; logs in $SLURM_DIR/log" >&2
  return 1
}

slurm_down() {
  [ -n "${SLURM_DIR:-}" ] || return 0
  local f i ids pid
  # the private cluster's jobs first (a job step's slurmstepd outlives
  # slurmd); only ever this cluster's: never a real one's through its config
  ids=""
  [ "${SLURM_CONF:-}" = "$SLURM_DIR/slurm.conf" ] && ids=$(squeue -h -o %A 2>/dev/null || true)
  if [ -n "$ids" ]; then
    scancel --quiet $ids 2>/dev/null || true
    for i in $(seq 1 20); do
      [ -z "$(squeue -h -o %A 2>/dev/null || true)" ] && break
      sleep 0.5
    done
  fi
  for f in slurmd slurmctld munged; do
    [ -f "$SLURM_DIR/$f.pid" ] || continue
    pid=$(cat "$SLURM_DIR/$f.pid")
    kill "$pid" 2>/dev/null || continue
    for i in $(seq 1 20); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
  done
  return 0
}

# Start a requeued job now instead of after Slurm's requeue delay (its
# BeginTime, about two minutes). Not at once: slurmd refuses a credential
# issued in the same second as the revocation of the job's last attempt
# ("Job credential revoked", and the job fails), so wait 3 s first.
slurm_start_requeued() {
  sleep 3
  scontrol release "$1" 2>/dev/null || true
  scontrol update JobId="$1" StartTime=now 2>/dev/null || true
}

# Wait until a job (and every task of an array) has left the queue.
slurm_wait() {
  local id=$1 limit=${2:-300} i
  for i in $(seq 1 "$limit"); do
    squeue -h -j "$id" 2>/dev/null | grep -q . || return 0
    sleep 1
  done
  echo "job $id still queued after ${limit}s" >&2
  return 1
}
