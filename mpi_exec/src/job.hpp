#pragma once
// Internal: the start of an MPI job that parsl::run and parsl::Session share (options, the
// start check of every rank, the tree), the loop of the ranks that serve tasks, and rank 0's
// kernel.
#include <mpi.h>

#include <memory>
#include <string>
#include <vector>

#include "channel.hpp"
#include "emulation.hpp"
#include "parsl/mpi_exec/mpi_executor.hpp"
#include "parsl/mpi_exec/run.hpp"
#include "parsl/mpi_exec/topology.hpp"
#include "parsl/runtime/config.hpp"
#include "parsl/runtime/data_flow_kernel.hpp"

namespace parsl::mpi::detail {

struct Job {
  MPI_Comm comm = MPI_COMM_NULL;
  OnFailure on_failure = OnFailure::abort_job;
  int rank = 0, size = 0;
  MpiOptions opts;
  MpiExecutor* exec = nullptr;  // rank 0: the configuration's MPI executor, if any
  std::unique_ptr<Channel> channel;
  Topology topo;
  std::vector<NodeHardware> hardware;  // rank 0: per node
  bool embedded = false;               // beside a host code: a Session, or parsl::run on part of the job
  std::vector<int> block;              // a worker: its cores (Machine::worker_block)
  std::string block_how;               // a worker: how they were chosen, for the log
  WorkerBlocks blocks;                   // rank 0: the workers' whose are not Machine::core_block's
  std::string error;                     // why the start or the run failed ("" if it did not)
  // --parsl-mpi-emulate: the plan, this rank's router, and (the root and the path's
  // sub-masters) its one virtual rank's link. `topo` is then the virtual tree.
  std::unique_ptr<EmulationPlan> plan;
  std::unique_ptr<Router> router;
  std::unique_ptr<VirtualLink> vlink;

  /// What the root and sub-master loops talk through: the channel, or the virtual link.
  Link& link() { return vlink ? static_cast<Link&>(*vlink) : static_cast<Link&>(*channel); }

  /// A final status as OnFailure says: returned, or (abort_job, not 0, more than one rank)
  /// the job aborted with it.
  int outcome(int status) const;
  /// Any other exception of the MPI layer on this rank: printed, and the job aborted.
  [[noreturn]] void abort(const std::exception& e) const;
};

/// What start_job returns for a communicator of one rank: no tree; the caller runs the
/// tasks on a local thread pool.
inline constexpr int kOneRank = -1;

/// Collective over `job.comm` (set it, `on_failure` and `embedded` first): options from
/// `config`, the start check (every rank present, the same settings, MPI's thread level:
/// MULTIPLE at rank 0 when `root_multiple`), then the tree and each worker's cores. Returns 0 when the tree is ready, kOneRank, or a
/// non-zero status that is the same on every rank, after rank 0 printed why (outcome() not
/// yet applied).
int start_job(Job& job, Config& config, bool root_multiple);

/// Ranks other than 0: the sub-master or worker loop until the tree stops. Returns
/// settle() of its status.
int serve(Job& job);

/// The end of a run, on every rank once the tree has stopped: with OnFailure::return_error,
/// rank 0's status and error text (`job.error`) go to every rank (a broadcast), so that all
/// return the same and can say why; then outcome().
int settle(Job& job, int status);

/// Rank 0: attaches the MPI executor (adding one when the configuration names no executor)
/// and starts the kernel, logging the tree. Null when the kernel cannot start (printed).
std::unique_ptr<DataFlowKernel> start_kernel(Job& job, Config config);

/// The one-rank fallback: the configuration's MPI executors become thread pools; a note
/// once per process (it suggests mpirun only when not `embedded`).
void make_local(Config& config, bool embedded);

}  // namespace parsl::mpi::detail
