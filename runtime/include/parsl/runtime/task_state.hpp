#pragma once
/// @file
/// The states a task passes through, named as Parsl names them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace parsl {

/// Where a task is in its life. Final states: exec_done, memo_done, failed, dep_fail.
///
///   pending --(inputs done)--> launched --> running --> exec_done
///      |                          |            |-----> fail_retryable --> launched (retry)
///      |                          |            |-----> failed
///      |                          |            '-----> joining --> exec_done | failed (join apps)
///      |                          '-- (memo hit) memo_done
///      '--(an input failed)--> dep_fail
enum class TaskState : std::uint8_t {
  pending,         ///< submitted; waiting for its input futures
  launched,        ///< handed to an executor
  running,         ///< an executor started it
  exec_done,       ///< finished with a value
  failed,          ///< failed, no retries left (or the retry handler refused)
  dep_fail,        ///< never ran: an input failed
  fail_retryable,  ///< failed, will be retried
  memo_done,       ///< completed from the memo table or a checkpoint, without running
  joining,         ///< a join app's body returned; waiting for its inner futures
};

inline constexpr std::size_t kTaskStateCount = 9;

/// Parsl's name for a state ("exec_done", "dep_fail", ...).
constexpr std::string_view to_string(TaskState s) {
  constexpr std::array<std::string_view, kTaskStateCount> names = {
      "pending", "launched", "running", "exec_done", "failed",
      "dep_fail", "fail_retryable", "memo_done", "joining"};
  return names[static_cast<std::size_t>(s)];
}

/// True for exec_done, memo_done, failed and dep_fail.
constexpr bool is_final(TaskState s) {
  return s == TaskState::exec_done || s == TaskState::memo_done || s == TaskState::failed ||
         s == TaskState::dep_fail;
}

/// Number of tasks in each state, indexed by `TaskState`.
struct TaskStateCounts {
  std::array<std::int64_t, kTaskStateCount> count{};
  std::int64_t operator[](TaskState s) const { return count[static_cast<std::size_t>(s)]; }
};

}  // namespace parsl
