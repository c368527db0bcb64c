#!/usr/bin/env bash
# parsl-scaling on example 01 at 1 and 2 workers, twice each: every run in runs.csv, a
# summary whose smallest size has speed-up and efficiency 1, and a plot with both curves.
# Then a command that fails (exit 1, the run named) and bad command lines (exit 2).
#   parsl_scaling_check.sh PARSL_SCALING EXAMPLE_01 LAUNCHER_ARGS
set -u
scaling=$1 example=$2 largs=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$scaling" --workers=2,1 --repeats=2 --launcher-args="$largs" --out="$work/s" -- \
  "$example" --points=200000 --tasks=4 --parsl-run-dir="$work/runinfo" > "$work/out" 2>&1 || { cat "$work/out"; fail "exit $?"; }
[ "$(wc -l < "$work/s/runs.csv")" -eq 5 ] || fail "runs.csv: $(cat "$work/s/runs.csv")"
[ "$(grep -c ',0$' "$work/s/runs.csv")" -eq 4 ] || fail "not every run exited 0: $(cat "$work/s/runs.csv")"
sed -n 2p "$work/s/summary.csv" | grep -q '^1,2,.*,1,1$' || fail "the smallest size is not the baseline: $(cat "$work/s/summary.csv")"
[ "$(wc -l < "$work/s/summary.csv")" -eq 3 ] || fail "summary.csv: $(cat "$work/s/summary.csv")"
[ "$(grep -c '<polyline' "$work/s/scaling.svg")" -eq 2 ] || fail "the plot lacks its two curves"
grep -q 'strong scaling of' "$work/out" || fail "no table: $(cat "$work/out")"
[ -s "$work/s/run-1-1.log" ] || fail "no log of the first run"

# {workers} in the command: weak scaling with work that grows with the size.
"$scaling" --workers=1,2 --repeats=1 --mode=weak --launcher-args="$largs" --out="$work/w" -- \
  "$example" --points=100000 --tasks={workers} --parsl-run-dir="$work/runinfo" > "$work/out" 2>&1 || fail "weak: $(cat "$work/out")"
grep -q 'weak scaling of' "$work/out" || fail "weak: no table"
grep -q 'mean of 2 estimates' "$work/w/run-2-1.log" || fail "weak: {workers} was not replaced: $(cat "$work/w/run-2-1.log")"
grep -q 'mean of 1 estimates' "$work/w/run-1-1.log" || fail "weak: {workers} was not replaced at 1"

# A failing command: every run recorded, exit 1, the run named.
"$scaling" --workers=1 --repeats=2 --launcher-args="$largs" --out="$work/f" -- false > "$work/out" 2>&1
[ $? -eq 1 ] || fail "a failing command did not give exit 1"
grep -q 'FAILED with exit' "$work/out" || fail "the failed run is not named: $(cat "$work/out")"
grep -q '2 of 2 runs failed' "$work/out" || fail "no count of failures: $(cat "$work/out")"

# Bad command lines.
for bad in "--workers=0 -- true" "--workers=1,x -- true" "--repeats=0 --workers=1 -- true" "--workers=1" "--mode=fast --workers=1 -- true" "--what -- true"; do
  # shellcheck disable=SC2086
  "$scaling" $bad > "$work/out" 2>&1
  [ $? -eq 2 ] || fail "'$bad' did not give exit 2"
  grep -q '^parsl-scaling: ' "$work/out" || fail "'$bad': no message"
done
echo "parsl-scaling: OK"
