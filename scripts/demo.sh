#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo workflow under mpirun (4 ranks, or
# PARSL_DEMO_RANKS): Monte Carlo estimates of pi
# in parallel tasks, then their mean in a task that depends on all of them.
# Extra arguments go to the demo (e.g. --tasks=16 --points=5000000 --parsl-threads=2).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
parsl_install_packages
parsl_build
mkdir -p "$PARSL_BUILD_DIR/demo"
cd "$PARSL_BUILD_DIR/demo"
"$PARSL_MPIRUN" -np "${PARSL_DEMO_RANKS:-4}" "$PARSL_BUILD_DIR/apps/examples/01_monte_carlo_pi" "$@"
latest=$(ls -1d runinfo/* | tail -n 1)
echo "run directory: $PWD/$latest (log: $latest/parsl.log)"
