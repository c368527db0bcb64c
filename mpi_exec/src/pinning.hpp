#pragma once
// Internal: binding worker processes and placed tasks to cores with hwloc; what a node has.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "parsl/mpi_exec/placer.hpp"

namespace parsl::mpi::detail {

/// Binds this process to `block`, logical cores in hwloc's order (Machine::worker_block's
/// choice), when `pin`; sets OMP_NUM_THREADS and PARSL_CORES to match either way. Returns a
/// line for the log, which ends with `how` (how the block was chosen). Never throws: a
/// binding that fails is reported in the line and the worker runs unbound.
std::string pin_worker(const std::vector<int>& block, const std::string& how, bool pin);

/// The logical cores this process may run on now (its launcher's binding), in order; and
/// the node's core count in `node_cores`. Empty when hwloc cannot tell.
std::vector<int> bound_cores(int& node_cores);

/// The launcher's numbering of the ranks on this node (every rank of the job, the host
/// code's included): this rank's place and their count, from OMPI_COMM_WORLD_LOCAL_RANK and
/// _SIZE, MPI_LOCALRANKID and MPI_LOCALNRANKS (MPICH), or PMI_LOCAL_RANK and PMI_LOCAL_SIZE;
/// {-1, -1} when the launcher says nothing.
std::pair<int, int> launcher_local_rank();

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
