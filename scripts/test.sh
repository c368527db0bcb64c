#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
# Extra arguments go to ctest (e.g. -R Scale).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
parsl_install_packages
parsl_build
ctest --test-dir "$PARSL_BUILD_DIR" --output-on-failure -j "${PARSL_JOBS:-2}" --timeout 600 "$@"
