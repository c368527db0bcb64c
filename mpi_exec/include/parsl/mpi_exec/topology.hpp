#pragma once
/// @file
/// The shape of the dispatch tree: who is the root, a sub-master or a worker, and who talks
/// to whom. Computed identically on every rank from the node of each rank.

#include <cstdint>
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

  /// Throws std::out_of_range for a rank that is not kept (see keep_only).
  const RankPlace& place(int rank) const {
    if (kept_.empty()) return places_.at(static_cast<std::size_t>(rank));
    for (std::size_t i = 0; i < kept_.size(); ++i)
      if (kept_[i] == rank) return places_[i];
    throw std::out_of_range("the tree on this rank keeps only its own place and the root's, not rank " +
                            std::to_string(rank) + "'s");
  }
  int size() const { return size_; }
  /// Forgets every place but `rank`'s and the root's: what a worker or sub-master needs once
  /// the job has started. Every rank builds the whole tree (about 64 bytes per rank, so 17 MB
  /// on each of 262,144 ranks); keeping two places makes it O(1). size(), workers() and
  /// depth() stay those of the whole tree.
  void keep_only(int rank);
  int workers() const { return workers_; }
  int depth() const { return depth_; }
  /// One line per rank, for the log.
  std::string describe() const;

 private:
  std::vector<RankPlace> places_;
  std::vector<int> kept_;  // after keep_only: the ranks of places_, in order
  int size_ = 0;
  int workers_ = 0;
  int depth_ = 0;
};

}  // namespace parsl::mpi
