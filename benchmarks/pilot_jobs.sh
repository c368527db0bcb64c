#!/usr/bin/env bash
# Pilot-job timings on the local Slurm (scripts/slurm-local.sh start first), as medians:
#   - parsl-submit to the first task running (a 40-task campaign), RUNS times;
#   - a job killed at its walltime vs a job that drains (150 tasks of 2 s, 1-minute jobs):
#     tasks re-run (and task-seconds), and the time from the end of job 1 to the first
#     task of job 2, RUNS_LONG times each.
# Usage: benchmarks/pilot_jobs.sh [BUILD_DIR]     (RUNS=5 RUNS_LONG=3 by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
runs=${RUNS:-5} runs_long=${RUNS_LONG:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
check() { bash "$root/tests/launch/slurm_check.sh" "$1" "$build/bin" "$work" "$build/tests/mpi_hello"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq 1 "$runs"); do check campaign | sed -n 's/.*first task running: \([0-9.]*\) s/\1/p'; done > "$work/first"
echo "parsl-submit to first task running, median of $runs: $(median < "$work/first") s  (all: $(tr '\n' ' ' < "$work/first"))"
for mode in walltime drain; do
  : > "$work/$mode.rerun"; : > "$work/$mode.gap"
  for _ in $(seq 1 "$runs_long"); do
    line=$(check "$mode" | grep measured)
    echo "  $line"
    sed -n 's/.*; \([0-9]*\) tasks re-run.*/\1/p' <<<"$line" >> "$work/$mode.rerun"
    sed -n "s/.*first task: \([0-9.]*\) s/\1/p" <<<"$line" >> "$work/$mode.gap"
  done
  echo "$mode: tasks re-run, median of $runs_long: $(median < "$work/$mode.rerun") (x 2 s each);" \
       "job 1 ended to job 2's first task: $(median < "$work/$mode.gap") s"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
