#pragma once
/// @file
/// `DataFlowKernel`: tracks every task from submission to its final state.

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "parsl/runtime/app_def.hpp"
#include "parsl/runtime/config.hpp"
#include "parsl/runtime/detail/task_record.hpp"
#include "parsl/runtime/executor.hpp"
#include "parsl/runtime/logger.hpp"
#include "parsl/runtime/task_state.hpp"

namespace parsl {

namespace detail {
class MemoTable;
class WalltimeTimer;
class Checkpointer;
class MonitoringDb;
}  // namespace detail

/// The dataflow kernel (Parsl's DFK). One per process at a time; app calls go to the
/// running one. It launches each task once its input futures are done, retries failures
/// within the configured budget, memoizes cacheable apps, and counts tasks per state.
///
/// The kernel keeps no record of finished tasks: memory is bounded by the tasks in flight
/// plus whatever futures the program keeps.
///
/// @code
///   parsl::DataFlowKernel dfk(parsl::Config{});
///   auto f = my_app(1);
///   dfk.wait_for_current_tasks();
///   dfk.cleanup();    // also done by the destructor
/// @endcode
class DataFlowKernel {
 public:
  /// Starts the kernel: checks the app registry and the executor labels, creates the run
  /// directory and its log, starts the executors. Throws KernelError when another kernel
  /// is running in this process, ConfigError for a bad configuration.
  explicit DataFlowKernel(Config config);
  /// Calls cleanup().
  ~DataFlowKernel();
  DataFlowKernel(const DataFlowKernel&) = delete;
  DataFlowKernel& operator=(const DataFlowKernel&) = delete;

  /// The running kernel. Throws KernelError when there is none.
  static DataFlowKernel& current();
  /// The running kernel, or nullptr.
  static DataFlowKernel* current_or_null() noexcept;

  /// Blocks until every task submitted so far (and every task those submit) is final.
  void wait_for_current_tasks();
  /// Waits for all tasks, then shuts down the executors. Later submissions throw
  /// KernelError. Idempotent; called by the destructor.
  void cleanup();

  /// Number of tasks in each state right now (final states accumulate).
  TaskStateCounts task_state_counts() const noexcept;
  /// Tasks submitted and not yet final.
  std::int64_t outstanding() const noexcept { return outstanding_.load(std::memory_order_acquire); }
  /// This run's folder, e.g. runinfo/003.
  const std::filesystem::path& run_dir() const noexcept { return run_dir_; }
  Logger& logger() noexcept { return logger_; }
  /// parsl::share: hands a shared value's bytes to every executor (those that run tasks
  /// elsewhere send them to their workers), and later tells them it is released.
  void share_with_executors(std::uint64_t id, const std::shared_ptr<const std::string>& bytes);
  void unshare_with_executors(std::uint64_t id) noexcept;
  const Config& config() const noexcept { return config_; }
  /// Entries in the memo table.
  std::size_t memo_size() const;
  /// Writes the memoized results not yet checkpointed as a new segment now (Parsl's manual
  /// checkpoint; works in every mode but none). Returns how many. Throws CheckpointError.
  std::size_t checkpoint();

  /// Submits `task` (called by apps). Throws KernelError after cleanup, ConfigError for an
  /// unknown executor label.
  void submit(std::shared_ptr<detail::TaskRecord> task, const CallOptions& options);
  /// AppFuture::cancel(): see there.
  bool cancel(const std::shared_ptr<detail::TaskRecord>& task);

 private:
  friend class TaskHandle;
  friend class detail::TaskRecord;
  friend class detail::WalltimeTimer;

  struct ExecutorSlot {
    std::shared_ptr<Executor> executor;
    bool internal;
  };

  void set_state(detail::TaskRecord& t, TaskState s) noexcept;
  /// set_state only if the task is in state `from`; returns whether it was.
  bool change_state(detail::TaskRecord& t, TaskState from, TaskState to) noexcept;
  void finish_cancelled(const std::shared_ptr<detail::TaskRecord>& task);
  /// Argument futures and DataFuture inputs alike.
  static void for_each_input(const detail::TaskRecord& t, const std::function<void(detail::TaskRecord&)>& fn);
  void ready(std::shared_ptr<detail::TaskRecord> task);
  void dispatch(std::shared_ptr<detail::TaskRecord> task, bool relaunch);
  void process_ready(std::shared_ptr<detail::TaskRecord> task);
  void launch(std::shared_ptr<detail::TaskRecord> task);
  Executor* choose_executor(const detail::TaskRecord& t);
  void dependency_failed(const std::shared_ptr<detail::TaskRecord>& task);
  // Reports from executors (through TaskHandle) and the timer.
  void try_started(const std::shared_ptr<detail::TaskRecord>& task, std::uint32_t attempt,
                   double already_running = 0);
  /// `encoded`: the value's bytes when the executor has them (no encoding again for the memo).
  void try_succeeded(const std::shared_ptr<detail::TaskRecord>& task, const std::string_view* encoded = nullptr);
  void try_failed(const std::shared_ptr<detail::TaskRecord>& task, std::exception_ptr error);
  void try_joining(const std::shared_ptr<detail::TaskRecord>& task);
  void join_finished(const std::shared_ptr<detail::TaskRecord>& task, std::exception_ptr error);
  void finish(const std::shared_ptr<detail::TaskRecord>& task, TaskState final_state,
              std::exception_ptr error);
  void memo_store(const detail::TaskRecord& t, const std::string_view* encoded);
  bool memo_lookup(detail::TaskRecord& t);

  Config config_;
  std::atomic<bool> draining_{false};  // a try met the job's end (JobEnding); logged once
  std::filesystem::path run_dir_;
  Logger logger_;
  std::vector<ExecutorSlot> executors_;
  std::shared_ptr<Executor> internal_executor_;
  std::vector<Executor*> user_executors_;
  std::atomic<std::uint64_t> round_robin_{0};
  std::unique_ptr<detail::MemoTable> memo_;
  std::unique_ptr<detail::WalltimeTimer> timer_;
  std::unique_ptr<detail::Checkpointer> checkpointer_;
  std::unique_ptr<detail::MonitoringDb> monitor_;  // null unless Config::monitoring
  std::mutex timer_mutex_;

  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<std::int64_t> outstanding_{0};
  std::array<std::atomic<std::int64_t>, kTaskStateCount> counts_{};
  std::atomic<bool> accepting_{true};
  std::atomic<bool> cleaned_up_{false};
  std::mutex cleanup_mutex_;
};

}  // namespace parsl
