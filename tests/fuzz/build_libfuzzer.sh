#!/usr/bin/env bash
# Builds the fuzzing targets with clang's coverage-guided libFuzzer (Debian: clang,
# libclang-rt-14-dev) into OUT (default build-libfuzzer/), from the same sources as the
# suite's sanitizer build. Then, for example:
#   mkdir -p /tmp/new && build-libfuzzer/fuzz_wire -max_total_time=600 /tmp/new tests/fuzz/corpus/wire
# (new inputs go to the first folder, so the corpus in git stays as it is).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/build-libfuzzer}
mkdir -p "$out"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$root/serial/include" -I"$root/serial/src" -I"$root/runtime/include" -I"$root/mpi_exec/include"
       -I"$root/apps/tools" -I/usr/include/hdf5/serial)
sources=("$root/serial/src/codec.cpp" "$root/serial/src/error.cpp" "$root/serial/src/content_hash.cpp"
         "$root/serial/src/checkpoint_file.cpp" "$root/serial/src/text.cpp" "$root/runtime/src/file.cpp"
         "$root/mpi_exec/src/protocol.cpp" "$root/apps/tools/campaign.cpp" "$root/tests/fuzz/mutate.cpp"
         "$root/tests/fuzz/libfuzzer_support.cpp")
hdf5=$(pkg-config --libs hdf5-serial 2>/dev/null || echo "-L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5")
for target in wire task_file checkpoint; do
  clang++ "${flags[@]}" "$root/tests/fuzz/fuzz_$target.cpp" "${sources[@]}" $hdf5 -o "$out/fuzz_$target"
  echo "built $out/fuzz_$target"
done
