#pragma once
// Internal: the loop each rank runs, by role. Each feeds a protocol class from MPI.
#include <functional>
#include <string>
#include <vector>

#include "channel.hpp"
#include "parsl/mpi_exec/mpi_executor.hpp"
#include "parsl/mpi_exec/topology.hpp"
#include "parsl/runtime/logger.hpp"

namespace parsl::mpi::detail {

/// Worker and sub-master loops return 0 after a clean shutdown, 1 after shutdown_error.
/// `block`: the worker's cores (Machine::worker_block), `how` they were chosen, for the log.
int worker_loop(Channel& ch, const Topology& topo, const MpiOptions& opts, const std::vector<int>& block,
                const std::string& how);
int submaster_loop(Channel& ch, const Topology& topo, const MpiOptions& opts);

/// Rank 0: moves tasks from `exec` down the tree and events back to their handles until
/// `exec` is shut down with nothing in flight, then stops the tree. `exec` null: stop at
/// once. `failed()` says, at that moment, whether the stop is an error stop.
void root_loop(Channel& ch, const Topology& topo, MpiExecutor* exec, Logger* log,
               const std::function<bool()>& failed);

}  // namespace parsl::mpi::detail
