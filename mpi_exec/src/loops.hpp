#pragma once
// Internal: the loop each rank runs, by role. Each feeds a protocol class from MPI.
#include <functional>

#include "channel.hpp"
#include "parsl/mpi_exec/mpi_executor.hpp"
#include "parsl/mpi_exec/topology.hpp"
#include "parsl/runtime/logger.hpp"

namespace parsl::mpi::detail {

/// Worker and sub-master loops return 0 after a clean shutdown, 1 after shutdown_error.
int worker_loop(Channel& ch, const Topology& topo, const MpiOptions& opts);
int submaster_loop(Channel& ch, const Topology& topo, const MpiOptions& opts);

/// Rank 0: moves tasks from `exec` down the tree and events back to their handles until
/// `exec` is shut down with nothing in flight, then stops the tree. `exec` null: stop at
/// once. `failed()` says, at that moment, whether the stop is an error stop.
void root_loop(Channel& ch, const Topology& topo, MpiExecutor* exec, Logger* log,
               const std::function<bool()>& failed);

}  // namespace parsl::mpi::detail
