#!/usr/bin/env bash
# The start-up lines of a large tree: 256 emulated nodes x 8 workers (2,048 workers, 2,303
# ranks with notes) on 6 ranks. Each sub-master passes up its share of about 1,024 lines and
# counts the rest; rank 0 logs what came and one line with the count. The two add up to every
# rank but the root, and the log stays near 1,024 start-up lines.
#   emulated_log_check.sh PARSL_PERF MPIEXEC NP_FLAG [EXTRA...]
set -u
perf=$1 mpiexec=$2 npflag=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$mpiexec" "$npflag" 6 "$@" "$perf" --parsl-mpi-emulate=256x8 --sleep=0.01 --tasks=100 --parsl-run-dir="$work/run" \
  > "$work/out" 2>&1 || { cat "$work/out"; fail "parsl-perf exited $?"; }
log=$work/run/000/parsl.log
logged=$(grep -c -E ': (emulated worker on node|worker on node|emulated sub-master of|sub-master of) ' "$log")
counted=$(sed -n 's/.* \([0-9]*\) start-up lines of workers and sub-masters were counted instead of logged.*/\1/p' "$log")
[ -n "$counted" ] || fail "no line with the count: $(grep -c . "$log") lines in the log"
[ $((logged + counted)) -eq 2303 ] || fail "$logged logged + $counted counted is not the 2,303 ranks below the root"
[ "$logged" -ge 900 ] && [ "$logged" -le 1400 ] || fail "$logged start-up lines logged, not about 1,024"
echo "start-up lines: $logged logged, $counted counted: OK"
