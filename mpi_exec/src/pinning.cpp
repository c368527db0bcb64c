#include "pinning.hpp"

#include <hwloc.h>
#include <mpi.h>  // OPEN_MPI or MPICH: which launcher a task's MPI program needs
#include <unistd.h>

#include "parsl/launch/launcher.hpp"

#include <cstdlib>
#include <cstring>
#include <string>

namespace parsl::mpi::detail {

namespace {
struct Topo {
  hwloc_topology_t t = nullptr;
  bool ok = false;
  explicit Topo(bool io = false) {
    if (hwloc_topology_init(&t) != 0) {
      t = nullptr;
      return;
    }
    if (io) hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
    ok = hwloc_topology_load(t) == 0;
  }
  ~Topo() {
    if (t != nullptr) hwloc_topology_destroy(t);
  }
  Topo(const Topo&) = delete;
  Topo& operator=(const Topo&) = delete;
};

std::string join(const std::vector<int>& v) {
  std::string out;
  for (int x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
  return out;
}
}  // namespace

std::string pin_worker(const std::vector<int>& block, const std::string& how, bool pin) {
  Topo topo;
  if (!topo.ok) return "hwloc: cannot load the topology; not bound";
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  int numa = -1;
  for (int c : block) {
    hwloc_obj_t core = hwloc_get_obj_by_type(topo.t, HWLOC_OBJ_CORE, static_cast<unsigned>(c));
    if (core == nullptr) continue;
    hwloc_bitmap_or(set, set, core->cpuset);
    if (numa < 0 && core->nodeset != nullptr) numa = hwloc_bitmap_first(core->nodeset);
  }
  const std::string list = join(block);
  const int share = std::max<int>(1, static_cast<int>(block.size()));
  setenv("OMP_NUM_THREADS", std::to_string(share).c_str(), 1);
  setenv("PARSL_CORES", list.c_str(), 1);
  std::string line = "cores " + list + " (NUMA node " + std::to_string(numa) + "), OMP_NUM_THREADS=" +
                     std::to_string(share) + ", " + how;
  if (!pin) {
    line += "; not bound (pinning off)";
  } else if (hwloc_bitmap_iszero(set) || hwloc_set_cpubind(topo.t, set, HWLOC_CPUBIND_PROCESS) != 0) {
    line += "; binding failed, running unbound";
  } else {
    line += "; bound";
  }
  hwloc_bitmap_free(set);
  return line;
}

std::vector<int> bound_cores(int& node_cores) {
  node_cores = 1;
  Topo topo;
  if (!topo.ok) return {};
  node_cores = std::max(1, hwloc_get_nbobjs_by_type(topo.t, HWLOC_OBJ_CORE));
  hwloc_bitmap_t mine = hwloc_bitmap_alloc();
  std::vector<int> out;
  if (hwloc_get_cpubind(topo.t, mine, HWLOC_CPUBIND_PROCESS) == 0)
    for (int c = 0; c < node_cores; ++c)
      if (hwloc_obj_t core = hwloc_get_obj_by_type(topo.t, HWLOC_OBJ_CORE, static_cast<unsigned>(c));
          core != nullptr && hwloc_bitmap_intersects(core->cpuset, mine))
        out.push_back(c);
  hwloc_bitmap_free(mine);
  return out;
}

std::pair<int, int> launcher_local_rank() {
  const std::pair<const char*, const char*> names[] = {{"OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"},
                                                       {"MPI_LOCALRANKID", "MPI_LOCALNRANKS"},
                                                       {"PMI_LOCAL_RANK", "PMI_LOCAL_SIZE"}};
  for (const auto& [rank_name, size_name] : names) {
    const char* r = std::getenv(rank_name);
    const char* n = std::getenv(size_name);
    if (r == nullptr || n == nullptr) continue;
    char* end_r = nullptr;
    char* end_n = nullptr;
    const long rank = std::strtol(r, &end_r, 10), size = std::strtol(n, &end_n, 10);
    if (*r != '\0' && *end_r == '\0' && *n != '\0' && *end_n == '\0' && rank >= 0 && rank < size && size < (1 << 20))
      return {static_cast<int>(rank), static_cast<int>(size)};
  }
  return {-1, -1};
}

NodeHardware measure_node() {
  NodeHardware hw;
  Topo topo(/*io=*/true);
  if (!topo.ok) return hw;
  hw.cores = std::max(1, hwloc_get_nbobjs_by_type(topo.t, HWLOC_OBJ_CORE));
  hw.numa = std::max(1, hwloc_get_nbobjs_by_type(topo.t, HWLOC_OBJ_NUMANODE));
  if (hwloc_obj_t root = hwloc_get_root_obj(topo.t)) hw.memory = root->total_memory;
  // One GPU can appear under several backends (a CUDA device is also an NVML and an OpenCL
  // one): count each kind and take the largest.
  int cuda = 0, nvml = 0, rsmi = 0, ze = 0;
  for (hwloc_obj_t d = hwloc_get_next_osdev(topo.t, nullptr); d != nullptr; d = hwloc_get_next_osdev(topo.t, d)) {
    if (d->name == nullptr) continue;
    const std::string name = d->name;
    if (d->attr->osdev.type == HWLOC_OBJ_OSDEV_COPROC && name.rfind("cuda", 0) == 0) ++cuda;
    if (d->attr->osdev.type == HWLOC_OBJ_OSDEV_GPU && name.rfind("nvml", 0) == 0) ++nvml;
    if (d->attr->osdev.type == HWLOC_OBJ_OSDEV_GPU && name.rfind("rsmi", 0) == 0) ++rsmi;
    if (name.rfind("ze", 0) == 0) ++ze;
  }
  hw.gpus = std::max({cuda, nvml, rsmi, ze});
  return hw;
}

std::vector<std::pair<std::string, std::string>> gpu_environment(const std::vector<std::int32_t>& gpus) {
  std::string list;
  for (std::int32_t g : gpus) list += (list.empty() ? "" : ",") + std::to_string(g);
  return {{"CUDA_VISIBLE_DEVICES", list}, {"ROCR_VISIBLE_DEVICES", list}, {"ZE_AFFINITY_MASK", list}};
}

std::string task_launcher() {
  // The pilot's launcher, as parsl-submit's job script names it; else what this job looks
  // like: a Slurm allocation, or the MPI library's own launcher.
  if (const char* l = std::getenv("PARSL_LAUNCHER"); l != nullptr && *l != '\0' && std::string(l) != "simple") {
    for (const auto& known : launch::launcher_names())
      if (known == l) return l;
  }
  if (std::getenv("SLURM_JOB_ID") != nullptr) return "srun";
#ifdef OPEN_MPI
  return "mpirun";
#else
  return "mpiexec";
#endif
}

std::string mpi_prefix(int ranks, int cores, const std::vector<std::string>& hosts) {
  const std::string name = task_launcher();
  std::string prefix = launch::make_launcher(name)->task_prefix(ranks, cores, hosts);
#ifdef PARSL_MPIEXEC
  // Chosen from the MPI library: its own launcher program, as found at build time (with
  // Open MPI and MPICH both installed, a bare `mpirun` may be the other one's).
  const char* chosen = std::getenv("PARSL_LAUNCHER");
  const bool detected = chosen == nullptr || *chosen == '\0' || std::string(chosen) == "simple";
  if (detected && (name == "mpirun" || name == "mpiexec") && ::access(PARSL_MPIEXEC, X_OK) == 0)
    prefix = std::string(PARSL_MPIEXEC) + prefix.substr(prefix.find(' '));
#endif
  return prefix;
}

struct TaskBinder::Impl {
  bool pin;
  Topo topo;
  hwloc_bitmap_t saved = nullptr;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_env;
  explicit Impl(bool p) : pin(p), topo(false) {}
  void set(const std::string& name, const std::string& value) {
    const char* old = std::getenv(name.c_str());
    saved_env.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    setenv(name.c_str(), value.c_str(), 1);
  }
};

TaskBinder::TaskBinder(bool pin) : impl_(new Impl(pin)) {}

TaskBinder::~TaskBinder() {
  if (impl_->saved != nullptr) hwloc_bitmap_free(impl_->saved);
  delete impl_;
}

void TaskBinder::apply(const Placement* p) {
  Impl& m = *impl_;
  if (p == nullptr) {
    if (m.saved != nullptr) {
      hwloc_set_cpubind(m.topo.t, m.saved, HWLOC_CPUBIND_THREAD);
      hwloc_bitmap_free(m.saved);
      m.saved = nullptr;
    }
    for (auto it = m.saved_env.rbegin(); it != m.saved_env.rend(); ++it) {
      if (it->second)
        setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        unsetenv(it->first.c_str());
    }
    m.saved_env.clear();
    return;
  }
  m.set("OMP_NUM_THREADS", std::to_string(p->task.res.cores));
  std::vector<int> cores(p->cores.begin(), p->cores.end());
  m.set("PARSL_CORES", join(cores));
  if (!p->gpus.empty())
    for (const auto& [name, value] : gpu_environment(p->gpus)) m.set(name, value);
  if (!p->hosts.empty()) {
    // A bash task's reserved ranks: the prefix that starts its MPI program on them. Its
    // thread stays unbound, or the program's ranks would inherit this one rank's cores.
    std::string hosts;
    for (const auto& h : p->hosts) hosts += (hosts.empty() ? "" : ",") + h;
    m.set("PARSL_MPI_PREFIX", mpi_prefix(static_cast<int>(p->hosts.size()), p->task.res.cores, p->hosts));
    m.set("PARSL_MPI_RANKS", std::to_string(p->hosts.size()));
    m.set("PARSL_MPI_HOSTS", hosts);
    return;
  }
  if (!m.pin || !m.topo.ok || cores.empty()) return;
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  for (int c : cores)
    if (hwloc_obj_t core = hwloc_get_obj_by_type(m.topo.t, HWLOC_OBJ_CORE, static_cast<unsigned>(c)))
      hwloc_bitmap_or(set, set, core->cpuset);
  m.saved = hwloc_bitmap_alloc();
  if (hwloc_get_cpubind(m.topo.t, m.saved, HWLOC_CPUBIND_THREAD) != 0 || hwloc_bitmap_iszero(set) ||
      hwloc_set_cpubind(m.topo.t, set, HWLOC_CPUBIND_THREAD) != 0) {
    hwloc_bitmap_free(m.saved);
    m.saved = nullptr;
  }
  hwloc_bitmap_free(set);
}

}  // namespace parsl::mpi::detail
