#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo campaign under mpirun: a parameter
# sweep of 3,000 short commands feeding 30 reductions and a total (apps/examples/
# 03_parameter_sweep), through parsl-run, with its progress bar and summary.
# PARSL_DEMO_RANKS (default 4) sets the ranks; extra arguments go to parsl-run
# (e.g. --resume, --progress=lines).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
parsl_install_packages
parsl_build
demo="$PARSL_BUILD_DIR/demo"
rm -rf "$demo/sweep"
"$PARSL_ROOT/apps/examples/03_parameter_sweep/make_sweep.sh" "$demo/sweep" "${PARSL_DEMO_POINTS:-3000}" 30
cd "$demo"
"$PARSL_MPIRUN" -np "${PARSL_DEMO_RANKS:-4}" "$PARSL_BUILD_DIR/bin/parsl-run" "$@" sweep/sweep.jsonl
echo "result: $(cat sweep/result.txt)"
latest=$(ls -1d runinfo/[0-9]* | tail -n 1)
echo "run directory: $PWD/$latest (log: parsl.log, task logs: task_logs/)"
