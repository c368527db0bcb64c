#pragma once
/// @file
/// `Machine` (what the job's nodes offer) and `Placer` (rank 0's placement of tasks that ask
/// for more than one core: several cores, GPUs, memory, or MPI ranks), without MPI.

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "parsl/mpi_exec/protocol.hpp"
#include "parsl/mpi_exec/topology.hpp"
#include "parsl/runtime/executor.hpp"

namespace parsl::mpi {

/// What one node offers, as its lowest rank measured it with hwloc at start-up.
struct NodeHardware {
  std::int32_t cores = 1;    ///< physical cores
  std::int32_t numa = 1;     ///< NUMA domains
  std::int32_t gpus = 0;     ///< GPUs (CUDA, ROCm or Level Zero devices)
  std::uint64_t memory = 0;  ///< bytes; 0 when unknown (memory requests are then not limited)
  char host[64] = {};        ///< the node's host name (for a bash task's $PARSL_MPI_PREFIX)
};

/// Each worker's logical cores, in local-worker order. A node whose workers all have
/// Machine::core_block's blocks (the usual case) keeps only their count and share; one with other
/// blocks keeps them flat, one allocation per node rather than one per worker (at 262,144
/// workers, 15 MB of rank 0's memory).
class CoreBlocks {
 public:
  /// core_block(l, workers, cores) for every worker l.
  static CoreBlocks standard(int workers, int cores);
  std::span<const int> operator[](std::size_t local) const;
  std::size_t size() const noexcept { return standard_ ? static_cast<std::size_t>(workers_) : (at_.empty() ? 0 : at_.size() - 1); }
  /// Appends a worker's block (to blocks that are not standard).
  void push_back(const std::vector<int>& block);
  bool operator==(const std::vector<std::vector<int>>& blocks) const {
    if (blocks.size() != size()) return false;
    for (std::size_t l = 0; l < blocks.size(); ++l)
      if (!std::equal(blocks[l].begin(), blocks[l].end(), (*this)[l].begin(), (*this)[l].end())) return false;
    return true;
  }
  std::size_t bytes() const noexcept { return 4 * (cores_.capacity() + at_.capacity()); }

 private:
  bool standard_ = false;
  int workers_ = 0, share_ = 1, node_cores_ = 1;  // standard: the blocks are computed
  std::vector<int> cores_;  // the blocks; standard: empty (shared numbers), or 0 .. cores - 1
  std::vector<std::uint32_t> at_;  // where each block starts in cores_, and the end
};

/// Ranks in order; consecutive ones (a node's workers, as launchers place them) are kept as
/// the first and a count.
class RankList {
 public:
  int operator[](std::size_t i) const { return list_.empty() ? first_ + static_cast<int>(i) : list_[i]; }
  std::size_t size() const noexcept { return list_.empty() ? count_ : list_.size(); }
  bool empty() const noexcept { return size() == 0; }
  void push_back(int rank);
  bool operator==(const std::vector<int>& ranks) const {
    if (ranks.size() != size()) return false;
    for (std::size_t i = 0; i < ranks.size(); ++i)
      if (ranks[i] != (*this)[i]) return false;
    return true;
  }

 private:
  int first_ = 0;
  std::size_t count_ = 0;
  std::vector<int> list_;  // once they are not consecutive
};

/// Worker rank -> its logical cores, for the workers whose block is not core_block's.
using WorkerBlocks = std::unordered_map<int, std::vector<int>>;

/// The job's workers, node by node. Each worker owns a block of its node's cores, as
/// `worker_block` chooses and the worker binds (when pinning is on): by default `share` =
/// cores / workers (at least 1) consecutive cores in hwloc's logical order (`core_block`);
/// inside the CPU set a launcher bound the rank to, when it did; counting the program's
/// other ranks on the node when the job has some outside the executor (embedding). When
/// workers outnumber cores (oversubscription) a worker's block is the one core it shares,
/// and a worker still counts as one core: a task of k cores takes k workers.
class Machine {
 public:
  struct Node {
    NodeHardware hw;
    RankList workers;          ///< ranks, in local-worker order
    CoreBlocks blocks;         ///< each worker's logical cores, in local-worker order
    int share = 1;                         ///< cores per worker (the smallest block)
  };
  Machine() = default;
  /// `hardware[n]` describes node n of `topo` (missing entries: one core, no GPU).
  /// `blocks`: the workers whose cores (as they chose them, worker_block) are not
  /// core_block's; every other worker has core_block's.
  static Machine from(const Topology& topo, const std::vector<NodeHardware>& hardware,
                      const WorkerBlocks& blocks = {});

  /// The logical cores of worker `local` of `workers` on a node of `cores` cores.
  static std::vector<int> core_block(int local, int workers, int cores);

  /// Where a worker is on its node, for worker_block.
  struct Seat {
    std::vector<int> allowed;  ///< the logical cores its launcher bound it to; empty or all: unbound
    int node_cores = 1;        ///< the node's cores
    int index = 0, same = 1;   ///< its place among the node's workers bound to the same cores
    int local_worker = 0, node_workers = 1;  ///< its place among the node's workers
    int launcher_local = -1, launcher_ranks = -1;  ///< among every rank the launcher put on the node
    int node_ranks = 1;  ///< the executor's ranks on the node
  };
  /// The cores a worker takes. Bound by its launcher: its share of those cores among the
  /// workers bound to the same ones. Unbound, with ranks on the node that are not the
  /// executor's (a host code's): core_block over every rank the launcher put there. Else
  /// core_block over the node's workers.
  static std::vector<int> worker_block(const Seat& seat);

  const std::vector<Node>& nodes() const noexcept { return nodes_; }
  std::size_t workers() const noexcept;
  /// Workers a rank of `cores` cores takes on `node`.
  int workers_per_rank(std::size_t node, int cores) const;
  /// How many ranks of `need` an empty `node` can host.
  int ranks_on_node(std::size_t node, const Resources& need) const;
  /// Throws ConfigError naming `app`, the request and the biggest node, when no placement
  /// on the idle machine satisfies `need`.
  void check(const std::string& app, const Resources& need) const;
  /// "2 nodes: node 0 7 workers on 2 cores, 0 GPUs, 23.4 GiB; ..." for the log.
  std::string describe() const;

 private:
  std::vector<Node> nodes_;
};

/// Rank 0's placement of non-plain tasks (Resources::plain() false, or MPI apps). Such a
/// task is *placed*: rank 0 reserves workers for it (per rank: enough workers on one node for
/// its cores, that node's free GPUs and memory; the fewest nodes), sends each a Placement
/// directly, and counts their `ready` events; when all are idle it sends `go` to the members.
/// Meanwhile the other workers keep taking plain tasks (backfill). Tasks wait in priority
/// order, and one that cannot be placed yet blocks those behind it, so a large task is never
/// starved by smaller ones. A worker is reserved until its member reports the outcome, a
/// helper until the task ends. The task's outcome: the first failure of any member, else the
/// value of member 0, once every member has reported. Not thread-safe.
class Placer {
 public:
  explicit Placer(Machine machine = {});
  /// The same, sharing the executor's Machine instead of a copy (one per worker is a lot at
  /// 262,144 workers).
  explicit Placer(std::shared_ptr<const Machine> machine);

  struct Outcome {
    Event event;
    TaskHandle handle;
  };

  /// A try to place. One the machine can never satisfy fails its handle with ConfigError.
  void submit(TaskMsg&& task, TaskHandle handle = {});
  /// Drops a waiting task; for a placed one, cancels its members and releases its helpers.
  void cancel(std::uint64_t id);
  /// Takes the event if it belongs to a task placed here (true), applying it.
  bool on_event(const Event& e);
  /// Places what can be placed now, then returns the messages to send, directly, per worker.
  std::vector<std::pair<int, DownMsg>> take_direct();
  std::vector<Outcome> take_outcomes() { return std::exchange(outcomes_, {}); }
  /// Tries waiting or placed whose outcome has not been reported.
  std::size_t in_flight() const noexcept;
  std::size_t waiting() const noexcept { return waiting_.size(); }
  /// Nothing waiting, placed or to send: the common case, which costs rank 0 nothing.
  bool idle() const noexcept { return waiting_.empty() && active_.empty() && direct_.empty() && outcomes_.empty(); }
  /// Workers reserved now.
  std::size_t reserved_workers() const noexcept { return reserved_; }
  const Machine& machine() const noexcept { return *machine_; }

 private:
  struct Seat {
    int rank, node, local;
  };
  struct Active {
    TaskHandle handle;
    std::vector<Seat> members, helpers;
    std::vector<std::vector<int>> member_gpus;  // per member, on its node
    std::vector<char> done, ready;              // done per member; ready per member then helper
    std::size_t done_count = 0, ready_count = 0;
    std::uint64_t memory = 0;  // per member
    // A bash task's ranks beyond its first: held as helpers, with their GPUs and memory.
    std::vector<std::pair<int, std::vector<int>>> helper_gpus;  // node, GPUs
    std::vector<int> helper_memory_nodes;
    bool go_sent = false, reported = false, cancelled = false, failed = false;
    Event failure;
    std::string value;
    std::int64_t started_us = 0;  // member 0's start on its clock (monitoring)
  };
  struct Waiting {
    TaskMsg task;
    TaskHandle handle;
    std::uint64_t seq;
  };
  using Key = std::pair<std::uint64_t, std::uint32_t>;  // task id, try

  bool try_place(Waiting& w);
  void free_seat(const Seat& s);
  void end(Active& a);
  void release_helpers(Active& a);
  DownMsg& to(int rank) { return direct_[rank]; }

  std::shared_ptr<const Machine> machine_;
  std::vector<std::vector<char>> taken_;               // per node, per local worker
  std::vector<std::vector<char>> gpu_taken_;           // per node, per GPU
  std::vector<std::uint64_t> memory_taken_;            // per node
  std::vector<Waiting> waiting_;                       // priority order, then arrival
  std::map<Key, Active> active_;
  std::map<int, DownMsg> direct_;
  std::vector<Outcome> outcomes_;
  std::uint64_t seq_ = 0;
  std::size_t reserved_ = 0;
};

}  // namespace parsl::mpi
