#!/usr/bin/env bash
# The MPI executor against the peers a user would pick instead, in one run on one machine:
# mpi4py.futures' MPIPoolExecutor and Dask distributed's LocalCluster (Debian packages).
# Each figure is the median of REPS runs (default 3). Writes build/bench/mpi_peers.csv and
# prints a table with our ratio to each peer.
#
#   benchmarks/mpi_vs_peers.sh
#   RANKS="2 4 8 16" TASKS=100000 PEER_TASKS=10000 DASK_TASKS=3000 REPS=3 benchmarks/mpi_vs_peers.sh
#
# mpi4py runs under Open MPI whatever PARSL_MPI says: Debian builds python3-mpi4py against it.
# Peers get fewer tasks than we do (they are 20-500x slower per task; their rates are flat in
# the task count once warm), so a full run takes minutes, not hours.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
PARSL_PACKAGES+=(python3-mpi4py python3-distributed)
parsl_install_packages
parsl_build
RANKS=${RANKS:-"2 4 8 16"}
DASK_RANKS=${DASK_RANKS:-"2 4 8"}
TASKS=${TASKS:-100000}
PEER_TASKS=${PEER_TASKS:-10000}
DASK_TASKS=${DASK_TASKS:-3000}
FANIN=${FANIN:-10000}
DASK_FANIN=${DASK_FANIN:-2000}
LATENCY=${LATENCY:-2000}
PEER_LATENCY=${PEER_LATENCY:-500}
REPS=${REPS:-3}
out="$PARSL_BUILD_DIR/bench"
mkdir -p "$out"
raw="$out/mpi_peers_raw.csv"
: > "$raw"
perf="$PARSL_BUILD_DIR/bin/parsl-perf"
peers="$(dirname "$0")/peers"
runinfo=$(mktemp -d)
py=/usr/bin/python3
quiet=(--parsl-log-level=warning --parsl-run-dir="$runinfo")

for rep in $(seq "$REPS"); do
  echo "repetition $rep of $REPS" >&2
  for np in $RANKS; do
    "$PARSL_MPIRUN" -np "$np" "$perf" --csv --tasks="$TASKS" "${quiet[@]}" | sed 's/^/parsl,/' >> "$raw"
    "$PARSL_MPIRUN" -np "$np" "$perf" --csv --fan-in="$FANIN" "${quiet[@]}" | sed 's/^/parsl,/' >> "$raw"
    /usr/bin/mpirun.openmpi -np "$np" $py -m mpi4py.futures "$peers/mpi4py_bench.py" "$PEER_TASKS" "$PEER_LATENCY" "$FANIN" \
      | sed 's/^/mpi4py,/' >> "$raw"
  done
  "$PARSL_MPIRUN" -np 2 "$perf" --csv --latency="$LATENCY" "${quiet[@]}" | sed 's/^/parsl,/' >> "$raw"
  for np in $DASK_RANKS; do
    $py "$peers/dask_bench.py" "$np" "$DASK_TASKS" 200 "$DASK_FANIN" 2>/dev/null | sed 's/^/dask,/' >> "$raw"
  done
done
rm -rf "$runinfo"

$py - "$raw" "$out/mpi_peers.csv" <<'PY'
import csv, statistics, sys
from collections import defaultdict
rows = defaultdict(list)
for r in csv.reader(open(sys.argv[1])):
    who, kind, np_ = r[0], r[1], int(r[2])
    value = float(r[4]) if kind == "latency" else float(r[-1])  # p50 us, or tasks/s
    rows[(kind, np_, who)].append(value)
med = {k: statistics.median(v) for k, v in rows.items()}
with open(sys.argv[2], "w") as f:
    w = csv.writer(f)
    w.writerow(["measure", "ranks", "system", "median", "runs"])
    for (kind, np_, who), v in sorted(med.items()):
        w.writerow([kind, np_, who, f"{v:.2f}", len(rows[(kind, np_, who)])])
def cell(kind, np_, who):
    return med.get((kind, np_, who))
print("| measure | ranks | parsl-mpi | mpi4py.futures | Dask | vs mpi4py | vs Dask |")
print("|---|---|---|---|---|---|---|")
for kind, unit in (("throughput", "tasks/s"), ("fanin", "tasks/s"), ("latency", "us, median")):
    for np_ in sorted({k[1] for k in med if k[0] == kind}):
        p, m, d = cell(kind, np_, "parsl"), cell(kind, np_, "mpi4py"), cell(kind, np_, "dask")
        if p is None:
            continue
        def ratio(peer):
            if peer is None:
                return "-"
            return f"{(peer / p if kind == 'latency' else p / peer):.0f}x"
        fmt = lambda v: "-" if v is None else f"{v:,.0f}" if kind != "latency" else f"{v:,.1f}"
        print(f"| {kind} ({unit}) | {np_} | {fmt(p)} | {fmt(m)} | {fmt(d)} | {ratio(m)} | {ratio(d)} |")
PY
echo "CSV: $out/mpi_peers.csv (raw runs: $raw)"
