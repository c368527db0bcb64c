#pragma once
/// @file
/// `Dispatcher`: the protocol logic of the root and of sub-masters, without MPI.

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "parsl/mpi_exec/protocol.hpp"
#include "parsl/mpi_exec/task_queue.hpp"
#include "parsl/runtime/executor.hpp"

namespace parsl::mpi {

/// Holds tasks from above in priority order (lower first, first-in first-out among equals)
/// and hands them to children as their credit allows; collects children's events for the
/// way up. Credit is transparent: every unit a child grants is passed up, so the tasks held
/// by this rank and its subtree never exceed what the workers below asked for.
///
/// It remembers where each task it handled went (queued here, or which child), so that a
/// cancellation follows the task's path down, a task handed back by a busy child is queued
/// again (or dropped when it was cancelled meanwhile), and a task's outcome finds its
/// `TaskHandle` at the root. Not thread-safe: one thread per rank.
///
/// @code
///   Dispatcher d({2, 3});
///   d.on_up(2, UpMsg{.credit = 5});
///   d.push_tasks(std::move(tasks));
///   for (auto& [child, msg] : d.dispatch()) send(child, msg);
/// @endcode
class Dispatcher {
 public:
  /// `at_root`: events of live tries become outcomes() with their handles, and events of
  /// abandoned or unknown tries are dropped; below the root every event goes up.
  explicit Dispatcher(std::vector<int> children, std::size_t max_batch = 512, bool at_root = false);

  /// Tasks from the parent (or the kernel, at the root, with its handle).
  void push_tasks(std::vector<TaskMsg>&& tasks);
  void push_task(TaskMsg&& task, TaskHandle handle = {});
  /// Cancels task `id` wherever it is below: dropped from this queue, or a cancel queued for
  /// the child that holds it (sent by the next dispatch()). Forgets the task. A task not
  /// known here (finished, or passed up) is ignored.
  void cancel(std::uint64_t id);
  /// A message from `child`. Throws ProtocolError when `child` is not one of ours. Tasks it
  /// hands back are queued again, unless cancelled or abandoned meanwhile.
  void on_up(int child, UpMsg&& msg);
  /// Messages to send now: queued tasks assigned to children with credit, and cancels.
  std::vector<std::pair<int, DownMsg>> dispatch();
  /// Sub-masters: the tasks no child could take (handed back by one, and no other has
  /// credit), for the parent to place elsewhere. Forgets them.
  std::vector<TaskMsg> take_unplaceable();

  /// Events gathered for the parent; moved out.
  std::vector<Event> take_events() { return std::exchange(events_, {}); }
  /// At the root: an event of a live try, with the task's handle.
  struct Outcome {
    Event event;
    TaskHandle handle;
  };
  std::vector<Outcome> take_outcomes() { return std::exchange(outcomes_, {}); }
  bool has_events() const noexcept {
    return !events_.empty() || !notes_.empty() || credit_up_ > 0;
  }
  /// Log lines from below, for the parent; moved out.
  std::vector<std::string> take_notes() { return std::exchange(notes_, {}); }
  /// Start-up lines the children counted instead of sending (UpMsg::notes_dropped), ever.
  std::int64_t notes_dropped() const noexcept { return notes_dropped_; }
  /// Credit gathered for the parent (what children granted since the last call); reset.
  std::int64_t take_credit() noexcept { return std::exchange(credit_up_, 0); }
  std::size_t queued() const noexcept { return queue_.size(); }
  /// Credit the children have granted, ever (at the start, every worker's first request).
  std::int64_t granted() const noexcept { return granted_; }
  /// Tasks known here: queued or below, not yet finished.
  std::size_t tracked() const noexcept { return where_.size(); }
  /// Children that said `bye`.
  std::size_t finished_children() const noexcept { return byes_; }
  const std::vector<int>& children() const noexcept { return children_; }

 private:
  static constexpr int kHere = -1;
  struct Where {
    int child = kHere;  // index into children_, or kHere
    std::uint32_t attempt = 0;
    TaskHandle handle;
  };
  std::vector<int> children_;
  std::unordered_map<int, std::size_t> index_;
  std::vector<std::int64_t> credit_;
  std::vector<bool> said_bye_;
  std::vector<std::vector<std::uint64_t>> cancels_;  // per child, to send
  std::size_t cancels_pending_ = 0;                  // in all of cancels_
  std::size_t byes_ = 0;
  TaskQueue queue_;
  std::unordered_map<std::uint64_t, Where> where_;
  std::vector<Event> events_;
  std::vector<Outcome> outcomes_;
  std::vector<std::string> notes_;
  std::int64_t credit_up_ = 0;
  std::int64_t granted_ = 0;
  std::int64_t notes_dropped_ = 0;
  std::vector<std::size_t> take_;  // dispatch(): tasks for each child this round
  std::size_t max_batch_;
  bool at_root_;
};

}  // namespace parsl::mpi
