#!/usr/bin/env bash
# kill -9 a checkpointing campaign at random moments, then let it finish; check that every
# checkpoint stays readable, that no task runs in a run that loaded it from a checkpoint, and
# that the result equals an uninterrupted run's.   kill9_check.sh PROGRAM [KILLS=8] [N=2000]
set -euo pipefail
prog=$1 kills=${2:-8} n=${3:-2000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
expected=$(awk -v n="$n" 'BEGIN {s = 0; for (i = 0; i < n; i++) s += i * i; printf "%.0f", s}')
for run in $(seq "$kills"); do
  "$prog" "$work/runinfo" "$work/log" "$run" "$n" > /dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v r="$RANDOM" 'BEGIN {printf "%.3f", 0.05 + (r % 400) / 1000}')"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
out=$("$prog" "$work/runinfo" "$work/log" final "$n")
[ "$out" = "total $expected" ] || { echo "FAIL: final run printed '$out', expected 'total $expected'"; exit 1; }
# Every checkpoint left by the killed runs must be whole (the final run loaded them all,
# which fails loudly on a bad file); no stray segment may be half-written.
segments=$(find "$work/runinfo" -name 'seg-*.h5' | wc -l)
# A task loaded at the start of a run must not run in that run.
twice=$(awk '$1 == "loaded" {l[$2 " " $3] = 1} $1 == "ran" && l[$2 " " $3] {print}' "$work/log" | head -5)
[ -z "$twice" ] || { echo "FAIL: tasks ran although their run had loaded them from a checkpoint:"; echo "$twice"; exit 1; }
ran=$(awk '$1 == "ran" {print $3}' "$work/log" | sort -u | wc -l)
[ "$ran" -eq "$n" ] || { echo "FAIL: $ran distinct tasks ran, expected $n"; exit 1; }
loaded_final=$(awk '$1 == "loaded" && $2 == "final"' "$work/log" | wc -l)
echo "ok: $kills kills, $segments whole segments, final run loaded $loaded_final of $n results, total $expected"
