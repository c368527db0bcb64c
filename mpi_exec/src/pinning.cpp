#include "pinning.hpp"

#include <hwloc.h>

#include <cstdlib>
#include <string>

namespace parsl::mpi::detail {

std::string pin_worker(int local_worker, int node_workers, bool pin) {
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0) return "hwloc: cannot initialise the topology; not bound";
  struct Guard {
    hwloc_topology_t t;
    ~Guard() { hwloc_topology_destroy(t); }
  } guard{topo};
  if (hwloc_topology_load(topo) != 0) return "hwloc: cannot load the topology; not bound";
  const int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  if (cores <= 0) return "hwloc: no cores found; not bound";
  const int share = std::max(1, cores / std::max(1, node_workers));
  const int first = (local_worker * share) % cores;
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  std::string list;
  int numa = -1;
  for (int i = 0; i < share; ++i) {
    hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, static_cast<unsigned>((first + i) % cores));
    if (core == nullptr) continue;
    hwloc_bitmap_or(set, set, core->cpuset);
    list += (list.empty() ? "" : ",") + std::to_string(core->logical_index);
    if (numa < 0 && core->nodeset != nullptr) numa = hwloc_bitmap_first(core->nodeset);
  }
  setenv("OMP_NUM_THREADS", std::to_string(share).c_str(), 1);
  setenv("PARSL_CORES", list.c_str(), 1);
  std::string line = "cores " + list + " (NUMA node " + std::to_string(numa) + "), OMP_NUM_THREADS=" +
                     std::to_string(share) + ", " + std::to_string(node_workers) + " workers share " +
                     std::to_string(cores) + " cores";
  if (!pin) {
    line += "; not bound (pinning off)";
  } else if (hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_PROCESS) != 0) {
    line += "; binding failed, running unbound";
  } else {
    line += "; bound";
  }
  hwloc_bitmap_free(set);
  return line;
}

}  // namespace parsl::mpi::detail
