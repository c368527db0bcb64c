#!/usr/bin/env bash
# parsl-run --resume after kill -9 of the whole job (launcher and every rank), twice, in the
# task phase. Each task appends its number to a file, so executions are counted. Checks: the
# resumed run succeeds; the tasks it reports as skipped did not run in it; every task ran to
# success at least once; and each killed run's progress lines never promised more
# checkpointed results than the next run skipped.
#   parsl_run_kill9_check.sh PARSL_RUN N LAUNCHER [LAUNCHER ARGS...]
set -euo pipefail
parsl_run=$1 n=$2
shift 2
launcher=("$@")
work=$(mktemp -d)
# Everything of a job holds $work on its command line: the launcher and ranks (the task file)
# and the task commands (the file they append to). A SIGKILLed rank cannot stop the task
# processes it started, so they are killed too, as a batch system's cgroup would.
cleanup() {
  pkill -9 -f -- "$work/" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for i in $(seq "$n"); do echo "sleep 0.01; echo $i >> $work/ran"; done > "$work/tasks.txt"
touch "$work/ran"

run() {  # run ARGS...: parsl-run under the launcher, in its own session
  setsid "${launcher[@]}" "$parsl_run" --progress=bar --parsl-run-dir="$work/runinfo" "$@" "$work/tasks.txt"
}
skipped_before=0
for kill in 1 2; do
  run $([ "$kill" -gt 1 ] && echo --resume) > "$work/out.$kill" 2> "$work/err.$kill" &
  pid=$!
  disown "$pid"
  lines_before=$(wc -l < "$work/ran")
  target=$(( lines_before + 20 + RANDOM % (n / 4) ))
  for _ in $(seq 6000); do
    (( $(wc -l < "$work/ran") >= target )) && break
    kill -0 "$pid" 2>/dev/null || { echo "FAIL: run $kill ended before it was killed:"; cat "$work/out.$kill" "$work/err.$kill"; exit 1; }
    sleep 0.01
  done
  sleep 0.$(( RANDOM % 3 ))
  kill -9 -- "-$pid" 2>/dev/null || true
  pkill -9 -f -- "$work/" 2>/dev/null || true
  for _ in $(seq 200); do pgrep -f -- "$work/" > /dev/null || break; sleep 0.05; done
  sleep 0.05  # a task's sleep, orphaned by its killed bash, ends without writing
  # The last progress bar before the kill: "N/M done (C checkpointed), ..."
  promised=$(tr '\r' '\n' < "$work/err.$kill" | sed -n 's/.*done (\([0-9]*\) checkpointed).*/\1/p' | tail -1)
  echo "run $kill: killed after $(( $(wc -l < "$work/ran") - lines_before )) executions; it had reported ${promised:-0} results checkpointed"
  declare "promised_$kill=${promised:-0}"
done

lines_before=$(wc -l < "$work/ran")
run --resume > "$work/out.final" 2> "$work/err.final" || {
  echo "FAIL: the resumed run failed:"; cat "$work/out.final" "$work/err.final"; exit 1; }
summary=$(grep "tasks:" "$work/out.final")
read -r succeeded skipped < <(sed -n 's/.* \([0-9]*\) succeeded, 0 failed, \([0-9]*\) skipped.*/\1 \2/p' <<< "$summary")
[ -n "${succeeded:-}" ] || { echo "FAIL: unexpected summary: $summary"; exit 1; }
(( succeeded + skipped == n )) || { echo "FAIL: $succeeded + $skipped != $n: $summary"; exit 1; }
ran_now=$(( $(wc -l < "$work/ran") - lines_before ))
(( ran_now == succeeded )) || { echo "FAIL: the resumed run executed $ran_now tasks but reports $succeeded succeeded and $skipped skipped"; exit 1; }
(( skipped >= promised_2 )) || { echo "FAIL: the killed run reported $promised_2 checkpointed, the resumed run skipped only $skipped"; exit 1; }
(( skipped > 0 )) || { echo "FAIL: nothing was skipped: the kills tested nothing"; exit 1; }
distinct=$(sort -un "$work/ran" | wc -l)
(( distinct == n )) || { echo "FAIL: $distinct distinct tasks ran, expected $n"; exit 1; }
echo "ok: after 2 kills the resumed run skipped $skipped (promised at least $promised_2) and ran $succeeded; every task ran"
