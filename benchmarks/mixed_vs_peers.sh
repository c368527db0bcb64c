#!/usr/bin/env bash
# Mixed task lengths, side by side in one run: parsl-mpi (benchmarks/mixed_workload),
# mpi4py.futures' MPIPoolExecutor and GNU parallel on the very same durations, with the
# same number of workers. Prints, per mix, each tool's makespan over the bound (the median of
# REPS runs, default 3) and writes build/bench/mixed_peers.csv.
#
#   benchmarks/mixed_vs_peers.sh                 (RANKS=8: 7 workers; REPS=3)
#
# Mixes (see benchmarks/mixed_workload.cpp): noop-then-long (2,000 no-ops, then 48 x 1 s;
# the long phase is timed), uniform (400 x U(0, 0.5 s)), heavy-tail (400 Pareto lengths).
# GNU parallel has no no-op warm-up phase (a no-op is a process start for it); it runs the
# long phase only.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
PARSL_PACKAGES+=(python3-mpi4py parallel)
parsl_install_packages
parsl_build
RANKS=${RANKS:-8}
REPS=${REPS:-3}
workers=$(( RANKS - 1 ))
out="$PARSL_BUILD_DIR/bench"
mkdir -p "$out"
raw="$out/mixed_peers_raw.csv"
: > "$raw"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
peers="$(dirname "$0")/peers"
bin="$PARSL_BUILD_DIR/benchmarks/mixed_workload"
now() { date +%s.%N; }

for rep in $(seq "$REPS"); do
  for mix in noop-then-long uniform heavy-tail; do
    echo "repetition $rep of $REPS: $mix" >&2
    line=$("$PARSL_MPIRUN" -np "$RANKS" "$bin" --mix="$mix" --csv --durations-out="$work/$mix.txt" \
      --parsl-log-level=warning --parsl-run-dir="$work/runinfo")
    bound=$(echo "$line" | cut -d, -f5)
    echo "parsl,$mix,$workers,$(echo "$line" | cut -d, -f4),$bound" >> "$raw"
    warm=0; [ "$mix" = noop-then-long ] && warm=2000
    m=$(/usr/bin/mpirun.openmpi --oversubscribe -np "$RANKS" /usr/bin/python3 -m mpi4py.futures \
      "$peers/mpi4py_mixed.py" "$work/$mix.txt" "$warm" | tail -1)
    echo "mpi4py,$mix,$workers,$m,$bound" >> "$raw"
    t0=$(now)
    parallel -j "$workers" sleep {} < "$work/$mix.txt"
    t1=$(now)
    echo "gnu-parallel,$mix,$workers,$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}'),$bound" >> "$raw"
  done
done

/usr/bin/python3 - "$raw" "$out/mixed_peers.csv" <<'PY'
import csv, statistics, sys
from collections import defaultdict
runs = defaultdict(list)
bounds = {}
for who, mix, workers, makespan, bound in csv.reader(open(sys.argv[1])):
    runs[(mix, who)].append(float(makespan))
    bounds[mix] = float(bound)
with open(sys.argv[2], "w") as f:
    w = csv.writer(f)
    w.writerow(["mix", "tool", "median_makespan_s", "bound_s", "ratio", "runs"])
    print(f"{'mix':16} {'tool':13} {'makespan':>9} {'bound':>7} {'ratio':>6}")
    for (mix, who), v in sorted(runs.items()):
        m = statistics.median(v)
        w.writerow([mix, who, f"{m:.3f}", f"{bounds[mix]:.3f}", f"{m / bounds[mix]:.3f}", len(v)])
        print(f"{mix:16} {who:13} {m:9.3f} {bounds[mix]:7.3f} {m / bounds[mix]:6.3f}")
PY
