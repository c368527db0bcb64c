// The throughput model of docs/scaling.md: from measured per-task CPU costs at rank 0 and at a
// sub-master, and the real tree (Topology) at a given size and fan-out, the tasks per second
// the tree can move, the efficiency for tasks of a given length, and the times of the Parsl
// paper's two experiments.
//
//   scaling_model [--nodes=N] [--workers=W] [--root-us=C0] [--sub-us=CS] [--fanouts=16,32,...]
//
// C0: rank 0's CPU per task (the kernel's submission and completion and the root loop),
// measured with parsl-perf under emulation (two task counts, the difference). CS: a
// sub-master's CPU per task that passes through it (BM_SubMaster/512 of tree_costs, plus MPI).
// Each rank is assumed to have its own core, as on a real machine.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "parsl/mpi_exec/topology.hpp"

int main(int argc, char** argv) {
  long nodes = 32768, per = 32;
  double c0 = 1.0, cs = 0.5;
  std::vector<int> fanouts{16, 32, 64, 128, 256};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    const std::string k = a.substr(0, eq), v = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (k == "--nodes") nodes = std::atol(v.c_str());
    else if (k == "--workers") per = std::atol(v.c_str());
    else if (k == "--root-us") c0 = std::atof(v.c_str());
    else if (k == "--sub-us") cs = std::atof(v.c_str());
    else if (k == "--fanouts") {
      fanouts.clear();
      for (std::size_t at = 0; at < v.size();) {
        const std::size_t comma = std::min(v.find(',', at), v.size());
        fanouts.push_back(std::atoi(v.substr(at, comma - at).c_str()));
        at = comma + 1;
      }
    } else {
      std::fprintf(stderr, "scaling_model: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (nodes < 1 || per < 1 || c0 <= 0 || cs <= 0 || fanouts.empty()) {
    std::fprintf(stderr, "scaling_model: bad options\n");
    return 2;
  }
  std::vector<int> node_of;
  for (long n = 0; n < nodes; ++n)
    for (long w = 0; w <= per; ++w) node_of.push_back(static_cast<int>(n));
  std::printf("%ld nodes x %ld workers; rank 0 %.3f us/task, sub-master %.3f us/task\n", nodes, per, c0, cs);
  std::printf("fanout,depth,root_children,max_children,busiest_submaster_share,rank0_tasks_per_s,"
              "submaster_tasks_per_s,tree_tasks_per_s,efficiency_1s_tasks,strong_5000x1s_s,weak_10x1s_s\n");
  for (int f : fanouts) {
    const auto t = parsl::mpi::Topology::build(node_of, f, 0);
    std::size_t most = 0;
    double share = 0;  // the largest fraction of all workers below one sub-master of depth 1
    for (int r = 0; r < t.size(); ++r) {
      const auto& p = t.place(r);
      most = std::max(most, p.children.size());
      if (p.role == parsl::mpi::Role::submaster && p.depth == 1)
        share = std::max(share, static_cast<double>(p.capacity) / static_cast<double>(t.workers()));
    }
    const double root_rate = 1e6 / c0;
    const double sub_rate = share > 0 ? 1e6 / (cs * share) : root_rate;
    const double rate = std::min(root_rate, sub_rate);
    const double W = t.workers();
    const double eff = std::min(1.0, rate * 1.0 / W);
    // Strong: 5,000 tasks of 1 s; weak: 10 per worker. Each no shorter than its rounds of
    // 1 s, nor than the tasks at the tree's rate.
    const double strong = std::max(std::ceil(5000.0 / W), 5000.0 / rate);
    const double weak = std::max(10.0, 10.0 * W / rate);
    std::printf("%d,%d,%zu,%zu,%.3f,%.0f,%.0f,%.0f,%.3f,%.2f,%.2f\n", f, t.depth(), t.place(0).children.size(), most,
                share, root_rate, sub_rate, rate, eff, strong, weak);
  }
  return 0;
}
