#include "parsl/mpi_exec/topology.hpp"

#include <algorithm>
#include <unordered_map>

#include "parsl/runtime/errors.hpp"

namespace parsl::mpi {

namespace {
void check_parameters(int fanout, int prefetch) {
  if (fanout < 2) throw ConfigError("MPI fan-out must be at least 2, got " + std::to_string(fanout));
  if (prefetch < 0) throw ConfigError("MPI prefetch must be zero or more, got " + std::to_string(prefetch));
}
}  // namespace

Topology Topology::build(const std::vector<int>& node_of_rank, int fanout, int prefetch) {
  if (node_of_rank.empty()) throw ConfigError("the MPI communicator has no ranks");
  check_parameters(fanout, prefetch);
  Topology t;
  const int n = static_cast<int>(node_of_rank.size());
  t.size_ = n;
  // Nodes in order of their lowest rank; node index = that order.
  std::unordered_map<int, std::int32_t> index_of;
  std::vector<std::int32_t> count;
  std::vector<std::int32_t> node(static_cast<std::size_t>(n));
  bool consecutive = true;
  for (int r = 0; r < n; ++r) {
    auto [it, inserted] = index_of.try_emplace(node_of_rank[static_cast<std::size_t>(r)], static_cast<std::int32_t>(count.size()));
    if (inserted) count.push_back(0);
    // Consecutive: each rank is in the node of the rank before it, or opens the next node.
    if (r > 0 && it->second != node[static_cast<std::size_t>(r) - 1] && !inserted) consecutive = false;
    node[static_cast<std::size_t>(r)] = it->second;
    ++count[static_cast<std::size_t>(it->second)];
  }
  t.node_start_.assign(count.size() + 1, 0);
  for (std::size_t i = 0; i < count.size(); ++i) t.node_start_[i + 1] = t.node_start_[i] + count[i];
  if (!consecutive) {
    t.members_.resize(static_cast<std::size_t>(n));
    t.index_.resize(static_cast<std::size_t>(n));
    std::vector<std::int32_t> filled(count.size(), 0);
    for (int r = 0; r < n; ++r) {
      const auto ni = static_cast<std::size_t>(node[static_cast<std::size_t>(r)]);
      t.index_[static_cast<std::size_t>(r)] = filled[ni];
      t.members_[static_cast<std::size_t>(t.node_start_[ni] + filled[ni]++)] = r;
    }
    t.node_of_ = std::move(node);
  }
  return finish(std::move(t), fanout, prefetch);
}

Topology Topology::build_consecutive(const std::vector<int>& ranks_of_node, int fanout, int prefetch) {
  if (ranks_of_node.empty()) throw ConfigError("the MPI communicator has no ranks");
  check_parameters(fanout, prefetch);
  Topology t;
  t.node_start_.assign(ranks_of_node.size() + 1, 0);
  for (std::size_t i = 0; i < ranks_of_node.size(); ++i) {
    if (ranks_of_node[i] < 1) throw ConfigError("node " + std::to_string(i) + " has no ranks");
    t.node_start_[i + 1] = t.node_start_[i] + ranks_of_node[i];
  }
  t.size_ = t.node_start_.back();
  return finish(std::move(t), fanout, prefetch);
}

// The levels: heads (sub-masters first, then nodes of one rank), grouped `fanout` at a time
// under the first sub-master of each group (or its first head), until at most `fanout` are
// left for the root. Then parents and depths top-down.
Topology Topology::finish(Topology t, int fanout, int prefetch) {
  t.fanout_ = fanout;
  t.prefetch_ = prefetch;
  const int nodes = t.nodes();
  t.head_pos_.assign(static_cast<std::size_t>(nodes), -1);
  t.top_.assign(static_cast<std::size_t>(nodes), 0);
  std::vector<Entry> heads;
  for (int pass = 0; pass < 2; ++pass)  // sub-masters, then lone workers
    for (int ni = 1; ni < nodes; ++ni) {
      const int k = t.node_size(ni);
      if ((k >= 2) != (pass == 0)) continue;
      t.head_pos_[static_cast<std::size_t>(ni)] = static_cast<std::int32_t>(heads.size());
      heads.push_back(Entry{t.rank_at(ni, 0), -2, k >= 2 ? k - 1 : 1, k, 0, k >= 2});
    }
  t.levels_.push_back(std::move(heads));
  const auto f = static_cast<std::size_t>(fanout);
  while (t.levels_.back().size() > f) {
    auto& level = t.levels_.back();
    std::vector<Entry> leaders;
    for (std::size_t i = 0; i < level.size(); i += f) {
      const std::size_t end = std::min(level.size(), i + f);
      if (end - i == 1) {
        leaders.push_back(level[i]);
        continue;
      }
      std::size_t lead = i;
      for (std::size_t j = i; j < end; ++j)
        if (level[j].sub) {
          lead = j;
          break;
        }
      Entry e = level[lead];
      e.workers = level[lead].sub ? 0 : -1;  // a promoted lone worker is no longer one
      e.ranks = 0;
      for (std::size_t j = i; j < end; ++j) {
        e.workers += level[j].workers;
        e.ranks += level[j].ranks;
      }
      e.sub = true;
      leaders.push_back(e);
    }
    t.levels_.push_back(std::move(leaders));
  }
  // Top-down: the last level hangs under the root; an entry that leads its group at the
  // next level is the same rank there, one that does not hangs under the one that does.
  const std::size_t L = t.levels_.size();
  for (auto& e : t.levels_[L - 1]) {
    e.parent = 0;
    e.depth = 1;
  }
  for (std::size_t k = L - 1; k-- > 0;)
    for (std::size_t p = 0; p < t.levels_[k].size(); ++p) {
      Entry& e = t.levels_[k][p];
      const Entry& up = t.levels_[k + 1][p / f];
      const bool same = up.rank == e.rank;
      e.parent = same ? up.parent : up.rank;
      e.depth = same ? up.depth : up.depth + 1;
    }
  // Each head's top level, the workers and the deepest rank.
  const int root_workers = t.node_size(0) - 1;
  t.workers_ = root_workers;
  t.depth_ = root_workers > 0 ? 1 : 0;
  for (const auto& e : t.levels_[L - 1]) t.workers_ += static_cast<int>(e.workers);
  for (int ni = 1; ni < nodes; ++ni) {
    std::size_t p = static_cast<std::size_t>(t.head_pos_[static_cast<std::size_t>(ni)]), k = 0;
    while (k + 1 < L && t.levels_[k + 1][p / f].rank == t.levels_[k][p].rank) {
      p /= f;
      ++k;
    }
    t.top_[static_cast<std::size_t>(ni)] = static_cast<std::int8_t>(k);
    const Entry& e = t.levels_[k][p];
    t.depth_ = std::max(t.depth_, e.depth + (t.node_size(ni) >= 2 ? 1 : 0));
  }
  return t;
}

int Topology::rank_at(int node, int index) const {
  const int at = node_start_[static_cast<std::size_t>(node)] + index;
  return members_.empty() ? at : members_[static_cast<std::size_t>(at)];
}

int Topology::index_in_node(int rank, int node) const {
  return index_.empty() ? rank - node_start_[static_cast<std::size_t>(node)] : index_[static_cast<std::size_t>(rank)];
}

int Topology::node_of(int rank) const {
  if (rank < 0 || rank >= size_) throw std::out_of_range("rank " + std::to_string(rank) + " is not in the tree of " +
                                                         std::to_string(size_) + " ranks");
  if (!node_of_.empty()) return node_of_[static_cast<std::size_t>(rank)];
  const auto it = std::upper_bound(node_start_.begin(), node_start_.end(), rank);
  return static_cast<int>(it - node_start_.begin()) - 1;
}

const Topology::Entry& Topology::top_entry(int node) const {
  const auto k = static_cast<std::size_t>(top_[static_cast<std::size_t>(node)]);
  std::size_t p = static_cast<std::size_t>(head_pos_[static_cast<std::size_t>(node)]);
  for (std::size_t i = 0; i < k; ++i) p /= static_cast<std::size_t>(fanout_);
  return levels_[k][p];
}

Role Topology::role(int rank) const {
  const int n = node_of(rank);
  if (rank == 0) return Role::root;
  if (n == 0 || index_in_node(rank, n) != 0) return Role::worker;
  return top_entry(n).sub ? Role::submaster : Role::worker;
}

int Topology::parent(int rank) const {
  const int n = node_of(rank);
  if (rank == 0) return -1;
  if (n == 0) return 0;
  if (index_in_node(rank, n) != 0) return rank_at(n, 0);
  return top_entry(n).parent;
}

int Topology::depth_of(int rank) const {
  const int n = node_of(rank);
  if (rank == 0) return 0;
  if (n == 0) return 1;
  const int head = top_entry(n).depth;
  return index_in_node(rank, n) != 0 ? head + 1 : head;
}

std::int64_t Topology::capacity(int rank) const {
  const std::int64_t per = 1 + prefetch_;
  if (rank == 0) return static_cast<std::int64_t>(workers_) * per;
  return role(rank) == Role::worker ? per : top_entry(node_of(rank)).workers * per;
}

std::int64_t Topology::subtree_ranks(int rank) const {
  const int n = node_of(rank);
  if (rank == 0) return size_;
  if (n == 0 || index_in_node(rank, n) != 0) return 1;
  return top_entry(n).ranks;
}

RankPlace Topology::place(int rank) const {
  const int n = node_of(rank);
  RankPlace p;
  p.node = n;
  p.depth = depth_of(rank);
  p.parent = parent(rank);
  p.role = role(rank);
  p.capacity = capacity(rank);
  const int k = node_size(n);
  if (rank == 0) {
    for (const auto& e : levels_.back()) p.children.push_back(e.rank);
    for (int i = 1; i < k; ++i) p.children.push_back(rank_at(0, i));
    return p;
  }
  const int index = index_in_node(rank, n);
  if (n == 0 || index != 0) {  // a node's worker
    p.local_worker = index - 1;
    p.node_workers = k - 1;
    return p;
  }
  if (k == 1) {  // a lone worker, perhaps promoted to lead a group
    p.local_worker = 0;
    p.node_workers = 1;
  }
  for (int i = 1; i < k; ++i) p.children.push_back(rank_at(n, i));
  const auto f = static_cast<std::size_t>(fanout_);
  std::size_t pos = static_cast<std::size_t>(head_pos_[static_cast<std::size_t>(n)]);
  for (std::size_t lv = 0; lv < static_cast<std::size_t>(top_[static_cast<std::size_t>(n)]); ++lv, pos /= f) {
    const auto& level = levels_[lv];
    const std::size_t first = pos / f * f, end = std::min(level.size(), first + f);
    for (std::size_t j = first; j < end; ++j)
      if (level[j].rank != rank) p.children.push_back(level[j].rank);
  }
  return p;
}

std::size_t Topology::bytes() const {
  std::size_t b = sizeof(*this) + 4 * (node_start_.capacity() + members_.capacity() + node_of_.capacity() +
                                       index_.capacity() + head_pos_.capacity()) + top_.capacity();
  for (const auto& l : levels_) b += sizeof(l) + l.capacity() * sizeof(Entry);
  return b;
}

std::string Topology::describe(int most) const {
  std::string out;
  for (int r = 0; r < std::min(size(), most); ++r) {
    const auto p = place(r);
    out += "rank " + std::to_string(r) + ": " +
           (p.role == Role::root ? "root" : p.role == Role::submaster ? "sub-master" : "worker") + " node " +
           std::to_string(p.node) + " depth " + std::to_string(p.depth) + " parent " + std::to_string(p.parent) +
           " capacity " + std::to_string(p.capacity);
    if (!p.children.empty()) {
      out += " children";
      for (int c : p.children) out += " " + std::to_string(c);
    }
    out += "\n";
  }
  if (size() > most) out += "(and " + std::to_string(size() - most) + " more ranks)\n";
  return out;
}

}  // namespace parsl::mpi
