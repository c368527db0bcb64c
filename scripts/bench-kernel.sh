#!/usr/bin/env bash
# Measures the kernel's cost per task and thread-pool throughput and latency (the numbers in
# docs/performance.md). Five repetitions; medians printed and written to build/bench/kernel.json.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
parsl_install_packages
parsl_build
mkdir -p "$PARSL_BUILD_DIR/bench"
"$PARSL_BUILD_DIR/benchmarks/kernel_bench" --benchmark_repetitions="${REPS:-5}" \
  --benchmark_report_aggregates_only=true --benchmark_out_format=json \
  --benchmark_out="$PARSL_BUILD_DIR/bench/kernel.json" | grep -E 'Benchmark|median|^-'
echo "JSON: $PARSL_BUILD_DIR/bench/kernel.json"
