#!/usr/bin/env bash
# A real one-node Slurm on this machine (slurmctld + slurmd + munged, Debian's packages): what
# parsl-submit's Slurm tests submit to (scripts/test.sh starts it and stops it again if it
# started it). Loopback only. What Slurm 22.05 does and prints here: docs/launch.md.
#
# Usage: slurm-local.sh start|stop|status        (as root)
#   start   installs slurm-wlm and munge if missing, starts munged, writes /etc/slurm/slurm.conf
#           (only over a file this script wrote), starts slurmctld then slurmd, waits until the
#           node is idle. Safe to run again: what already runs is left alone.
#   stop    cancels the jobs still in this cluster, then stops the daemons this script started,
#           found by its PID files (each checked against the daemon's name first).
#   status  the daemons, their PIDs and `sinfo`.
#   running exits 0 when this script's slurmctld answers (for callers that start and stop).
# Environment:
#   SLURM_LOCAL_BASE      state, spool, logs and PID files      [${TMPDIR:-/tmp}/slurm-local]
#   SLURM_LOCAL_CPUS      CPUs the node declares, whatever the real core count is (slurmd's
#                         config_overrides), so that a job can have more tasks than cores [8]
#   SLURM_LOCAL_KILLWAIT  seconds from SIGTERM to SIGKILL on scancel or time limit      [30]
#   SLURM_LOCAL_PORT      slurmctld's port; slurmd gets the next one                   [6817]
set -euo pipefail

base=${SLURM_LOCAL_BASE:-${TMPDIR:-/tmp}/slurm-local}
cpus=${SLURM_LOCAL_CPUS:-8}
killwait=${SLURM_LOCAL_KILLWAIT:-30}
port=${SLURM_LOCAL_PORT:-6817}
conf=/etc/slurm/slurm.conf
marker='# written by slurm-local.sh'
node=$(hostname -s)

say() { printf 'slurm-local: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# pid_of NAME PIDFILE: the PID in PIDFILE if that process is alive and is NAME, else nothing.
pid_of() {
  local pid comm
  [ -r "$2" ] || return 0
  pid=$(tr -dc 0-9 <"$2")
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 0
  comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
  [ "$comm" = "$1" ] && echo "$pid"
  return 0
}

# wait_for SECONDS CMD...: run CMD every half second until it succeeds.
wait_for() {
  local n=$(( $1 * 2 )); shift
  while [ "$n" -gt 0 ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5; n=$((n - 1))
  done
  return 1
}

# stop_daemon NAME PIDFILE: SIGTERM, then SIGKILL after 15 s; only the PID recorded in PIDFILE.
stop_daemon() {
  local pid n=30
  pid=$(pid_of "$1" "$2")
  if [ -z "$pid" ]; then rm -f "$2"; say "$1: not running (from $2)"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  while [ "$n" -gt 0 ] && [ -d "/proc/$pid" ]; do sleep 0.5; n=$((n - 1)); done
  if [ -d "/proc/$pid" ]; then say "$1 ($pid) ignored SIGTERM for 15 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$2"
  say "$1 ($pid) stopped"
}

munge_works() { timeout 5 munge -n </dev/null 2>/dev/null | timeout 5 unmunge >/dev/null 2>&1; }
ctld_up() { timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; }
node_state() { timeout 5 sinfo -h -n "$node" -o %T 2>/dev/null | head -1; }
queue_empty() { [ -z "$(timeout 5 squeue -h -o %A 2>/dev/null)" ]; }
node_ready() { case "$(node_state)" in idle|mixed|allocated|completing) return 0;; esac; return 1; }

install_packages() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
    && command -v srun >/dev/null && return 0
  say "installing slurm-wlm and munge"
  timeout 300 apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq slurm-wlm munge >/dev/null
}

start_munge() {
  if [ -n "$(pid_of munged "$base/munged.pid")" ]; then return 0; fi
  install -d -o munge -g munge -m 0755 /run/munge
  [ -d /var/log/munge ] || install -d -o munge -g munge -m 0700 /var/log/munge
  [ -d /var/lib/munge ] || install -d -o munge -g munge -m 0700 /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    install -d -o munge -g munge -m 0700 /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
      || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
  fi
  if munge_works; then say "munged: one not started by this script is running; using it"; return 0; fi
  # As the munge user, as Debian's unit does. --force: start although a stale socket is left.
  runuser -u munge -- munged --force
  wait_for 10 munge_works || die "munged did not start (see /var/log/munge/munged.log)"
  cp /run/munge/munged.pid "$base/munged.pid"
  say "munged started, PID $(cat "$base/munged.pid")"
}

write_conf() {
  local hw mem tmp
  hw=$(slurmd -C | head -1)
  mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
  tmp=$(mktemp)
  cat >"$tmp" <<EOF
$marker (base $base); start rewrites it, remove this line to keep your own.
ClusterName=local
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$base/state
SlurmdSpoolDir=$base/spool
SlurmctldPidFile=$base/slurmctld.pid
SlurmdPidFile=$base/slurmd.pid
SlurmctldLogFile=$base/log/slurmctld.log
SlurmdLogFile=$base/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=$killwait
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MaxArraySize=1001
# slurmd -C here: $hw
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus Boards=1 SocketsPerBoard=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=${mem:-1000} State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  if [ -e "$conf" ] && ! head -1 "$conf" | grep -qF "$marker"; then
    rm -f "$tmp"; die "$conf exists and was not written by this script; move it away first"
  fi
  if [ -e "$conf" ] && cmp -s "$tmp" "$conf"; then rm -f "$tmp"; return 1; fi
  install -d /etc/slurm
  install -m 0644 "$tmp" "$conf"; rm -f "$tmp"
  say "wrote $conf"
  return 0
}

start() {
  [ "$(id -u)" = 0 ] || die "run as root"
  if [ -e "$conf" ] && ! head -1 "$conf" | grep -qF "$marker"; then
    die "$conf exists and was not written by this script; move it away first"
  fi
  install_packages
  install -d -m 0755 "$base" "$base/state" "$base/spool" "$base/log"
  start_munge
  local changed=0
  write_conf && changed=1
  if [ "$changed" = 1 ] && { [ -n "$(pid_of slurmctld "$base/slurmctld.pid")" ] || [ -n "$(pid_of slurmd "$base/slurmd.pid")" ]; }; then
    say "configuration changed while the daemons run: restarting them"
    stop_daemon slurmd "$base/slurmd.pid"
    stop_daemon slurmctld "$base/slurmctld.pid"
  fi
  if [ -z "$(pid_of slurmctld "$base/slurmctld.pid")" ]; then
    ctld_up && die "a slurmctld not started by this script answers on port $port"
    slurmctld    # forks into the background and writes SlurmctldPidFile
    wait_for 30 ctld_up || die "slurmctld did not come up; see $base/log/slurmctld.log"
    say "slurmctld started, PID $(cat "$base/slurmctld.pid")"
  fi
  if [ -z "$(pid_of slurmd "$base/slurmd.pid")" ]; then
    slurmd       # likewise, SlurmdPidFile
    wait_for 15 test -s "$base/slurmd.pid" || die "slurmd did not start; see $base/log/slurmd.log"
    say "slurmd started, PID $(cat "$base/slurmd.pid")"
  fi
  if ! wait_for 30 node_ready; then
    say "node $node is '$(node_state)': resuming it"
    timeout 10 scontrol update NodeName="$node" State=RESUME || true
    wait_for 30 node_ready || die "node $node stays '$(node_state)'; see $base/log/slurmd.log"
  fi
  timeout 10 sinfo
}

stop() {
  [ "$(id -u)" = 0 ] || die "run as root"
  if [ -n "$(pid_of slurmctld "$base/slurmctld.pid")" ] && ctld_up; then
    local jobs
    jobs=$(timeout 10 squeue -h -o %A | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then
      say "cancelling jobs $jobs"
      # shellcheck disable=SC2086
      timeout 10 scancel $jobs || true
      wait_for $((killwait + 15)) queue_empty \
        || say "jobs still listed: $(timeout 5 squeue -h -o '%A %T' | tr '\n' ' ')"
    fi
  fi
  stop_daemon slurmd "$base/slurmd.pid"
  # A job step's slurmstepd can outlive slurmd (seen after a test suite: one step daemon
  # with no child left, waiting to report). This script owns the only Slurm here (it
  # refuses a slurm.conf it did not write), so every slurmstepd left is one of ours.
  local p n
  for p in $(pgrep -x -r D,R,S,T slurmstepd || true); do
    say "slurmstepd ($p) outlived slurmd: stopping it"
    kill -TERM "$p" 2>/dev/null || true
  done
  for n in $(seq 1 20); do pgrep -x -r D,R,S,T slurmstepd >/dev/null || break; sleep 0.5; done
  for p in $(pgrep -x -r D,R,S,T slurmstepd || true); do kill -KILL "$p" 2>/dev/null || true; done
  stop_daemon slurmctld "$base/slurmctld.pid"
  stop_daemon munged "$base/munged.pid"
}

status() {
  local d p
  for d in munged slurmctld slurmd; do
    p=$(pid_of "$d" "$base/$d.pid")
    printf '%-10s %s\n' "$d" "${p:-not running (from this script)}"
  done
  if ctld_up; then timeout 10 sinfo || true; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  running) [ -n "$(pid_of slurmctld "$base/slurmctld.pid")" ] && ctld_up ;;
  *) echo "usage: $0 start|stop|status|running" >&2; exit 2 ;;
esac
