#include "emulation.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <numeric>
#include <unordered_map>

#include "parsl/runtime/errors.hpp"

namespace parsl::mpi {

namespace {
struct Declared {
  std::mutex mutex;
  std::unordered_map<std::string, EmulatedRun> runs;
  std::optional<EmulationSummary> last;
};
Declared& declared() {
  static Declared d;
  return d;
}
}  // namespace

void emulate_app(const std::string& name, EmulatedRun run) {
  auto& d = declared();
  std::lock_guard lock(d.mutex);
  d.runs[name] = std::move(run);
}

std::optional<EmulationSummary> last_emulation() {
  auto& d = declared();
  std::lock_guard lock(d.mutex);
  return d.last;
}

namespace detail {
const EmulatedRun* emulated_run(const std::string& app) {
  auto& d = declared();
  std::lock_guard lock(d.mutex);  // declarations come before parsl::run; the map does not change during it
  auto it = d.runs.find(app);
  return it == d.runs.end() ? nullptr : &it->second;
}
void set_last_emulation(const EmulationSummary& s) {
  auto& d = declared();
  std::lock_guard lock(d.mutex);
  d.last = s;
}
}  // namespace detail

namespace detail {

EmulationPlan EmulationPlan::build(int nodes, int workers_per_node, int fanout, int prefetch, int real_ranks) {
  EmulationPlan p;
  p.nodes = nodes;
  p.workers_per_node = workers_per_node;
  p.real_ranks = real_ranks;
  // Each node: its head (the root on node 0, a sub-master elsewhere) and its workers.
  const int per_node = workers_per_node + 1;
  std::vector<int> node_of(static_cast<std::size_t>(nodes) * static_cast<std::size_t>(per_node));
  for (std::size_t v = 0; v < node_of.size(); ++v) node_of[v] = static_cast<int>(v / static_cast<std::size_t>(per_node));
  p.topo = Topology::build(node_of, fanout, prefetch);
  const int V = p.topo.size();

  // Subtree sizes, bottom-up (a child's rank is not always above its parent's).
  std::vector<int> order{0};
  for (std::size_t i = 0; i < order.size(); ++i)
    for (int c : p.topo.place(order[i]).children) order.push_back(c);
  std::vector<std::int64_t> size(static_cast<std::size_t>(V), 1);
  for (auto it = order.rbegin(); it != order.rend(); ++it)
    for (int c : p.topo.place(*it).children) size[static_cast<std::size_t>(*it)] += size[static_cast<std::size_t>(c)];

  // The path: into the largest sub-master child each time.
  for (int at = 0;;) {
    int best = -1;
    for (int c : p.topo.place(at).children)
      if (p.topo.place(c).role == Role::submaster &&
          (best < 0 || size[static_cast<std::size_t>(c)] > size[static_cast<std::size_t>(best)]))
        best = c;
    if (best < 0) break;
    p.path.push_back(best);
    at = best;
  }
  const int hosts = real_ranks - 1 - static_cast<int>(p.path.size());
  if (hosts < 1)
    throw ConfigError("--parsl-mpi-emulate=" + std::to_string(nodes) + "x" + std::to_string(workers_per_node) +
                      " needs at least " + std::to_string(p.path.size() + 2) + " ranks (the root, the " +
                      std::to_string(p.path.size()) + " sub-masters of one path down the tree, and one rank to " +
                      "host the rest), but the job has " + std::to_string(real_ranks));

  p.host_of.assign(static_cast<std::size_t>(V), -1);
  p.hosted.assign(static_cast<std::size_t>(real_ranks), 0);
  p.host_of[0] = 0;
  p.hosted[0] = 1;
  std::vector<int> on_path{0};
  for (std::size_t k = 0; k < p.path.size(); ++k) {
    p.host_of[static_cast<std::size_t>(p.path[k])] = static_cast<int>(k) + 1;
    p.hosted[k + 1] = 1;
    on_path.push_back(p.path[k]);
  }
  std::vector<int> units;  // roots of whole subtrees off the path
  for (int r : on_path)
    for (int c : p.topo.place(r).children)
      if (p.host_of[static_cast<std::size_t>(c)] < 0) units.push_back(c);
  std::stable_sort(units.begin(), units.end(),
                   [&](int a, int b) { return size[static_cast<std::size_t>(a)] > size[static_cast<std::size_t>(b)]; });
  const int first_host = 1 + static_cast<int>(p.path.size());
  for (int u : units) {
    int host = first_host;
    for (int h = first_host; h < real_ranks; ++h)
      if (p.hosted[static_cast<std::size_t>(h)] < p.hosted[static_cast<std::size_t>(host)]) host = h;
    p.hosted[static_cast<std::size_t>(host)] += size[static_cast<std::size_t>(u)];
    std::vector<int> stack{u};
    while (!stack.empty()) {
      const int v = stack.back();
      stack.pop_back();
      p.host_of[static_cast<std::size_t>(v)] = host;
      for (int c : p.topo.place(v).children) stack.push_back(c);
    }
  }
  return p;
}

int EmulationPlan::single_of(int real) const noexcept {
  if (real == 0) return 0;
  if (real >= 1 && real <= static_cast<int>(path.size())) return path[static_cast<std::size_t>(real - 1)];
  return -1;
}

std::string EmulationPlan::describe() const {
  std::string s = "emulating " + std::to_string(nodes) + " nodes x " + std::to_string(workers_per_node) +
                  " workers = " + std::to_string(tree().workers()) + " workers (" + std::to_string(tree().size()) +
                  " virtual ranks, tree depth " + std::to_string(tree().depth()) + ") on " + std::to_string(real_ranks) +
                  " real ranks.\n  real: rank 0 is the root (" + std::to_string(tree().place(0).children.size()) +
                  " children)";
  for (std::size_t k = 0; k < path.size(); ++k) {
    const RankPlace& pl = tree().place(path[k]);
    s += "; rank " + std::to_string(k + 1) + " is sub-master " + std::to_string(path[k]) + " (depth " +
         std::to_string(pl.depth) + ", " + std::to_string(pl.children.size()) + " children)";
  }
  s += ", each running the real loop\n  emulated:";
  for (int h = 1 + static_cast<int>(path.size()); h < real_ranks; ++h) {
    std::int64_t subs = 0, workers = 0;
    for (std::size_t v = 0; v < host_of.size(); ++v)
      if (host_of[v] == h) (tree().place(static_cast<int>(v)).role == Role::worker ? workers : subs) += 1;
    s += (h > 1 + static_cast<int>(path.size()) ? ";" : "") + std::string(" rank ") + std::to_string(h) + " hosts " +
         std::to_string(subs) + " sub-masters and " + std::to_string(workers) + " workers";
  }
  s += "\n  virtual sub-masters run the sub-master protocol (SubmasterNode, as the real loop); emulated workers "
       "run the worker protocol (WorkerCore) but no task code: each task is held for the time its app's "
       "emulate_app declaration gives, then reported. Messages between virtual ranks of one real rank are "
       "encoded and decoded in-process; between real ranks they carry an 8-byte envelope.";
  return s;
}

// ---- Router ----

Router::Router(Channel& ch, const EmulationPlan& plan) : ch_(ch), plan_(plan) {}

void Router::send(int from, int to, int tag, std::string bytes) {
  if (to < 0 || static_cast<std::size_t>(to) >= plan_.host_of.size())
    throw ProtocolError("emulation: rank " + std::to_string(from) + " sends to virtual rank " + std::to_string(to) +
                        ", which does not exist");
  const int level = std::min(plan_.tree().place(from).depth, EmulationCounts::kLevels - 1);
  counts_.sent[static_cast<std::size_t>(level)] += 1;
  counts_.bytes[static_cast<std::size_t>(level)] += static_cast<std::int64_t>(bytes.size());
  const int host = plan_.host_of[static_cast<std::size_t>(to)];
  if (host == ch_.rank()) {
    local_.push_back(Local{to, from, tag, std::move(bytes)});
    return;
  }
  counts_.over_mpi[static_cast<std::size_t>(level)] += 1;
  std::string wire(8 + bytes.size(), '\0');
  const std::int32_t head[2] = {from, to};
  std::memcpy(wire.data(), head, 8);
  std::memcpy(wire.data() + 8, bytes.data(), bytes.size());
  ch_.send(host, tag, std::move(wire));
}

bool Router::next(int& to, int& from, int& tag, std::string& bytes) {
  if (!local_.empty()) {
    Local& m = local_.front();
    to = m.to;
    from = m.from;
    tag = m.tag;
    bytes = std::move(m.bytes);
    local_.pop_front();
    return true;
  }
  int source = 0;
  if (!ch_.try_receive(source, tag, bytes)) return false;
  std::int32_t head[2] = {-1, -1};
  if (bytes.size() >= 8) std::memcpy(head, bytes.data(), 8);
  const auto V = static_cast<std::int32_t>(plan_.host_of.size());
  if (bytes.size() < 8 || head[0] < 0 || head[0] >= V || head[1] < 0 || head[1] >= V ||
      plan_.host_of[static_cast<std::size_t>(head[0])] != source ||
      plan_.host_of[static_cast<std::size_t>(head[1])] != ch_.rank())
    throw ProtocolError("emulation: real rank " + std::to_string(ch_.rank()) + " got a message with tag " +
                        std::to_string(tag) + " from real rank " + std::to_string(source) +
                        " whose envelope does not name virtual ranks those two run");
  from = head[0];
  to = head[1];
  bytes.erase(0, 8);
  return true;
}

bool VirtualLink::try_receive(int& source, int& tag, std::string& bytes) {
  int to = 0;
  if (!router_.next(to, source, tag, bytes)) return false;
  if (vrank_ == 0) ++router_.counts().root_in;
  return true;
}

EmulationSummary gather_summary(Router& router) {
  const EmulationCounts& c = router.counts();
  constexpr int L = EmulationCounts::kLevels;
  std::vector<std::int64_t> mine;
  for (const auto* a : {&c.byes, &c.sent, &c.bytes, &c.over_mpi}) mine.insert(mine.end(), a->begin(), a->end());
  for (std::int64_t x : {c.tasks_done, c.tasks_failed, c.handed_back, c.root_in}) mine.push_back(x);
  std::vector<std::int64_t> sum(mine.size(), 0);
  PARSL_MPI_CHECK(MPI_Reduce(mine.data(), sum.data(), static_cast<int>(mine.size()), MPI_INT64_T, MPI_SUM, 0,
                             router.channel().comm()));
  const EmulationPlan& p = router.plan();
  EmulationSummary s;
  s.nodes = p.nodes;
  s.workers_per_node = p.workers_per_node;
  s.virtual_ranks = p.tree().size();
  s.workers = p.tree().workers();
  s.depth = p.tree().depth();
  s.real_ranks = p.real_ranks;
  for (int v = 0; v < p.tree().size(); ++v) s.ranks[static_cast<std::size_t>(std::min(p.tree().place(v).depth, L - 1))] += 1;
  std::size_t at = 0;
  for (auto* a : {&s.byes, &s.sent, &s.bytes, &s.over_mpi})
    for (auto& x : *a) x = sum[at++];
  s.tasks_done = sum[at++];
  s.tasks_failed = sum[at++];
  s.handed_back = sum[at++];
  s.root_in = sum[at++];
  s.root_out = s.sent[0];
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const double mine_cpu = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                          static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  const bool root = router.channel().rank() == 0;
  s.cpu.resize(root ? static_cast<std::size_t>(p.real_ranks) : 1);
  PARSL_MPI_CHECK(MPI_Gather(&mine_cpu, 1, MPI_DOUBLE, s.cpu.data(), 1, MPI_DOUBLE, 0, router.channel().comm()));
  if (!root) s.cpu.clear();
  for (int r = 0; root && r < p.real_ranks; ++r) {
    const int v = p.single_of(r);
    s.role.push_back(v == 0 ? "root" : v > 0 ? "sub-master " + std::to_string(p.tree().place(v).depth) : "host");
  }
  return s;
}

}  // namespace detail
}  // namespace parsl::mpi
