#!/usr/bin/env bash
# Monitoring's cost and its database at scale, as medians:
#   - no-op throughput (parsl-perf) with monitoring off and on, runs alternating, at 2 and 4
#     ranks, TASKS tasks, RUNS times each; the ratio on/off of the medians; bytes per task;
#   - runs of BIG tasks (default 1,000,000) off and on at 2 and 4 ranks: rates and peak
#     memory; then parsl-report --text three times on the last: its two queries ("tasks per
#     app and state", "the slowest 10 tries").
# Usage: benchmarks/monitoring.sh [BUILD_DIR]    (RUNS=3 TASKS=200000 BIG=1000000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
runs=${RUNS:-3} tasks=${TASKS:-200000} big=${BIG:-1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
perf() {  # perf RANKS on|off DIR: prints tasks/s as parsl-perf measures them (until the last
          # result), and tasks/s until the job ended (the database complete: the writer's last
          # records and its indexes), in two columns
  local start rate
  start=$(date +%s.%N)
  rate=$(mpirun -np "$1" "$build/bin/parsl-perf" --tasks="$tasks" --parsl-monitoring="$([ "$2" = on ] && echo true || echo false)" \
    --parsl-run-dir="$3" | sed -n 's/.* \([0-9]*\) tasks\/s$/\1/p')
  echo "$rate $(echo "$tasks / ($(date +%s.%N) - $start)" | bc)"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ranks in 2 4; do
  : > "$work/off"; : > "$work/on"
  for i in $(seq 1 "$runs"); do
    perf "$ranks" off "$work/off-$ranks-$i" >> "$work/off"
    perf "$ranks" on "$work/on-$ranks-$i" >> "$work/on"
  done
  off=$(cut -d' ' -f1 "$work/off" | median) on=$(cut -d' ' -f1 "$work/on" | median)
  off_job=$(cut -d' ' -f2 "$work/off" | median) on_job=$(cut -d' ' -f2 "$work/on" | median)
  bytes=$(stat -c %s "$work/on-$ranks-1/000/monitoring.db")
  echo "$ranks ranks, $tasks no-op tasks, until the last result: off $(cut -d' ' -f1 "$work/off" | tr '\n' ' ')|" \
       "on $(cut -d' ' -f1 "$work/on" | tr '\n' ' ')tasks/s; on/off of the medians $(echo "scale=2; $on / $off" | bc)"
  echo "$ranks ranks, $tasks no-op tasks, until the job ended: off $(cut -d' ' -f2 "$work/off" | tr '\n' ' ')|" \
       "on $(cut -d' ' -f2 "$work/on" | tr '\n' ' ')tasks/s; on/off of the medians $(echo "scale=2; $on_job / $off_job" | bc);" \
       "$(( bytes / (tasks + 1000) )) bytes per task"
done
# The big runs: a long campaign (the writer's sustained rate bounds it, not its queue), at 2
# and 4 ranks, off then on; the largest peak RSS of a rank (the writer's queue is bounded,
# its tasks not yet ended are not).
for ranks in 2 4; do
  line="$big no-op tasks, $ranks ranks:"
  for mode in false true; do
    rm -rf "$work/big-$mode"
    rate=$(/usr/bin/time -f "%M" -o "$work/rss-$mode" mpirun -np "$ranks" "$build/bin/parsl-perf" --tasks="$big" \
      --parsl-monitoring=$mode --parsl-run-dir="$work/big-$mode" | sed -n 's/.* \([0-9]*\) tasks\/s$/\1/p')
    line="$line monitoring $([ $mode = true ] && echo on || echo off) $rate tasks/s (peak RSS $(( $(cat "$work/rss-$mode") / 1024 )) MB),"
  done
  echo "$line"
done
mv "$work/big-true" "$work/big"
for i in 1 2 3; do "$build/bin/parsl-report" --text "$work/big/000" | grep '^queries:'; done
# Tasks of 10 ms (bash `sleep 0.01`, 600 of them on 2 workers): wall time off and on.
for i in $(seq 600); do echo "sleep 0.01"; done > "$work/sleeps.txt"
: > "$work/s.off"; : > "$work/s.on"
for i in $(seq 1 "$runs"); do
  for mode in off on; do
    start=$(date +%s.%N)
    mpirun -np 3 "$build/bin/parsl-run" $([ "$mode" = on ] && echo --monitoring) --progress=off \
      --parsl-run-dir="$work/sleeps-$mode-$i" "$work/sleeps.txt" > /dev/null
    echo "$(date +%s.%N) - $start" | bc >> "$work/s.$mode"
  done
done
echo "600 tasks of 10 ms, 3 ranks: off $(tr '\n' ' ' < "$work/s.off")| on $(tr '\n' ' ' < "$work/s.on")s;" \
     "medians $(median < "$work/s.off") / $(median < "$work/s.on") s"
