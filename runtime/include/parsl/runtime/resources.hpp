#pragma once
/// @file
/// `Resources`: what a task asks for where it runs.

#include <cstdint>
#include <string>

namespace parsl {

/// What one try of a task needs where it runs (AppOptions and CallOptions give it). Cores,
/// GPUs and memory are per rank; `ranks` is more than 1 only for MPI apps
/// (parsl::mpi_app). A task that asks for nothing beyond one core is *plain*: it takes the
/// fast path (any worker, prefetched). Anything else is placed by rank 0 on workers whose
/// resources are free (docs/design.md, "Resources and MPI tasks").
struct Resources {
  int cores = 1;             ///< cores for each rank: bound with hwloc, OMP_NUM_THREADS
  int gpus = 0;              ///< GPUs for each rank: CUDA_VISIBLE_DEVICES and friends
  std::uint64_t memory = 0;  ///< bytes for each rank, counted against the node's memory
  int ranks = 1;             ///< MPI apps: ranks of the task's communicator
  bool plain() const noexcept { return cores == 1 && gpus == 0 && memory == 0 && ranks == 1; }
  /// "4 cores, 1 GPU, 2.0 GB per rank, 3 ranks", for messages.
  std::string describe() const;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(cores, gpus, memory, ranks);
  }
};

}  // namespace parsl
