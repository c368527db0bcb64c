#!/usr/bin/env bash
# CPU used by each rank while the workflow has nothing to run: parsl-perf --idle holds the job
# idle for 4 s; we read each rank's utime+stime from /proc between seconds 1 and 3.
#   benchmarks/idle_cpu.sh [RANKS]     (default 4; oversubscribed is fine)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
np=${1:-4}
perf="$PARSL_BUILD_DIR/bin/parsl-perf"
tmp=$(mktemp -d)
"$PARSL_MPIRUN" -np "$np" "$perf" --idle=4 --parsl-run-dir="$tmp" --parsl-log-level=warning &
job=$!
sleep 1
pids=$(pgrep -f "$perf --idle" | grep -v "^$job$" | sort -n || true)
tick=$(getconf CLK_TCK)
declare -A before
for p in $pids; do before[$p]=$(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0); done
sleep 2
echo "rank_pid,cpu_percent_of_one_core_while_idle"
for p in $pids; do
  after=$(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0)
  awk -v a="$after" -v b="${before[$p]}" -v t="$tick" -v pid="$p" 'BEGIN{printf "%s,%.1f\n", pid, 100*(a-b)/t/2}'
done
wait "$job"
rm -rf "$tmp"
