#pragma once
// Internal: binding worker processes to cores with hwloc.
#include <string>

namespace parsl::mpi::detail {

/// Binds this process to its share of the node's cores: `node_workers` workers share the
/// cores in hwloc's logical order (which keeps a share inside one NUMA node where it fits),
/// worker `local_worker` takes the consecutive block at local_worker * share. Sets
/// OMP_NUM_THREADS and PARSL_CORES to match. Returns a line for the log. Never throws:
/// a binding that fails is reported in the line and the worker runs unbound.
std::string pin_worker(int local_worker, int node_workers, bool pin);

}  // namespace parsl::mpi::detail
