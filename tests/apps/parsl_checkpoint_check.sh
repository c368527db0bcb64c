#!/usr/bin/env bash
# parsl-checkpoint against real checkpoints: two runs of a campaign (the second resumes the
# first and adds tasks), then list, count, merge, and a bad file.
#   parsl_checkpoint_check.sh PARSL_CHECKPOINT CHECKPOINT_CAMPAIGN
set -euo pipefail
tool=$1 campaign=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$campaign" "$work/runinfo" "$work/log" 1 30 > /dev/null
"$campaign" "$work/runinfo" "$work/log" 2 50 > /dev/null   # loads 30, runs 20 more
fail() { echo "FAIL: $*"; exit 1; }
[ "$("$tool" count "$work/runinfo/000/checkpoint")" = 30 ] || fail "run 1 should hold 30 results"
[ "$("$tool" count "$work/runinfo/000/checkpoint" "$work/runinfo/001/checkpoint")" = 50 ] || fail "both runs: 50 distinct"
"$tool" list "$work/runinfo/000/checkpoint" | grep -q "30 entries" || fail "list does not show 30 entries"
"$tool" merge "$work/all.h5" "$work/runinfo/000/checkpoint" "$work/runinfo/001/checkpoint" | grep -q "50 distinct" \
  || fail "merge did not report 50"
[ "$("$tool" count "$work/all.h5")" = 50 ] || fail "the merged file should hold 50"
echo "not hdf5" > "$work/bad.h5"
set +e
err=$("$tool" count "$work/bad.h5" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [[ "$err" == *"$work/bad.h5"* ]] || fail "a bad file must give exit 1 and its name (got $rc: $err)"
# A real segment with one byte changed: refused by name, never counted.
cp "$work/all.h5" "$work/altered.h5"
printf '\x01' | dd of="$work/altered.h5" bs=1 seek=$(( $(stat -c %s "$work/all.h5") - 7 )) conv=notrunc status=none
set +e
err=$("$tool" count "$work/altered.h5" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [[ "$err" == *"$work/altered.h5"*"fails its checksum"* ]] \
  || fail "an altered segment must give exit 1, its name and the checksum failure (got $rc: $err)"
"$tool" frobnicate x > /dev/null 2>&1 && fail "an unknown command must fail" || true
echo "ok: list, count, merge, a bad file and an altered segment"
