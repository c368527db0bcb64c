#pragma once
// Internal: the loop each rank runs, by role. Each feeds a protocol class from MPI.
#include <functional>
#include <string>
#include <vector>

#include "channel.hpp"
#include "parsl/mpi_exec/dispatcher.hpp"
#include "parsl/mpi_exec/mpi_executor.hpp"
#include "parsl/mpi_exec/topology.hpp"
#include "parsl/runtime/logger.hpp"

namespace parsl::mpi::detail {

/// Worker and sub-master loops return 0 after a clean shutdown, 1 after shutdown_error.
/// `block`: the worker's cores (Machine::worker_block), `how` they were chosen, for the log.
int worker_loop(Channel& ch, const Topology& topo, const MpiOptions& opts, const std::vector<int>& block,
                const std::string& how);
/// `name`: how the log names this rank (rank_name()).
int submaster_loop(Link& ch, const Topology& topo, const MpiOptions& opts, const std::string& name);

/// Rank 0: moves tasks from `exec` down the tree and events back to their handles until
/// `exec` is shut down with nothing in flight, then stops the tree. `exec` null: stop at
/// once. `failed()` says, at that moment, whether the stop is an error stop.
void root_loop(Link& ch, const Topology& topo, MpiExecutor* exec, Logger* log,
               const std::function<bool()>& failed);

/// A sub-master's side of the protocol, fed one message at a time: submaster_loop runs one
/// on its rank, and an emulating rank (emulation.hpp) runs many.
class SubmasterNode {
 public:
  /// `tree_capacity`: the root's (the whole tree's) capacity, for this rank's share of the
  /// start-up lines that go up (kStartupNotes); 0: no limit.
  SubmasterNode(const RankPlace& me, int rank, std::size_t max_batch, std::int64_t tree_capacity = 0);
  /// The first message up, with a line for rank 0's log.
  void hello(Link& link, std::string note);
  /// A message from the parent or a child (shared values are passed on at once). Throws
  /// ProtocolError for a malformed message or one from a stranger.
  void on_message(Link& link, int source, int tag, const std::string& bytes);
  /// After the messages of a round: tasks down, events up, the stop passed on, and once
  /// every child said bye, our own bye. Returns whether it sent tasks.
  bool turn(Link& link);
  /// It said bye.
  bool done() const noexcept { return done_; }
  /// 0 after a clean shutdown, 1 after shutdown_error.
  int status() const noexcept { return control_ == Control::shutdown_error ? 1 : 0; }
  const Dispatcher& dispatcher() const noexcept { return d_; }

 private:
  int parent_;
  std::vector<int> children_;
  int rank_;
  Dispatcher d_;
  Control control_ = Control::none;
  bool forwarded_ = false;
  bool done_ = false;
  std::int64_t note_budget_;   // start-up lines this rank may still pass up
  std::int64_t notes_dropped_ = 0;  // beyond the budget; with its children's, sent with the bye
  void trim_notes(std::vector<std::string>& notes);
};

/// A task message down, sending arguments of 64 KiB or more from where they are.
void send_down(Link& link, int dest, int tag, DownMsg&& msg);
[[noreturn]] void unexpected(int me, int source, int tag, const char* role, int parent);

}  // namespace parsl::mpi::detail
