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
  p.topo = Topology::build_consecutive(std::vector<int>(static_cast<std::size_t>(nodes), workers_per_node + 1), fanout,
                                       prefetch);
  const Topology& t = p.topo;

  // The path: into the sub-master child with the largest subtree each time.
  for (int at = 0;;) {
    int best = -1;
    for (int c : t.place(at).children)
      if (t.role(c) == Role::submaster && (best < 0 || t.subtree_ranks(c) > t.subtree_ranks(best))) best = c;
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

  p.hosted.assign(static_cast<std::size_t>(real_ranks), 0);
  p.hosted[0] = 1;
  std::vector<int> on_path{0};
  for (std::size_t k = 0; k < p.path.size(); ++k) {
    p.hosted[k + 1] = 1;
    on_path.push_back(p.path[k]);
  }
  std::vector<int> units;  // tops of whole subtrees off the path
  for (std::size_t i = 0; i < on_path.size(); ++i)
    for (int c : t.place(on_path[i]).children)
      if (i + 1 >= on_path.size() || c != on_path[i + 1]) units.push_back(c);
  std::stable_sort(units.begin(), units.end(), [&](int a, int b) { return t.subtree_ranks(a) > t.subtree_ranks(b); });
  const int first_host = 1 + static_cast<int>(p.path.size());
  for (int u : units) {
    int host = first_host;
    for (int h = first_host; h < real_ranks; ++h)
      if (p.hosted[static_cast<std::size_t>(h)] < p.hosted[static_cast<std::size_t>(host)]) host = h;
    p.hosted[static_cast<std::size_t>(host)] += t.subtree_ranks(u);
    p.units.emplace_back(u, host);
  }
  std::sort(p.units.begin(), p.units.end());
  return p;
}

int EmulationPlan::host_of(int v) const {
  const Topology& t = tree();
  for (;;) {
    if (v == 0) return 0;
    for (std::size_t k = 0; k < path.size(); ++k)
      if (path[k] == v) return static_cast<int>(k) + 1;
    const auto it = std::lower_bound(units.begin(), units.end(), std::pair<int, int>{v, -1});
    if (it != units.end() && it->first == v) return it->second;
    v = t.parent(v);  // every rank off the path is in a unit's subtree
  }
}

std::vector<int> EmulationPlan::hosted_by(int host) const {
  if (host <= static_cast<int>(path.size())) return {host == 0 ? 0 : path[static_cast<std::size_t>(host - 1)]};
  std::vector<int> out, stack;
  for (const auto& [u, h] : units)
    if (h == host) stack.push_back(u);
  while (!stack.empty()) {
    const int v = stack.back();
    stack.pop_back();
    out.push_back(v);
    if (tree().role(v) == Role::submaster)
      for (int c : tree().place(v).children) stack.push_back(c);
  }
  std::sort(out.begin(), out.end());
  return out;
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
    const RankPlace pl = tree().place(path[k]);
    s += "; rank " + std::to_string(k + 1) + " is sub-master " + std::to_string(path[k]) + " (depth " +
         std::to_string(pl.depth) + ", " + std::to_string(pl.children.size()) + " children)";
  }
  s += ", each running the real loop\n  emulated:";
  for (int h = 1 + static_cast<int>(path.size()); h < real_ranks; ++h) {
    std::int64_t subs = 0, workers = 0;
    for (const auto& [u, at] : units)
      if (at == h) {
        const std::int64_t w = tree().subtree_workers(u);
        workers += w;
        subs += tree().subtree_ranks(u) - w;
      }
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

Router::Router(Channel& ch, const EmulationPlan& plan) : ch_(ch), plan_(plan) {
  if (plan.single_of(ch.rank()) >= 0) return;
  const Topology& t = plan.tree();
  host_.assign(static_cast<std::size_t>(t.size()), 0);
  for (std::size_t k = 0; k < plan.path.size(); ++k) host_[static_cast<std::size_t>(plan.path[k])] = static_cast<std::int32_t>(k + 1);
  for (const auto& [u, h] : plan.units) {
    std::vector<int> stack{u};
    while (!stack.empty()) {
      const int v = stack.back();
      stack.pop_back();
      host_[static_cast<std::size_t>(v)] = h;
      if (t.role(v) == Role::submaster)
        for (int c : t.place(v).children) stack.push_back(c);
    }
  }
  depth_.resize(host_.size());
  for (int v = 0; v < t.size(); ++v) depth_[static_cast<std::size_t>(v)] = static_cast<std::int8_t>(std::min(t.depth_of(v), 127));
}

int Router::host_of(int v) {
  if (v < 0 || v >= plan_.tree().size()) return -1;
  if (!host_.empty()) return host_[static_cast<std::size_t>(v)];
  auto [it, fresh] = seen_.try_emplace(v, 0);
  if (fresh) it->second = plan_.host_of(v);
  return it->second;
}

void Router::send(int from, int to, int tag, std::string bytes) {
  const int host = host_of(to);
  if (host < 0)
    throw ProtocolError("emulation: rank " + std::to_string(from) + " sends to virtual rank " + std::to_string(to) +
                        ", which does not exist");
  const int depth = depth_.empty() ? plan_.tree().depth_of(from) : depth_[static_cast<std::size_t>(from)];
  const int level = std::min(depth, EmulationCounts::kLevels - 1);
  counts_.sent[static_cast<std::size_t>(level)] += 1;
  counts_.bytes[static_cast<std::size_t>(level)] += static_cast<std::int64_t>(bytes.size());
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
  if (bytes.size() < 8 || host_of(head[0]) != source || host_of(head[1]) != ch_.rank())
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
  for (int v = 0; v < p.tree().size(); ++v) s.ranks[static_cast<std::size_t>(std::min(p.tree().depth_of(v), L - 1))] += 1;
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
    s.role.push_back(v == 0 ? "root" : v > 0 ? "sub-master " + std::to_string(p.tree().depth_of(v)) : "host");
  }
  return s;
}

}  // namespace detail
}  // namespace parsl::mpi
