#!/usr/bin/env bash
# kill -9 a whole mpirun job (the launcher and every rank) of a checkpointing campaign at
# random moments, rerun it each time, and check what the checkpoints promise:
#  - every segment stays readable (each run loads all earlier runs' segments, and fails
#    loudly on a bad one);
#  - a task reported durable (on_checkpoint) in run R is loaded by every later run that got
#    going, and never runs again;
#  - a task loaded in run R does not run in R or later;
#  - every task ran to success at least once, and the final total equals an uninterrupted
#    run's.
# Kills land at three kinds of moment, in turn: a random time after launch (often during MPI
# start-up), and twice a random point in the task phase (after a random number of tasks
# finished, at most half of those left, so that later runs still have work to be killed in).
# The last kill waits until every task of its run has finished, so it lands in the final
# checkpoint flush or the shutdown.
#   kill9_mpirun_check.sh PROGRAM KILLS N LAUNCHER [LAUNCHER ARGS...]
set -euo pipefail
prog=$1 kills=$2 n=$3
shift 3
launcher=("$@")
work=$(mktemp -d)
log=$work/log
tag="$work/runinfo"  # on every rank's command line: what pkill looks for
cleanup() {
  pkill -9 -f -- "$tag" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

expected=$(awk -v n="$n" 'BEGIN {s = 0; for (i = 0; i < n; i++) s += i * i; printf "%.0f", s}')
kill_job() {  # $1: mpirun's pid, also its process group (setsid)
  kill -9 -- "-$1" 2>/dev/null || true
  pkill -9 -f -- "$tag" 2>/dev/null || true  # ranks the launcher put in their own groups
  for _ in $(seq 200); do
    pgrep -f -- "$tag" > /dev/null || return 0
    sleep 0.05
  done
  echo "FAIL: processes of the killed job are still alive:"; pgrep -af -- "$tag"; exit 1
}

for run in $(seq "$kills"); do
  setsid "${launcher[@]}" "$prog" "$tag" "$log" "$run" "$n" > "$work/out.$run" 2>&1 &
  pid=$!
  disown "$pid"  # no "Killed" job notices; kill_job waits for the processes instead
  if (( run % 3 == 1 )); then
    sleep "$(awk -v r="$RANDOM" 'BEGIN {printf "%.3f", 0.05 + (r % 800) / 1000}')"
  else
    # Wait for the task phase, then kill after a random share of what is left has finished.
    for _ in $(seq 6000); do  # at most 60 s
      grep -q "^started $run\$" "$log" 2>/dev/null && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.01
    done
    left=$(( n - $(grep -c "^loaded $run " "$log" || true) ))
    target=$(( RANDOM % (left / 2 + 1) ))  # at most half: later runs have work left too
    (( run == kills )) && target=$left  # the last kill: once all is done, in the final flush and shutdown
    for _ in $(seq 6000); do
      (( $(grep -c "^done $run " "$log" || true) >= target )) && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.01
    done
  fi
  kill_job "$pid"
  echo "run $run: loaded $(grep -c "^loaded $run " "$log" || true), finished $(grep -c "^done $run " "$log" || true), reported durable $(grep -c "^durable $run " "$log" || true), then killed"
done

final=$((kills + 1))
"${launcher[@]}" "$prog" "$tag" "$log" "$final" "$n" > "$work/out.final" 2>&1 || {
  echo "FAIL: the final run failed:"; cat "$work/out.final"; exit 1; }
grep -q "^total $expected\$" "$work/out.final" || {
  echo "FAIL: the final run did not print 'total $expected':"; cat "$work/out.final"; exit 1; }

# The promises, over the whole log (runs are numbered in the order they ran).
awk -v n="$n" -v final="$final" '
  function fail(msg) { if (bad < 20) print msg; bad++ }
  $1 == "durable" { if (!($3 in durable) || $2 + 0 < durable[$3]) durable[$3] = $2 + 0; ndurable++ }
  $1 == "loaded"  { if (!($3 in loaded) || $2 + 0 < loaded[$3]) loaded[$3] = $2 + 0; isloaded[$2 " " $3] = 1 }
  $1 == "started" { started[$2] = 1 }
  $1 == "done"    { done[$2 " " $3] = 1; ran[$3]++; runs_of[$3] = runs_of[$3] " " $2 }
  END {
    for (t in durable)
      for (r = durable[t] + 1; r <= final; r++) {
        if ((r " " t) in done) fail("FAIL: task " t " was durable in run " durable[t] " but ran again in run " r)
        if ((r in started) && !((r " " t) in isloaded)) fail("FAIL: task " t " was durable in run " durable[t] " but run " r " did not load it")
      }
    for (t in loaded)
      for (r = loaded[t]; r <= final; r++)
        if ((r " " t) in done) fail("FAIL: task " t " was loaded in run " loaded[t] " but ran in run " r)
    missing = 0
    for (i = 0; i < n; i++) if (!(i in ran)) missing++
    if (missing) fail("FAIL: " missing " tasks never ran to success")
    # The test must have tested something: some kill landed after results were durable.
    killed_durable = 0
    for (t in durable) if (durable[t] < final) killed_durable++
    if (killed_durable == 0) fail("FAIL: no kill landed after a result was durable; the test tested nothing")
    again = 0
    for (t in ran) if (ran[t] > 1) again++
    loaded_final = 0
    for (i = 0; i < n; i++) if ((final " " i) in isloaded) loaded_final++
    if (bad) { print "FAIL: " bad " broken promises in all"; exit 1 }
    printf "ok: %d results made durable by killed runs were never rerun; %d tasks ran more than once (killed before durable); the final run loaded %d of %d\n", killed_durable, again, loaded_final, n
  }' "$log"
segments=$(find "$tag" -name 'seg-*.h5' | wc -l)
echo "ok: $kills kills of the whole job, $segments whole segments, total $expected"
