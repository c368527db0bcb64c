#!/usr/bin/env bash
# Nothing a task started outlives it: parsl-run runs tasks that leave background children
# (`cmd &`, `nohup cmd &`) and exit at once. When the campaign has ended normally, none of
# those children may still run. Then a program whose bash app keeps its daemon
# (AppOptions::keep_background_processes) ends normally: its daemon must end with it.
#   parsl_run_background_check.sh PARSL_RUN KEEP_DAEMON_PROGRAM [LAUNCHER ARGS...]
set -euo pipefail
parsl_run=$1 keep_daemon=$2
shift 2
launcher=("$@")
work=$(mktemp -d)
mark="sleep 3600.$$$RANDOM"
cleanup() {
  pkill -9 -f -- "$mark" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for i in 1 2 3 4; do
  printf '%s & nohup %s > /dev/null 2>&1 & echo started %s\n' "$mark" "$mark" "$i"
done > "$work/tasks.txt"
"${launcher[@]}" "$parsl_run" --progress=off --parsl-run-dir="$work/runinfo" "$work/tasks.txt" > "$work/out" 2>&1 \
  || { echo "FAIL: parsl-run failed:"; cat "$work/out"; exit 1; }
grep -q "4 tasks: 4 succeeded" "$work/out" || { echo "FAIL: unexpected summary:"; cat "$work/out"; exit 1; }
for _ in $(seq 50); do pgrep -f -- "$mark" > /dev/null || break; sleep 0.1; done
if pgrep -f -- "$mark" > /dev/null; then
  echo "FAIL: background children outlived their tasks and the campaign:"; pgrep -af -- "$mark"; exit 1
fi
echo "ok: 8 background children ended with their 4 tasks"

"$keep_daemon" "$mark" "$work/daemon.pid" > "$work/keep.out" 2>&1 || { echo "FAIL: keep_daemon:"; cat "$work/keep.out"; exit 1; }
grep -q "daemon still runs after its task" "$work/keep.out" || { echo "FAIL:"; cat "$work/keep.out"; exit 1; }
for _ in $(seq 50); do pgrep -f -- "$mark" > /dev/null || break; sleep 0.1; done
if pgrep -f -- "$mark" > /dev/null; then
  echo "FAIL: a kept daemon outlived its program:"; pgrep -af -- "$mark"; exit 1
fi
echo "ok: the kept daemon outlived its task and ended with its program"
