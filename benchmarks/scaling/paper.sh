#!/usr/bin/env bash
# The Parsl paper's scaling experiments (Babuji et al., HPDC 2019, Blue Waters), through our
# real tree code under emulation (--parsl-mpi-emulate, docs/scaling.md), on this machine:
#   strong:     5,000 tasks of 1 s on 1,024 .. 262,144 workers (32 per node)
#   weak:       10 tasks of 1 s per worker, same sizes (2.6 million tasks at the top)
#   throughput: no-op tasks at 262,144 emulated workers against 64 real workers, same run
#   real:       the same tree with real ranks (2 .. 64, nodes of 4 ranks, fan-out 4) and
#               emulated, for strong, weak and no-op runs: do they agree?
# Every run is a line of results/runs.csv (with the machine's load); results/summary.csv has
# the medians, minima and maxima; the plots are results/*.png (gnuplot).
#
# Usage: benchmarks/scaling/paper.sh [BUILD_DIR]
#   REPEATS=3  RANKS=6 (real ranks that host the emulation)  SIZES="1024 ... 262144"
#   ONLY="strong weak throughput real" (a subset)  OUT=benchmarks/scaling/results
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
repeats=${REPEATS:-3} ranks=${RANKS:-6}
sizes=${SIZES:-"1024 2048 4096 8192 16384 32768 65536 131072 262144"}
only=${ONLY:-"strong weak throughput real"}
out=${OUT:-$here/results}
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
perf=$build/bin/parsl-perf
[ -x "$perf" ] || { echo "paper.sh: $perf not found: build first (scripts/build.sh)" >&2; exit 2; }
runs=$out/runs.csv
[ -s "$runs" ] || echo "experiment,mode,workers,real_ranks,repeat,tasks,task_seconds,seconds,tasks_per_s,rank0_peak_mib,rank0_messages,rank0_messages_per_s,load1" > "$runs"

# run EXPERIMENT MODE WORKERS REPEAT NP [parsl-perf options...]: one run, one line of runs.csv.
run() {
  local exp=$1 mode=$2 workers=$3 rep=$4 np=$5
  shift 5
  local log load
  load=$(cut -d' ' -f1 /proc/loadavg)
  log=$(timeout 900 mpirun -np "$np" "$perf" --csv --parsl-run-dir=none "$@" 2>&1) || {
    echo "paper.sh: run failed: mpirun -np $np parsl-perf $*" >&2
    echo "$log" | tail -20 >&2
    return 1
  }
  # scaling,np,workers,tasks,sleep,seconds,tasks/s,rss_kib | throughput,np,tasks,seconds,submit/s,tasks/s
  # emulation,...,root_in,root_out,...
  echo "$log" | awk -F, -v ex="$exp" -v mode="$mode" -v w="$workers" -v np="$np" -v rep="$rep" -v load="$load" '
    $1 == "scaling" { tasks = $4; ts = $5; secs = $6; rate = $7; mib = $8 / 1024 }
    $1 == "throughput" { tasks = $3; ts = 0; secs = $4; rate = $6; mib = "" }
    $1 == "emulation" { msgs = $8 + $9 }
    $1 == "rss" { mib = $2 / 1024 }
    END {
      if (secs == "") exit 1
      printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", ex, mode, w, np, rep, tasks, ts, secs, rate, mib,
             msgs, (msgs == "" ? "" : sprintf("%.0f", msgs / secs)), load
    }' >> "$runs"
  tail -1 "$runs"
}

# min_ranks NODESxWORKERS [options]: the fewest real ranks that can emulate that tree (2, or
# what the plan's error says it needs).
min_ranks() {
  local err
  err=$(timeout 120 mpirun -np 2 "$perf" --parsl-run-dir=none --parsl-mpi-emulate="$1" "${@:2}" --tasks=1 2>&1 >/dev/null) \
    && { echo 2; return; }
  echo "$err" | grep -o 'needs at least [0-9]*' | grep -o '[0-9]*$' | head -1 | grep . \
    || { echo "paper.sh: cannot tell how many ranks --parsl-mpi-emulate=$1 needs: $err" >&2; exit 1; }
}

for exp in $only; do
  case $exp in
    strong | weak)
      for w in $sizes; do
        for rep in $(seq 1 "$repeats"); do
          if [ "$exp" = strong ]; then
            run strong emulated "$w" "$rep" "$ranks" --parsl-mpi-emulate=$((w / 32))x32 --sleep=1 --tasks=5000
          else
            run weak emulated "$w" "$rep" "$ranks" --parsl-mpi-emulate=$((w / 32))x32 --sleep=1 --per-worker=10
          fi
        done
      done ;;
    throughput)
      # No-op tasks: 262,144 emulated workers, and 64 real workers (65 ranks) in the same run,
      # alternating.
      for rep in $(seq 1 "$repeats"); do
        run throughput emulated 262144 "$rep" "$ranks" --parsl-mpi-emulate=8192x32 --tasks=200000 --wait-workers
        run throughput real 64 "$rep" 65 --tasks=200000 --wait-workers
      done ;;
    real)
      # The same trees real and emulated: nodes of 4 ranks (a sub-master and 3 workers; rank
      # 0's node: the root and 3 workers), fan-out 4, so 64 ranks are 16 nodes and depth 3.
      for np in 2 4 8 16 32 64; do
        nodes=$(( np < 4 ? 1 : np / 4 )) per=$(( np < 4 ? np - 1 : 3 ))
        workers=$(( nodes * per ))
        # The emulated run on as few real ranks as its plan allows (the root, the path's
        # sub-masters, one host), so that at 2 and 4 ranks it has no more processes than
        # the real run on the 2 cores.
        ehost=$(min_ranks "${nodes}x${per}" --parsl-mpi-fanout=4)
        for rep in $(seq 1 "$repeats"); do
          for mode in real emulated; do
            if [ $mode = real ]; then
              common=(--parsl-mpi-ranks-per-node=4 --parsl-mpi-fanout=4); n=$np
            else
              common=(--parsl-mpi-emulate=${nodes}x${per} --parsl-mpi-fanout=4); n=$ehost
            fi
            run real-strong $mode "$workers" "$rep" "$n" "${common[@]}" --sleep=0.1 --tasks=64
            run real-weak $mode "$workers" "$rep" "$n" "${common[@]}" --sleep=0.1 --per-worker=10
            run real-noop $mode "$workers" "$rep" "$n" "${common[@]}" --tasks=50000 --wait-workers
          done
        done
      done ;;
    *) echo "paper.sh: unknown experiment '$exp' (strong weak throughput real)" >&2; exit 2 ;;
  esac
done

# Medians, minima and maxima per experiment, mode and size.
awk -F, 'NR > 1 { k = $1 "," $2 "," $3; n[k]++; s[k, n[k]] = $8; r[k, n[k]] = $9; m[k, n[k]] = $10; g[k, n[k]] = $12; keys[k] = 1 }
  function med(a, k, c,   i, j, t, v) { for (i = 1; i <= c; i++) v[i] = a[k, i] + 0
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2 }
  function lo(a, k, c,   i, x) { x = a[k, 1] + 0; for (i = 2; i <= c; i++) if (a[k, i] + 0 < x) x = a[k, i] + 0; return x }
  function hi(a, k, c,   i, x) { x = a[k, 1] + 0; for (i = 2; i <= c; i++) if (a[k, i] + 0 > x) x = a[k, i] + 0; return x }
  END { print "experiment,mode,workers,runs,seconds_median,seconds_min,seconds_max,tasks_per_s_median,rank0_peak_mib_median,rank0_messages_per_s_median"
    for (k in keys) printf "%s,%d,%.3f,%.3f,%.3f,%.0f,%.1f,%.0f\n", k, n[k], med(s, k, n[k]), lo(s, k, n[k]), hi(s, k, n[k]),
      med(r, k, n[k]), med(m, k, n[k]), med(g, k, n[k]) }' "$runs" | sort -t, -k1,1 -k2,2 -k3,3n > "$out/summary.csv"
echo "paper.sh: $out/summary.csv"
bash "$here/plot.sh" "$out"
