#pragma once
// Internal: emulated scale (--parsl-mpi-emulate, parsl/mpi_exec/emulation.hpp). A plan says
// which real rank runs each virtual rank; a Router carries messages between virtual ranks
// (in-process, or over MPI with an envelope); a VirtualLink is one virtual rank's end, for
// the real root and sub-master loops; host_loop runs every virtual rank a real rank hosts.

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "channel.hpp"
#include "parsl/mpi_exec/emulation.hpp"
#include "parsl/mpi_exec/mpi_executor.hpp"
#include "parsl/mpi_exec/topology.hpp"

namespace parsl::mpi::detail {

/// Which real rank runs each rank of the virtual tree.
///
/// Real rank 0 is the root (virtual rank 0). Real ranks 1..L are the sub-masters of one
/// complete path down the tree (from the root, each time into the child sub-master with the
/// largest subtree, down to a node's sub-master): they run the real sub-master loop. The
/// other real ranks *host* the rest: every child of a path rank that is not on the path is
/// a whole subtree, and the subtrees go to the hosts largest first, each to the least loaded.
struct EmulationPlan {
  int nodes = 0, workers_per_node = 0, real_ranks = 0;
  Topology topo;                       ///< the virtual tree
  std::vector<int> path;               ///< path[k]: virtual rank of real rank k + 1
  std::vector<std::int64_t> hosted;    ///< per real rank: virtual ranks it runs
  /// The whole subtrees off the path, (virtual rank of the subtree's top, its host), by
  /// virtual rank: a few hundred at 8,192 nodes, so that no rank holds a host per virtual
  /// rank unless it hosts (rank 0's memory does not grow with the workers).
  std::vector<std::pair<int, int>> units;

 private:
  const Topology* moved_to_ = nullptr;

 public:

  /// The virtual tree, wherever it is now.
  const Topology& tree() const noexcept { return moved_to_ ? *moved_to_ : topo; }
  /// Moves the tree to `to` (the job's), which must outlive the plan: one copy per rank.
  void hand_over(Topology& to) {
    to = std::move(topo);
    moved_to_ = &to;
  }
  /// Throws ConfigError when `real_ranks` is too few for the root, the path and one host.
  static EmulationPlan build(int nodes, int workers_per_node, int fanout, int prefetch, int real_ranks);
  /// The virtual rank of real rank `real` when it runs exactly one (the root and the path),
  /// else -1 (a host).
  int single_of(int real) const noexcept;
  /// The real rank that runs virtual rank `v` (walking up to the top of its subtree).
  int host_of(int v) const;
  /// Every virtual rank `host` runs, in order.
  std::vector<int> hosted_by(int host) const;
  /// What is emulated and what is real, for the log.
  std::string describe() const;
};

/// What a real rank counted, summed at rank 0 after the run (EmulationSummary).
struct EmulationCounts {
  static constexpr int kLevels = EmulationSummary::kLevels;
  std::array<std::int64_t, kLevels> byes{}, sent{}, bytes{}, over_mpi{};
  std::int64_t tasks_done = 0, tasks_failed = 0, handed_back = 0, root_in = 0;
};

/// Carries messages between virtual ranks for one real rank. A message to a virtual rank
/// hosted here is queued in-process; any other goes over MPI to its host with an 8-byte
/// envelope (virtual source and destination, little-endian int32) before the protocol bytes.
class Router {
 public:
  Router(Channel& ch, const EmulationPlan& plan);
  void send(int from, int to, int tag, std::string bytes);
  /// The next message for a virtual rank hosted here: in-process ones first, then MPI's.
  bool next(int& to, int& from, int& tag, std::string& bytes);
  Channel& channel() noexcept { return ch_; }
  const EmulationPlan& plan() const noexcept { return plan_; }
  EmulationCounts& counts() noexcept { return counts_; }

 private:
  struct Local {
    int to, from, tag;
    std::string bytes;
  };
  int host_of(int v);  // checked: throws ProtocolError for a rank outside the tree
  Channel& ch_;
  const EmulationPlan& plan_;
  // A host: the host and depth of every virtual rank, looked up on every message. The root
  // and the path's sub-masters, which talk to a few hundred ranks: those, as they come.
  std::vector<std::int32_t> host_;
  std::vector<std::int8_t> depth_;
  std::unordered_map<int, int> seen_;
  std::deque<Local> local_;
  EmulationCounts counts_;
};

/// One virtual rank's end of a Router: what the real root and sub-master loops talk through.
class VirtualLink final : public Link {
 public:
  VirtualLink(Router& router, int vrank) : router_(router), vrank_(vrank) {}
  int rank() const noexcept override { return vrank_; }
  void send(int dest, int tag, std::string bytes) override { router_.send(vrank_, dest, tag, std::move(bytes)); }
  bool try_receive(int& source, int& tag, std::string& bytes) override;
  std::size_t progress() override { return router_.channel().progress(); }
  void flush() override { router_.channel().flush(); }

 private:
  Router& router_;
  int vrank_;
};

/// A host: runs every virtual sub-master and emulated worker it hosts until all said bye.
/// Returns 0 after a clean shutdown, 1 after shutdown_error.
int host_loop(Router& router, const MpiOptions& opts);

/// The counts of every real rank, summed at rank 0 (collective over the router's channel).
EmulationSummary gather_summary(Router& router);

}  // namespace parsl::mpi::detail
