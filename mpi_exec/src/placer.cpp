#include "parsl/mpi_exec/placer.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/try_runner.hpp"

namespace parsl::mpi {

namespace {
std::string gib(std::uint64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(b) / (1ULL << 30));
  return buf;
}
}  // namespace

// ---- Machine ----

namespace {
// 0, 1, 2, ...: what standard blocks point into, shared by every node of every Machine.
constexpr int kSharedCores = 4096;
const int* shared_cores() {
  static const std::vector<int> cores = [] {
    std::vector<int> v(kSharedCores);
    std::iota(v.begin(), v.end(), 0);
    return v;
  }();
  return cores.data();
}
}  // namespace

CoreBlocks CoreBlocks::standard(int workers, int cores) {
  CoreBlocks b;
  b.standard_ = true;
  b.workers_ = workers;
  b.node_cores_ = std::max(1, cores);
  b.share_ = std::max(1, b.node_cores_ / std::max(1, workers));
  if (b.node_cores_ > kSharedCores) {  // a node beyond the shared numbers keeps its own
    b.cores_.resize(static_cast<std::size_t>(b.node_cores_));
    std::iota(b.cores_.begin(), b.cores_.end(), 0);
  }
  return b;
}

std::span<const int> CoreBlocks::operator[](std::size_t local) const {
  if (standard_) {  // core_block: share_ cores from (local * share_) % cores, never wrapping
    const std::size_t first = local * static_cast<std::size_t>(share_) % static_cast<std::size_t>(node_cores_);
    return {(cores_.empty() ? shared_cores() : cores_.data()) + first, static_cast<std::size_t>(share_)};
  }
  return {cores_.data() + at_[local], static_cast<std::size_t>(at_[local + 1] - at_[local])};
}

void CoreBlocks::push_back(const std::vector<int>& block) {
  if (standard_) throw std::logic_error("CoreBlocks::push_back on standard blocks");
  if (at_.empty()) at_.push_back(0);
  cores_.insert(cores_.end(), block.begin(), block.end());
  at_.push_back(static_cast<std::uint32_t>(cores_.size()));
}

void RankList::push_back(int rank) {
  if (list_.empty() && (count_ == 0 || rank == first_ + static_cast<int>(count_))) {
    if (count_ == 0) first_ = rank;
    ++count_;
    return;
  }
  if (list_.empty())
    for (std::size_t i = 0; i < count_; ++i) list_.push_back(first_ + static_cast<int>(i));
  list_.push_back(rank);
}

Machine Machine::from(const Topology& topo, const std::vector<NodeHardware>& hardware, const WorkerBlocks& blocks) {
  Machine m;
  // A node's workers, in local-worker order, are its ranks but its head, by rank.
  m.nodes_.resize(static_cast<std::size_t>(topo.nodes()));
  for (int r = 1; r < topo.size(); ++r) {
    if (topo.role(r) != Role::worker) continue;
    m.nodes_[static_cast<std::size_t>(topo.node_of(r))].workers.push_back(r);
  }
  for (std::size_t n = 0; n < m.nodes_.size(); ++n) {
    auto& node = m.nodes_[n];
    if (n < hardware.size()) node.hw = hardware[n];
    node.hw.cores = std::max(1, node.hw.cores);
    node.hw.numa = std::max(1, node.hw.numa);
    const int W = static_cast<int>(node.workers.size());
    node.blocks = CoreBlocks::standard(W, node.hw.cores);
    node.share = std::max(1, node.hw.cores / std::max(1, W));
    bool own = false;  // some worker's block is its own
    for (int l = 0; l < W && !own; ++l) own = blocks.contains(node.workers[static_cast<std::size_t>(l)]);
    if (!own) continue;
    node.blocks = CoreBlocks{};
    node.share = 0;
    for (int l = 0; l < W; ++l) {
      const auto it = blocks.find(node.workers[static_cast<std::size_t>(l)]);
      std::vector<int> b = it != blocks.end() ? it->second : std::vector<int>{};
      if (b.empty()) b = core_block(l, W, node.hw.cores);
      node.share = node.share == 0 ? static_cast<int>(b.size()) : std::min(node.share, static_cast<int>(b.size()));
      node.blocks.push_back(b);
    }
    node.share = std::max(1, node.share);
  }
  return m;
}

std::vector<int> Machine::worker_block(const Seat& s) {
  const int cores = std::max(1, s.node_cores);
  if (!s.allowed.empty() && static_cast<int>(s.allowed.size()) < cores) {
    std::vector<int> out;
    for (int i : core_block(s.index, s.same, static_cast<int>(s.allowed.size())))
      out.push_back(s.allowed[static_cast<std::size_t>(i)]);
    return out;
  }
  if (s.launcher_local >= 0 && s.launcher_ranks > s.node_ranks)
    return core_block(s.launcher_local, s.launcher_ranks, cores);
  return core_block(s.local_worker, s.node_workers, cores);
}

std::vector<int> Machine::core_block(int local, int workers, int cores) {
  cores = std::max(1, cores);
  const int share = std::max(1, cores / std::max(1, workers));
  const int first = (local * share) % cores;
  std::vector<int> out;
  out.reserve(static_cast<std::size_t>(share));
  for (int i = 0; i < share; ++i) out.push_back((first + i) % cores);
  return out;
}

std::size_t Machine::workers() const noexcept {
  std::size_t n = 0;
  for (const auto& node : nodes_) n += node.workers.size();
  return n;
}

int Machine::workers_per_rank(std::size_t node, int cores) const {
  const int share = nodes_[node].share;
  return (cores + share - 1) / share;
}

int Machine::ranks_on_node(std::size_t node, const Resources& need) const {
  const Node& n = nodes_[node];
  int fit = static_cast<int>(n.workers.size()) / workers_per_rank(node, need.cores);
  if (need.gpus > 0) fit = std::min(fit, n.hw.gpus / need.gpus);
  if (need.memory > 0 && n.hw.memory > 0)
    fit = static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(fit), n.hw.memory / need.memory));
  return fit;
}

void Machine::check(const std::string& app, const Resources& need) const {
  long long fit = 0;
  for (std::size_t n = 0; n < nodes_.size(); ++n) fit += ranks_on_node(n, need);
  if (fit >= need.ranks) return;
  std::string why;
  if (nodes_.empty()) {
    why = "this job has no worker ranks";
  } else {
    std::size_t most_workers = 0, most_gpus = 0;
    int gpus_total = 0;
    for (std::size_t n = 0; n < nodes_.size(); ++n) {
      if (nodes_[n].workers.size() > nodes_[most_workers].workers.size()) most_workers = n;
      if (nodes_[n].hw.gpus > nodes_[most_gpus].hw.gpus) most_gpus = n;
      gpus_total += nodes_[n].hw.gpus;
    }
    const Node& big = nodes_[most_workers];
    if (need.gpus > 0 && gpus_total == 0) {
      why = "no node of this job has a GPU (hwloc found no CUDA, ROCm or Level Zero device)";
    } else {
      why = "the job has " + std::to_string(workers()) + " workers on " + std::to_string(nodes_.size()) +
            (nodes_.size() == 1 ? " node" : " nodes") + "; its largest node has " + std::to_string(big.workers.size()) +
            " workers of " + std::to_string(big.share) + (big.share == 1 ? " core" : " cores") + " each";
      if (need.gpus > 0) why += ", and at most " + std::to_string(nodes_[most_gpus].hw.gpus) + " GPUs per node";
      if (need.memory > 0 && big.hw.memory > 0) why += ", " + gib(big.hw.memory) + " of memory";
      why += ", so " + std::to_string(fit) + (fit == 1 ? " rank" : " ranks") + " of this size fit at once";
    }
  }
  throw ConfigError("app '" + app + "' asks for " + need.describe() + ", which no placement in this job satisfies: " +
                    why + " (a worker is one MPI rank; start more ranks per node, or ask for less)");
}

std::string Machine::describe() const {
  std::string out = std::to_string(nodes_.size()) + (nodes_.size() == 1 ? " node" : " nodes") + " for placed tasks:";
  constexpr std::size_t kMost = 16;
  for (std::size_t n = 0; n < std::min(nodes_.size(), kMost); ++n) {
    const Node& node = nodes_[n];
    out += " node " + std::to_string(n) + " " + std::to_string(node.workers.size()) + " workers x " +
           std::to_string(node.share) + " cores (" + std::to_string(node.hw.cores) + " cores, " +
           std::to_string(node.hw.numa) + " NUMA, " + std::to_string(node.hw.gpus) + " GPUs, " +
           (node.hw.memory > 0 ? gib(node.hw.memory) : std::string("memory unknown")) + ")";
    if (n + 1 < nodes_.size()) out += ";";
  }
  if (nodes_.size() > kMost) out += " and " + std::to_string(nodes_.size() - kMost) + " more nodes";
  return out;
}

// ---- Placer ----

Placer::Placer(Machine machine) : Placer(std::make_shared<const Machine>(std::move(machine))) {}

Placer::Placer(std::shared_ptr<const Machine> machine)
    : machine_(machine ? std::move(machine) : std::make_shared<const Machine>()) {
  const auto& nodes = machine_->nodes();
  taken_.resize(nodes.size());
  gpu_taken_.resize(nodes.size());
  memory_taken_.assign(nodes.size(), 0);
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    taken_[n].assign(nodes[n].workers.size(), 0);
    gpu_taken_[n].assign(static_cast<std::size_t>(std::max(0, nodes[n].hw.gpus)), 0);
  }
}

void Placer::submit(TaskMsg&& task, TaskHandle handle) {
  if (handle && !handle.live()) return;
  try {
    machine_->check(task.app, task.res);
  } catch (...) {
    outcomes_.push_back(Outcome{Event{task.id, task.attempt, EventKind::failed, 0,
                                      EncodedOutcome::failure(std::current_exception(), 0).bytes()},
                                std::move(handle)});
    return;
  }
  Waiting w{std::move(task), std::move(handle), ++seq_};
  auto pos = std::upper_bound(waiting_.begin(), waiting_.end(), w, [](const Waiting& a, const Waiting& b) {
    return a.task.priority != b.task.priority ? a.task.priority < b.task.priority : a.seq < b.seq;
  });
  waiting_.insert(pos, std::move(w));
}

bool Placer::try_place(Waiting& w) {
  const Resources& need = w.task.res;
  const auto& nodes = machine_->nodes();
  std::vector<std::size_t> free(nodes.size(), 0);
  for (std::size_t n = 0; n < nodes.size(); ++n)
    free[n] = static_cast<std::size_t>(std::count(taken_[n].begin(), taken_[n].end(), 0));
  // An MPI task on the fewest nodes: the freest first. A one-rank task where it fits most
  // tightly, to keep large holes for large tasks.
  std::vector<std::size_t> order(nodes.size());
  std::iota(order.begin(), order.end(), 0);
  if (need.ranks > 1)
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return free[a] > free[b]; });
  else
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return free[a] < free[b]; });

  Active a;
  a.memory = need.memory;
  std::vector<std::vector<int>> member_workers;  // seats' locals per member, for the cores
  for (std::size_t n : order) {
    if (static_cast<int>(a.members.size()) == need.ranks) break;
    const Machine::Node& node = nodes[n];
    const int g = machine_->workers_per_rank(n, need.cores);
    const int per_numa = std::max(1, node.hw.cores / node.hw.numa);
    const int W = static_cast<int>(node.workers.size());
    auto domain = [&](int local) { return node.blocks[static_cast<std::size_t>(local)].front() / per_numa; };
    while (static_cast<int>(a.members.size()) < need.ranks) {
      const int free_gpus = static_cast<int>(std::count(gpu_taken_[n].begin(), gpu_taken_[n].end(), 0));
      if (need.gpus > free_gpus) break;
      if (need.memory > 0 && node.hw.memory > 0 && memory_taken_[n] + need.memory > node.hw.memory) break;
      // g free workers: consecutive ones in one NUMA domain if there are, else any.
      std::vector<int> pick;
      for (int l = 0; l < W && static_cast<int>(pick.size()) < g; ++l) {
        if (taken_[n][static_cast<std::size_t>(l)] || (!pick.empty() && domain(l) != domain(pick.front()))) pick.clear();
        if (!taken_[n][static_cast<std::size_t>(l)]) pick.push_back(l);
      }
      if (static_cast<int>(pick.size()) < g) {
        pick.clear();
        for (int l = 0; l < W && static_cast<int>(pick.size()) < g; ++l)
          if (!taken_[n][static_cast<std::size_t>(l)]) pick.push_back(l);
      }
      if (static_cast<int>(pick.size()) < g) break;
      for (int l : pick) taken_[n][static_cast<std::size_t>(l)] = 1;
      std::vector<int> gpus;
      for (std::size_t i = 0; i < gpu_taken_[n].size() && static_cast<int>(gpus.size()) < need.gpus; ++i)
        if (!gpu_taken_[n][i]) {
          gpu_taken_[n][i] = 1;
          gpus.push_back(static_cast<int>(i));
        }
      memory_taken_[n] += need.memory;
      a.members.push_back(Seat{node.workers[static_cast<std::size_t>(pick[0])], static_cast<int>(n), pick[0]});
      for (std::size_t i = 1; i < pick.size(); ++i)
        a.helpers.push_back(Seat{node.workers[static_cast<std::size_t>(pick[i])], static_cast<int>(n), pick[i]});
      a.member_gpus.push_back(std::move(gpus));
      member_workers.push_back(std::move(pick));
    }
  }
  if (static_cast<int>(a.members.size()) < need.ranks) {  // not now: undo
    for (std::size_t i = 0; i < a.members.size(); ++i) {
      const auto n = static_cast<std::size_t>(a.members[i].node);
      for (int l : member_workers[i]) taken_[n][static_cast<std::size_t>(l)] = 0;
      for (int g : a.member_gpus[i]) gpu_taken_[n][static_cast<std::size_t>(g)] = 0;
      memory_taken_[n] -= need.memory;
    }
    return false;
  }
  reserved_ += a.members.size() + a.helpers.size();
  // A bash task with ranks runs once, on its first rank's worker, and starts its MPI program
  // on all of them with $PARSL_MPI_PREFIX: the other ranks' workers are held as helpers.
  std::vector<std::string> hosts;
  if (!w.task.mpi && need.ranks > 1) {
    for (const Seat& s : a.members) hosts.emplace_back(nodes[static_cast<std::size_t>(s.node)].hw.host);
    for (std::size_t i = 1; i < a.members.size(); ++i) {
      a.helpers.push_back(a.members[i]);
      a.helper_gpus.emplace_back(a.members[i].node, std::move(a.member_gpus[i]));
      a.helper_memory_nodes.push_back(a.members[i].node);
    }
    a.members.resize(1);
    a.member_gpus.resize(1);
  }
  a.handle = std::move(w.handle);
  a.done.assign(a.members.size(), 0);
  a.ready.assign(a.members.size() + a.helpers.size(), 0);
  std::vector<std::int32_t> ranks;
  for (const Seat& s : a.members) ranks.push_back(s.rank);
  const bool wait = a.members.size() + a.helpers.size() > 1;
  a.go_sent = !wait;
  for (std::size_t i = 0; i < a.members.size(); ++i) {
    const Machine::Node& node = nodes[static_cast<std::size_t>(a.members[i].node)];
    Placement p;
    p.task = w.task;
    p.members = ranks;
    p.member = static_cast<std::int32_t>(i);
    for (int l : member_workers[i])
      for (int c : node.blocks[static_cast<std::size_t>(l)])
        if (std::find(p.cores.begin(), p.cores.end(), c) == p.cores.end()) p.cores.push_back(c);
    if (static_cast<int>(p.cores.size()) > need.cores) p.cores.resize(static_cast<std::size_t>(need.cores));
    p.gpus.assign(a.member_gpus[i].begin(), a.member_gpus[i].end());
    p.wait_for_go = wait;
    p.hosts = hosts;
    to(a.members[i].rank).placed.push_back(std::move(p));
  }
  for (const Seat& s : a.helpers) {
    Placement p;
    p.task.id = w.task.id;
    p.task.attempt = w.task.attempt;
    p.members = ranks;
    to(s.rank).placed.push_back(std::move(p));
  }
  active_.emplace(Key{w.task.id, w.task.attempt}, std::move(a));
  return true;
}

void Placer::free_seat(const Seat& s) {
  taken_[static_cast<std::size_t>(s.node)][static_cast<std::size_t>(s.local)] = 0;
  --reserved_;
}

void Placer::cancel(std::uint64_t id) {
  std::erase_if(waiting_, [&](const Waiting& w) { return w.task.id == id; });
  for (auto it = active_.lower_bound(Key{id, 0}); it != active_.end() && it->first.first == id; ++it) {
    Active& a = it->second;
    if (a.cancelled) continue;
    a.cancelled = true;
    for (std::size_t i = 0; i < a.members.size(); ++i)
      if (!a.done[i]) to(a.members[i].rank).cancel.push_back(id);
    for (const Seat& s : a.helpers) to(s.rank).release.push_back(id);
    release_helpers(a);
  }
}

void Placer::end(Active& a) { release_helpers(a); }

void Placer::release_helpers(Active& a) {
  for (const Seat& s : a.helpers) free_seat(s);
  a.helpers.clear();
  for (const auto& [node, gpus] : a.helper_gpus)
    for (int g : gpus) gpu_taken_[static_cast<std::size_t>(node)][static_cast<std::size_t>(g)] = 0;
  a.helper_gpus.clear();
  for (int node : a.helper_memory_nodes) memory_taken_[static_cast<std::size_t>(node)] -= a.memory;
  a.helper_memory_nodes.clear();
}

bool Placer::on_event(const Event& e) {
  auto it = active_.find(Key{e.id, e.attempt});
  if (it == active_.end()) return false;
  Active& a = it->second;
  std::size_t idx = a.members.size() + a.helpers.size();
  for (std::size_t i = 0; i < a.members.size(); ++i)
    if (a.members[i].rank == e.worker) idx = i;
  if (idx == a.members.size() + a.helpers.size())
    for (std::size_t i = 0; i < a.helpers.size(); ++i)
      if (a.helpers[i].rank == e.worker) idx = a.members.size() + i;
  if (idx == a.members.size() + a.helpers.size()) return true;  // not one of its workers (stale): drop
  const std::uint64_t id = e.id;
  if (idx == 0 && e.started_us) a.started_us = e.started_us;  // member 0's start (monitoring)
  switch (e.kind) {
    case EventKind::ready:
      if (!a.ready[idx]) {
        a.ready[idx] = 1;
        ++a.ready_count;
      }
      if (a.ready_count == a.ready.size() && !a.go_sent && !a.cancelled) {
        a.go_sent = true;
        for (const Seat& s : a.members) to(s.rank).go.push_back(id);
      }
      return true;
    case EventKind::started:
    case EventKind::usage:
      if (idx == 0 && !a.reported && !a.cancelled) outcomes_.push_back(Outcome{e, a.handle});
      return true;
    case EventKind::succeeded:
    case EventKind::failed:
      break;
  }
  if (idx >= a.members.size() || a.done[idx]) return true;
  a.done[idx] = 1;
  ++a.done_count;
  const Seat& s = a.members[idx];
  free_seat(s);
  const auto n = static_cast<std::size_t>(s.node);
  for (int g : a.member_gpus[idx]) gpu_taken_[n][static_cast<std::size_t>(g)] = 0;
  memory_taken_[n] -= a.memory;
  if (e.kind == EventKind::failed && !a.failed) {
    // The first failure of any rank fails the task at once: the other ranks may wait in a
    // collective for the one that failed, and never report.
    a.failed = true;
    if (!a.reported && !a.cancelled) {
      outcomes_.push_back(Outcome{e, a.handle});
      a.reported = true;
    }
  }
  if (e.kind == EventKind::succeeded && idx == 0) a.value = e.payload;
  if (a.done_count == a.members.size()) {
    if (!a.reported && !a.cancelled) {
      Event done{id, e.attempt, EventKind::succeeded, a.members[0].rank, std::move(a.value), e.seconds, a.started_us};
      outcomes_.push_back(Outcome{std::move(done), a.handle});
      a.reported = true;
    }
    for (const Seat& h : a.helpers) to(h.rank).release.push_back(id);
    end(a);
    active_.erase(it);
  }
  return true;
}

std::vector<std::pair<int, DownMsg>> Placer::take_direct() {
  while (!waiting_.empty()) {
    if (waiting_.front().handle && !waiting_.front().handle.live()) {  // cancelled or timed out meanwhile
      waiting_.erase(waiting_.begin());
      continue;
    }
    if (!try_place(waiting_.front())) break;  // the head waits; nothing overtakes it
    waiting_.erase(waiting_.begin());
  }
  std::vector<std::pair<int, DownMsg>> out;
  out.reserve(direct_.size());
  for (auto& [rank, msg] : direct_) out.emplace_back(rank, std::move(msg));
  direct_.clear();
  return out;
}

std::size_t Placer::in_flight() const noexcept {
  std::size_t n = waiting_.size();
  for (const auto& [key, a] : active_)
    if (!a.reported && !a.cancelled) ++n;
  return n;
}

}  // namespace parsl::mpi
