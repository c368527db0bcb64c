#!/usr/bin/env bash
# parsl-run against GNU parallel on the same file of 10,000 `true` commands, side by side,
# medians of REPS runs (default 3). The floor is process start-up: a plain loop that spawns
# `bash -c true` one after another, spread over the machine's cores.
#   benchmarks/parsl_run_vs_parallel.sh           (RANKS="4 8" TASKS=10000 REPS=3)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
PARSL_PACKAGES+=(parallel)
parsl_install_packages
parsl_build
RANKS=${RANKS:-"4 8"}
TASKS=${TASKS:-10000}
REPS=${REPS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk -v n="$TASKS" 'BEGIN {for (i = 0; i < n; i++) print "true"}' > "$work/tasks.txt"
cores=$(nproc)
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rate() { awk -v n="$TASKS" -v s="$1" 'BEGIN {printf "%.0f", n / s}'; }

floor_runs=() ; declare -A ours theirs
for rep in $(seq "$REPS"); do
  t0=$(now); for _ in $(seq 1000); do /bin/bash -c true; done; t1=$(now)
  floor_runs+=("$(awk -v a="$t0" -v b="$t1" -v c="$cores" 'BEGIN {print (b - a) / 1000 / c}')")
  for np in $RANKS; do
    workers=$(( np - 1 ))  # on one machine every rank but rank 0 runs tasks
    t0=$(now)
    "$PARSL_MPIRUN" -np "$np" "$PARSL_BUILD_DIR/bin/parsl-run" --progress=off \
      --parsl-run-dir="$work/runinfo" "$work/tasks.txt" > /dev/null
    t1=$(now); ours[$np]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}') "
    t0=$(now); parallel -j "$workers" < "$work/tasks.txt"; t1=$(now)
    theirs[$np]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}') "
  done
done
per_task=$(printf '%s\n' "${floor_runs[@]}" | median)
floor_rate=$(awk -v p="$per_task" 'BEGIN {printf "%.0f", 1 / p}')
echo "floor: spawning bash -c true costs $(awk -v p="$per_task" -v c="$cores" 'BEGIN {printf "%.2f", p * c * 1000}') ms; on $cores cores at most $floor_rate commands/s"
echo "| ranks | workers | parsl-run (s) | tasks/s | GNU parallel -j workers (s) | tasks/s | parsl-run / parallel | parsl-run / floor |"
echo "|---|---|---|---|---|---|---|---|"
for np in $RANKS; do
  workers=$(( np - 1 ))
  a=$(echo ${ours[$np]} | tr ' ' '\n' | median); b=$(echo ${theirs[$np]} | tr ' ' '\n' | median)
  echo "| $np | $workers | $a | $(rate "$a") | $b | $(rate "$b") | $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2fx", b / a}') | $(awk -v r="$(rate "$a")" -v f="$floor_rate" 'BEGIN {printf "%.0f%%", 100 * r / f}') |"
done
