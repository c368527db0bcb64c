#pragma once
/// @file
/// What a running task knows about itself.

#include <atomic>
#include <cstdint>
#include <optional>

namespace parsl {

/// Set on the thread that runs a task, wherever it runs (thread pool, MPI worker), for the
/// duration of the task. Bash apps use it for their log names, their walltime and the
/// PARSL_TASK_ID variable.
struct TaskContext {
  std::uint64_t task_id = 0;  ///< 0: not inside a task
  std::uint32_t attempt = 0;
  std::optional<double> walltime;  ///< seconds
  /// Becomes true when the task is cancelled while it runs; long-running code may poll it
  /// (bash and isolated tasks are killed when it does). Null: cannot be cancelled.
  const std::atomic<bool>* cancel = nullptr;
  bool cancelled() const noexcept { return cancel != nullptr && cancel->load(std::memory_order_acquire); }
};

/// The context of the task running on this thread (task_id 0 outside tasks).
const TaskContext& current_task() noexcept;

namespace detail {
/// Sets the context for its lifetime.
class ScopedTaskContext {
 public:
  explicit ScopedTaskContext(TaskContext c) noexcept;
  ~ScopedTaskContext();
  ScopedTaskContext(const ScopedTaskContext&) = delete;
  ScopedTaskContext& operator=(const ScopedTaskContext&) = delete;

 private:
  TaskContext saved_;
};
}  // namespace detail

}  // namespace parsl
