#pragma once
/// @file
/// The shape of the dispatch tree: who is the root, a sub-master or a worker, and who talks
/// to whom. Computed identically on every rank from the node of each rank.

#include <cstdint>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace parsl::mpi {

enum class Role { root, submaster, worker };

struct RankPlace {
  Role role = Role::worker;
  int parent = -1;            ///< -1 for the root
  std::vector<int> children;  ///< empty for workers
  int depth = 0;              ///< root 0, its children 1, ...
  std::int64_t capacity = 0;  ///< tasks the subtree asks for at start (workers: 1 + minimum prefetch)
  int node = 0;               ///< node index
  int local_worker = 0;       ///< workers: index among the workers of its node
  int node_workers = 0;       ///< workers: how many workers its node has
};

/// The whole tree.
///
/// Rules: rank 0 is the root, and the other ranks of its node are workers under it. On every
/// other node, when the node has two or more ranks, its lowest rank is the node's sub-master
/// and the others are its workers; a node with one rank has just a worker. The nodes' heads
/// (sub-masters first) hang under the root; when there are more than `fanout`, they are
/// grouped `fanout` at a time under the first head of each group (a sub-master where the
/// group has one), level by level. A rank therefore has at most (fanout - 1) children per
/// level it leads, plus the workers of its own node, plus the root's at most `fanout`: at
/// 8,192 nodes of 32 ranks and fan-out 64, at most 157 children and a depth of 4. A job on
/// one node is a flat tree: the root and its workers.
class Topology {
 public:
  /// `node_of_rank[r]` is the node of rank r (any integers; equal means same node).
  static Topology build(const std::vector<int>& node_of_rank, int fanout, int prefetch);
  /// Nodes of consecutive ranks: node n has `ranks_of_node[n]` ranks (at least 1 each), the
  /// first node starting at rank 0. What emulation uses, without a vector over every rank.
  static Topology build_consecutive(const std::vector<int>& ranks_of_node, int fanout, int prefetch);

  /// A rank's place, computed from the tree's per-node description (its children: a node's
  /// workers and at most fanout - 1 per level it leads). Throws std::out_of_range for a rank
  /// outside the tree.
  RankPlace place(int rank) const;
  /// Parts of place(rank), without building its list of children.
  Role role(int rank) const;
  int parent(int rank) const;
  int depth_of(int rank) const;
  int node_of(int rank) const;
  std::int64_t capacity(int rank) const;
  /// Ranks in the subtree under `rank`, itself included, and workers among them.
  std::int64_t subtree_ranks(int rank) const;
  std::int64_t subtree_workers(int rank) const { return capacity(rank) / (1 + prefetch_); }

  int size() const { return size_; }
  int workers() const { return workers_; }
  int depth() const { return depth_; }
  int nodes() const { return static_cast<int>(node_start_.size()) - 1; }
  /// The bytes it holds: O(nodes) when every node's ranks are consecutive (as launchers
  /// place them by default, and as emulation does), plus 12 per rank otherwise.
  std::size_t bytes() const;
  /// One line per rank, for the log: the first `most`, then how many more.
  std::string describe(int most = 64) const;

 private:
  // A head (a node's lowest rank, other than rank 0's node) at one level of grouping: level
  // 0 lists every head, level k + 1 the leader of each group of `fanout` at level k.
  struct Entry {
    std::int32_t rank;
    std::int32_t parent;    // final: where it hangs in the tree
    std::int64_t workers;   // workers in its subtree, as far as levels <= this one
    std::int64_t ranks;     // ranks in that subtree, itself included
    std::int32_t depth;     // final
    bool sub;               // a sub-master (so far)
  };
  static Topology finish(Topology t, int fanout, int prefetch);
  int node_size(int node) const { return node_start_[static_cast<std::size_t>(node) + 1] - node_start_[static_cast<std::size_t>(node)]; }
  int rank_at(int node, int index) const;  // the index-th lowest rank of a node
  int index_in_node(int rank, int node) const;
  const Entry& top_entry(int node) const;  // a head's entry at the highest level it reaches

  int size_ = 0, fanout_ = 2, prefetch_ = 0, workers_ = 0, depth_ = 0;
  std::vector<std::int32_t> node_start_;  // per node (in order of lowest rank), then the end
  std::vector<std::int32_t> members_;     // ranks by node; empty when every node is consecutive
  std::vector<std::int32_t> node_of_;     // per rank; empty when every node is consecutive
  std::vector<std::int32_t> index_;       // per rank, its index in its node; likewise
  std::vector<std::int32_t> head_pos_;    // per node: position at level 0 (-1: rank 0's node)
  std::vector<std::int8_t> top_;          // per node: the highest level its head reaches
  std::vector<std::vector<Entry>> levels_;
};

}  // namespace parsl::mpi
