#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
# Extra arguments go to ctest (e.g. -R Scale).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
parsl_install_packages
parsl_build
# The Slurm tests submit to a real one-node Slurm: start it unless it runs already, and stop
# afterwards only what this script started.
slurm_started=0
if ! "$PARSL_ROOT/scripts/slurm-local.sh" running 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    "$PARSL_ROOT/scripts/slurm-local.sh" start >/dev/null && slurm_started=1
  else
    echo "parsl: not root: the local Slurm cannot be started here, and the slurm.* tests will fail" >&2
  fi
fi
status=0
ctest --test-dir "$PARSL_BUILD_DIR" --output-on-failure -j "${PARSL_JOBS:-2}" --timeout 600 "$@" || status=$?
if [ "$slurm_started" = 1 ]; then "$PARSL_ROOT/scripts/slurm-local.sh" stop >/dev/null 2>&1 || true; fi
exit "$status"
