#!/usr/bin/env bash
# Writes a parameter-sweep campaign for parsl-run: POINTS evaluations of a function (one
# short command each), grouped into GROUPS reductions that each depend on their points, and
# a final reduction that depends on every group.
#   make_sweep.sh OUTDIR [POINTS=3000] [GROUPS=30]  -> OUTDIR/sweep.jsonl
set -euo pipefail
out=${1:?usage: make_sweep.sh OUTDIR [POINTS] [GROUPS]}
points=${2:-3000}
groups=${3:-30}
mkdir -p "$out/points" "$out/groups"
out=$(cd "$out" && pwd)
awk -v n="$points" -v g="$groups" -v dir="$out" 'BEGIN {
  per = int((n + g - 1) / g)
  for (i = 0; i < n; i++) {
    # f(x) = x * sin(x) on [0, 10): each point writes its value to its own file.
    printf "{\"id\": \"p%d\", \"command\": \"awk \\\"BEGIN{x=%d*10/%d; printf \\\\\\\"%%.9f\\\\\\\\n\\\\\\\", x*sin(x)}\\\" > %s/points/%d.txt\", \"retries\": 1}\n", i, i, n, dir, i
  }
  for (k = 0; k < g; k++) {
    deps = ""; files = ""
    for (i = k * per; i < (k + 1) * per && i < n; i++) {
      deps = deps (deps == "" ? "" : ", ") "\"p" i "\""
      files = files " " dir "/points/" i ".txt"
    }
    printf "{\"id\": \"group%d\", \"command\": \"cat%s | awk \\\"{s += \\\\$1} END {printf \\\\\\\"%%.9f\\\\\\\\n\\\\\\\", s}\\\" > %s/groups/%d.txt\", \"depends\": [%s]}\n", k, files, dir, k, deps
  }
  deps = ""
  for (k = 0; k < g; k++) deps = deps (deps == "" ? "" : ", ") "\"group" k "\""
  printf "{\"id\": \"total\", \"command\": \"cat %s/groups/*.txt | awk \\\"{s += \\\\$1} END {printf \\\\\\\"integral of x sin x over [0,10): %%.6f (exact %%.6f)\\\\\\\\n\\\\\\\", s*10/%d, sin(10)-10*cos(10)}\\\" | tee %s/result.txt\", \"depends\": [%s]}\n", dir, n, dir, deps
}' > "$out/sweep.jsonl"
echo "$out/sweep.jsonl: $points points, $groups reductions, 1 total"
