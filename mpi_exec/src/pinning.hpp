#pragma once
// Internal: binding worker processes and placed tasks to cores with hwloc; what a node has.
#include <optional>
#include <string>
#include <vector>

#include "parsl/mpi_exec/placer.hpp"

namespace parsl::mpi::detail {

/// Binds this process to its share of the node's cores: `node_workers` workers share the
/// cores in hwloc's logical order (which keeps a share inside one NUMA node where it fits),
/// worker `local_worker` takes the consecutive block Machine::core_block gives. Sets
/// OMP_NUM_THREADS and PARSL_CORES to match. Returns a line for the log. Never throws:
/// a binding that fails is reported in the line and the worker runs unbound.
std::string pin_worker(int local_worker, int node_workers, bool pin);

/// This node's cores, NUMA domains, memory and GPUs (hwloc OS devices: CUDA or NVML, ROCm
/// SMI, Level Zero; the largest count of one kind). Never throws: what cannot be read is
/// left at its default.
NodeHardware measure_node();

/// The launcher a bash task's MPI program is started with: $PARSL_LAUNCHER (set by
/// parsl-submit's job scripts), else srun in a Slurm job, else the MPI library's own.
std::string task_launcher();
/// $PARSL_MPI_PREFIX for `ranks` ranks of `cores` cores on `hosts` (one per rank).
std::string mpi_prefix(int ranks, int cores, const std::vector<std::string>& hosts);

/// The environment a placed task's GPUs are named in, e.g. {"CUDA_VISIBLE_DEVICES", "0,1"}
/// for each of CUDA, ROCm and Level Zero.
std::vector<std::pair<std::string, std::string>> gpu_environment(const std::vector<std::int32_t>& gpus);

/// Binds the calling thread to a placed task's cores and sets OMP_NUM_THREADS, PARSL_CORES
/// and the GPU variables for it; apply(nullptr) restores the binding and variables as they
/// were. The worker is reserved for the task, so nothing else runs in the process meanwhile.
class TaskBinder {
 public:
  explicit TaskBinder(bool pin);
  ~TaskBinder();
  TaskBinder(const TaskBinder&) = delete;
  TaskBinder& operator=(const TaskBinder&) = delete;
  void apply(const Placement* p);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace parsl::mpi::detail
