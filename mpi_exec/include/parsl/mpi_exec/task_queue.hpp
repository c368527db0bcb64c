#pragma once
/// @file
/// `TaskQueue`: tasks in priority order, lower first, first-in first-out among equals.

#include <cstdint>
#include <queue>
#include <vector>

#include "parsl/mpi_exec/protocol.hpp"

namespace parsl::mpi {

/// The queue every level of the tree keeps. Not thread-safe.
class TaskQueue {
 public:
  void push(TaskMsg&& task) {
    const std::int32_t p = task.priority;
    heap_.push(Entry{p, seq_++, std::move(task)});
  }
  /// Removes and returns the most urgent task. The queue must not be empty.
  TaskMsg pop() {
    // top() is const; the entry is popped right away, so moving out of it is safe.
    TaskMsg t = std::move(const_cast<Entry&>(heap_.top()).task);
    heap_.pop();
    return t;
  }
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }

 private:
  struct Entry {
    std::int32_t priority;
    std::uint64_t seq;
    TaskMsg task;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.priority != b.priority ? a.priority > b.priority : a.seq > b.seq;
    }
  };
  std::priority_queue<Entry, std::vector<Entry>, Later> heap_;
  std::uint64_t seq_ = 0;
};

}  // namespace parsl::mpi
