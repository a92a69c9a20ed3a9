#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the local engine's Toil runner and the `cluster` tests.
#   scripts/slurm-local.sh start    configure and start munged (unless one answers), slurmctld and slurmd
#   scripts/slurm-local.sh stop     stop exactly the daemons `start` started (their PIDs are kept in a state file)
#   scripts/slurm-local.sh status   say whether it runs (exit 0) or not (exit 3)
# Root only (the daemons switch users); needs Debian's slurm-wlm and munge (scripts/setup.sh installs them as
# root). No systemd: the daemons are started directly. Finished jobs stay visible to `scontrol show job` for
# an hour (MinJobAge) and are logged to $JOBCOMP, which `sacct --completion` reads (no slurmdbd needed).
set -euo pipefail

STATE_DIR="${FEDIMPUTE_SLURM_STATE:-/run/fedimpute-slurm}"
STATE="$STATE_DIR/pids"
CONF=/etc/slurm/slurm.conf
JOBCOMP=/var/log/slurm/jobcomp.log
MARK="# written by fedimpute scripts/slurm-local.sh"
CLUSTER=fedimpute-local
HOST="$(hostname -s)"

die() { echo "slurm-local: $1" >&2; exit "${2:-1}"; }

need_root_and_packages() {
  [ "$(id -u)" = 0 ] || die "must run as root (it starts munged as munge and slurmctld/slurmd); use sudo" 1
  local prog
  for prog in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd /usr/bin/sinfo; do
    [ -x "$prog" ] || die "$prog is missing: apt-get install slurm-wlm munge (scripts/setup.sh does as root)" 2
  done
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# The PID recorded for a daemon name (munged, slurmctld, slurmd), if any.
recorded() { [ -f "$STATE" ] && sed -n "s/^$1=//p" "$STATE" | head -n1 || true; }

# Still our daemon? A recorded PID whose program has changed was reused by the system: leave it alone.
# (Debian's /usr/sbin/slurmctld is an alternatives link to slurmctld-wlm, hence readlink -f.)
ours() {
  local pid; pid="$(recorded "$1")"
  alive "$pid" && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$2")" ]
}

# Wait (polling) until a command succeeds; fail with a message naming the log after $2 seconds.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "$what did not come up within ${seconds}s; see /var/log/slurm and /var/log/munge"
    sleep 0.2
  done
}

pid_from() { [ -s "$1" ] && alive "$(cat "$1")" && cat "$1"; }

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
  install -d -o munge -g munge -m 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  if munge_ok; then return 0; fi  # a munged we did not start answers: use it, never stop it
  rm -f /run/munge/munged.pid
  su -s /bin/sh munge -c /usr/sbin/munged
  wait_for munged 20 munge_ok
  wait_for "munged's pid file" 10 pid_from /run/munge/munged.pid
  echo "munged=$(cat /run/munge/munged.pid)" >>"$STATE"
}

write_conf() {
  if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    die "$CONF exists and was not written by this script; move it away to let it configure a local cluster"
  fi
  local cpus mem
  cpus="$(nproc)"
  # RealMemory a bit below the machine's (MiB), so the node registers even with the kernel's share taken.
  mem=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
  install -d -m 0755 /etc/slurm
  install -d -o slurm -g slurm -m 0755 /var/spool/slurmctld /var/log/slurm
  install -d -m 0755 /var/spool/slurmd
  touch "$JOBCOMP" && chown slurm:slurm "$JOBCOMP"
  cat >"$CONF.tmp" <<EOF
$MARK
ClusterName=$CLUSTER
SlurmctldHost=$HOST
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=3600
DefMemPerCPU=1024
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$JOBCOMP
NodeName=$HOST CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$CONF.tmp" "$CONF"
}

start_daemon() {  # name, program, pid file
  if ours "$1" "$2"; then return 0; fi
  rm -f "$3"
  "$2"
  wait_for "$1" 30 pid_from "$3"
  echo "$1=$(cat "$3")" >>"$STATE"
}

cmd_start() {
  need_root_and_packages
  if running; then echo "slurm-local: already running"; return 0; fi
  install -d -m 0700 "$STATE_DIR"
  # Keep the PIDs of daemons from a half-done start that still run; forget the dead ones.
  local tmp; tmp="$(mktemp)"
  local name prog
  for name in munged:/usr/sbin/munged slurmctld:/usr/sbin/slurmctld slurmd:/usr/sbin/slurmd; do
    prog="${name#*:}"; name="${name%%:*}"
    if ours "$name" "$prog"; then echo "$name=$(recorded "$name")" >>"$tmp"; fi
  done
  mv "$tmp" "$STATE"
  start_munge
  write_conf
  start_daemon slurmctld /usr/sbin/slurmctld /run/slurmctld.pid
  start_daemon slurmd /usr/sbin/slurmd /run/slurmd.pid
  # idle, or busy with jobs recovered from the state folder of an earlier run
  wait_for "node $HOST (idle or busy in sinfo)" 60 node_idle_or_busy
  echo "slurm-local: running (node $HOST, $(nproc) CPUs; state in $STATE)"
}

running() { ours slurmctld /usr/sbin/slurmctld && ours slurmd /usr/sbin/slurmd && node_idle_or_busy; }

node_idle_or_busy() { sinfo -h -N -n "$HOST" -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated|completing)'; }

stop_pid() {  # name, program
  local pid; pid="$(recorded "$1")"
  ours "$1" "$2" || return 0
  kill -TERM "$pid"
  local deadline=$((SECONDS + 20))
  while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
}

cmd_stop() {
  need_root_and_packages
  [ -f "$STATE" ] || { echo "slurm-local: not started by this script (no $STATE)"; return 0; }
  stop_pid slurmd /usr/sbin/slurmd
  stop_pid slurmctld /usr/sbin/slurmctld
  stop_pid munged /usr/sbin/munged
  rm -f "$STATE"
  echo "slurm-local: stopped"
}

cmd_status() {
  need_root_and_packages
  if running; then
    echo "slurm-local: running (slurmctld $(recorded slurmctld), slurmd $(recorded slurmd), munged $(recorded munged || true))"
    sinfo -N -n "$HOST"
    return 0
  fi
  echo "slurm-local: not running"
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 64 ;;
esac
