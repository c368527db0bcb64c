#!/usr/bin/env bash
# Stopping a campaign stops its tasks: parsl-run runs two long shell tasks; the launcher (or
# parsl-run itself, with no launcher) gets SIGNAL, as from Ctrl-C (SIGINT) or scancel and batch
# walltimes (SIGTERM). Then no task process may be left running: bash tasks live in their own
# process groups, which the signal from a terminal or a launcher never reaches by itself. Each
# task also leaves a background child (`cmd &`), which must end too.
#   parsl_run_interrupt_check.sh PARSL_RUN SIGNAL [LAUNCHER ARGS...]
set -euo pipefail
parsl_run=$1 sig=$2
shift 2
launcher=("$@")
work=$(mktemp -d)
mark="sleep 3600.$$$RANDOM"  # what the task processes look like, unique to this test
cleanup() {
  pkill -9 -f -- "$mark" 2>/dev/null || true
  pkill -9 -f -- "$work/" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
printf '%s & %s; echo late >> %s\n' "$mark" "$mark" "$work/ran" "$mark" "$mark" "$work/ran" > "$work/tasks.txt"

# Job control on: without it bash starts background jobs with SIGINT ignored, which no
# terminal's Ctrl-C would do (and the ranks would inherit it).
set -m
"${launcher[@]}" "$parsl_run" --progress=off --parsl-run-dir="$work/runinfo" "$work/tasks.txt" \
  > "$work/out" 2>&1 &
pid=$!
set +m
for _ in $(seq 600); do  # both tasks and their background children started (at most 60 s)
  [ "$(pgrep -cf -- "$mark" || true)" -ge 4 ] && break
  kill -0 "$pid" 2>/dev/null || { echo "FAIL: parsl-run ended early:"; cat "$work/out"; exit 1; }
  sleep 0.1
done
[ "$(pgrep -cf -- "$mark" || true)" -ge 4 ] || { echo "FAIL: the tasks never started:"; cat "$work/out"; exit 1; }

kill "-$sig" "$pid"
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then echo "FAIL: parsl-run still runs 30 s after SIG$sig"; exit 1; fi
wait "$pid" 2>/dev/null || true
for _ in $(seq 50); do pgrep -f -- "$mark" > /dev/null || break; sleep 0.1; done
if pgrep -f -- "$mark" > /dev/null; then
  echo "FAIL: task processes outlived the stopped campaign:"; pgrep -af -- "$mark"; exit 1
fi
echo "ok: SIG$sig to ${launcher[0]:-parsl-run} stopped the campaign, both running tasks and their background children"
