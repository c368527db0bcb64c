#pragma once
/// @file
/// `TaskQueue`: tasks in priority order, lower first, first-in first-out among equals.

#include <algorithm>
#include <cstdint>
#include <unordered_set>
#include <vector>

#include "parsl/mpi_exec/protocol.hpp"

namespace parsl::mpi {

/// The queue every level of the tree keeps. Cancelled tasks are removed lazily: `remove`
/// marks a queued task dead in O(1) (or O(n) when the caller does not know it is queued),
/// and `pop` skips dead entries. Not thread-safe.
class TaskQueue {
 public:
  void push(TaskMsg&& task) {
    const std::int32_t p = task.priority;
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
      slots_[slot] = std::move(task);
    } else {
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back(std::move(task));
    }
    heap_.push_back(Entry{p, slot, seq_++});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
    ++live_;
  }
  /// Removes and returns the most urgent task. The queue must not be empty.
  TaskMsg pop() {
    for (;;) {
      std::pop_heap(heap_.begin(), heap_.end(), Later{});
      const std::uint32_t slot = heap_.back().slot;
      heap_.pop_back();
      TaskMsg t = std::move(slots_[slot]);
      free_.push_back(slot);
      if (!dead_.empty() && dead_.erase(t.id) > 0) continue;
      --live_;
      if (live_ == 0) clear_dead();
      return t;
    }
  }
  bool empty() const noexcept { return live_ == 0; }
  std::size_t size() const noexcept { return live_; }

  /// Drops task `id`, which the caller knows is queued here. O(1).
  void remove_queued(std::uint64_t id) {
    if (live_ == 0 || !dead_.insert(id).second) return;
    if (--live_ == 0) clear_dead();
  }
  /// Drops task `id` if it is queued here; returns whether it was. O(n).
  bool remove(std::uint64_t id) {
    if (dead_.count(id) > 0) return false;
    for (const auto& e : heap_)
      if (slots_[e.slot].id == id) {
        remove_queued(id);
        return true;
      }
    return false;
  }
  /// Every live task, most urgent first; the queue is left empty.
  std::vector<TaskMsg> take_all() {
    std::vector<TaskMsg> out;
    out.reserve(live_);
    while (!empty()) out.push_back(pop());
    return out;
  }

 private:
  // The heap orders small keys; the tasks stay in their slots (a task is moved twice, in
  // and out, not at every step of the heap).
  struct Entry {
    std::int32_t priority;
    std::uint32_t slot;
    std::uint64_t seq;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.priority != b.priority ? a.priority > b.priority : a.seq > b.seq;
    }
  };
  void clear_dead() {
    heap_.clear();
    dead_.clear();
    slots_.clear();
    free_.clear();
  }
  std::vector<Entry> heap_;
  std::vector<TaskMsg> slots_;
  std::vector<std::uint32_t> free_;
  std::unordered_set<std::uint64_t> dead_;
  std::size_t live_ = 0;
  std::uint64_t seq_ = 0;
};

}  // namespace parsl::mpi
