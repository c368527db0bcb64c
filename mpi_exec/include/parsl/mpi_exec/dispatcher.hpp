#pragma once
/// @file
/// `Dispatcher`: the protocol logic of the root and of sub-masters, without MPI.

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "parsl/mpi_exec/protocol.hpp"
#include "parsl/mpi_exec/task_queue.hpp"

namespace parsl::mpi {

/// Holds tasks from above in priority order (lower first, first-in first-out among equals)
/// and hands them to children as their credit allows; collects children's events for the
/// way up. Credit is transparent: every unit a child grants is passed up, so the tasks held
/// by this rank and its subtree never exceed what the workers below asked for. Not
/// thread-safe: one thread per rank.
///
/// @code
///   Dispatcher d({2, 3});
///   d.on_up(2, UpMsg{.credit = 5});
///   d.push_tasks(std::move(tasks));
///   for (auto& [child, msg] : d.dispatch()) send(child, msg);
/// @endcode
class Dispatcher {
 public:
  explicit Dispatcher(std::vector<int> children, std::size_t max_batch = 512);

  /// Tasks from the parent (or the kernel, at the root).
  void push_tasks(std::vector<TaskMsg>&& tasks);
  void push_task(TaskMsg&& task);
  /// A message from `child`. Throws ProtocolError when `child` is not one of ours.
  void on_up(int child, UpMsg&& msg);
  /// Messages to send now: queued tasks assigned to children with credit.
  std::vector<std::pair<int, DownMsg>> dispatch();

  /// Events gathered for the parent; moved out.
  std::vector<Event> take_events() { return std::exchange(events_, {}); }
  bool has_events() const noexcept { return !events_.empty() || !notes_.empty() || credit_up_ > 0; }
  /// Log lines from below, for the parent; moved out.
  std::vector<std::string> take_notes() { return std::exchange(notes_, {}); }
  /// Credit gathered for the parent (what children granted since the last call); reset.
  std::int64_t take_credit() noexcept { return std::exchange(credit_up_, 0); }
  std::size_t queued() const noexcept { return queue_.size(); }
  /// Children that said `bye`.
  std::size_t finished_children() const noexcept { return byes_; }
  const std::vector<int>& children() const noexcept { return children_; }

 private:
  std::vector<int> children_;
  std::unordered_map<int, std::size_t> index_;
  std::vector<std::int64_t> credit_;
  std::vector<bool> said_bye_;
  std::size_t byes_ = 0;
  TaskQueue queue_;
  std::vector<Event> events_;
  std::vector<std::string> notes_;
  std::int64_t credit_up_ = 0;
  std::size_t max_batch_;
};

}  // namespace parsl::mpi
