#!/usr/bin/env bash
# A damaged checkpoint is refused, named, and nothing runs on it: parsl-run finishes a small
# campaign, one byte of one of its checkpoint segments is changed (then, in a second round,
# the segment is cut short and then replaced by a FIFO), and `--resume` must stop with a
# message naming the file and the problem, without running any task, without libhdf5's own
# diagnostics, and without hanging.
#   parsl_run_damaged_checkpoint_check.sh PARSL_RUN [LAUNCHER ARGS...]
set -euo pipefail
parsl_run=$1
shift
launcher=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
for i in $(seq 20); do echo "echo $i >> $work/ran.txt"; done > tasks.txt
"${launcher[@]}" "$parsl_run" --progress=off tasks.txt > first.out 2>&1 || { echo "FAIL: first run:"; cat first.out; exit 1; }
[ "$(wc -l < ran.txt)" -eq 20 ] || { echo "FAIL: first run ran $(wc -l < ran.txt) tasks"; exit 1; }
seg=$(ls runinfo/000/checkpoint/*.h5 | head -1)
size=$(stat -c %s "$seg")

resume_must_refuse() {  # WHAT EXPECTED_TEXT
  if timeout 100 "${launcher[@]}" "$parsl_run" --progress=off --resume tasks.txt > resume.out 2>&1; then
    echo "FAIL ($1): --resume succeeded on a damaged checkpoint:"; cat resume.out; exit 1
  fi
  grep -qF "$seg" resume.out || { echo "FAIL ($1): the message does not name $seg:"; cat resume.out; exit 1; }
  grep -qF "$2" resume.out || { echo "FAIL ($1): no '$2' in:"; cat resume.out; exit 1; }
  grep -qF "nothing was run" resume.out || { echo "FAIL ($1): no 'nothing was run':"; cat resume.out; exit 1; }
  if grep -q "HDF5-DIAG" resume.out; then echo "FAIL ($1): libhdf5 printed its diagnostics:"; cat resume.out; exit 1; fi
  [ "$(wc -l < ran.txt)" -eq 20 ] || { echo "FAIL ($1): tasks ran on a damaged checkpoint"; exit 1; }
  echo "ok ($1): $(grep -o 'checkpoint file [^;]*' resume.out | head -1)"
}

cp "$seg" "$work/good.h5"
printf '\x55' | dd of="$seg" bs=1 seek=$((size - 100)) conv=notrunc status=none
resume_must_refuse "one byte changed" "fails its checksum"
head -c $((size / 2)) "$work/good.h5" > "$seg"
resume_must_refuse "cut in half" "truncated"
rm -f "$seg"; mkfifo "$seg"
resume_must_refuse "a FIFO" "is not a regular file"

# Without a launcher (one process) the exit status is exactly 2: bad input, nothing ran.
head -c $((size / 2)) "$work/good.h5" > "$work/half.h5"; rm -f "$seg"; cp "$work/half.h5" "$seg"
set +e
"$parsl_run" --progress=off --resume tasks.txt > one.out 2>&1; rc=$?
set -e
[ "$rc" = 2 ] || { echo "FAIL: one-process --resume on a damaged checkpoint exited $rc, not 2:"; cat one.out; exit 1; }
[ "$(wc -l < ran.txt)" -eq 20 ] || { echo "FAIL: tasks ran on a damaged checkpoint (one process)"; exit 1; }
echo "ok: exit status 2 without a launcher"
