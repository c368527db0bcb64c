#pragma once
/// @file
/// The kernel's record of one task, which is also the shared state behind its futures.
/// Internal: users see `AppFuture<T>`, executor authors see `TaskHandle`.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsl/runtime/file.hpp"
#include "parsl/runtime/resources.hpp"
#include "parsl/runtime/task_state.hpp"
#include "parsl/serial/content_hash.hpp"

namespace parsl {
class DataFlowKernel;
class Executor;
class TaskHandle;
struct AppDef;

namespace detail {

/// What one try of a task run in this process came to.
enum class TryOutcome {
  succeeded,  ///< value stored; the kernel completes the task
  failed,     ///< `error` set; the kernel retries or fails the task
  discarded,  ///< the try lost its claim (walltime expired first); nothing to report
  joining,    ///< a join app's body returned its inner futures
};
struct TryResult {
  TryOutcome outcome;
  std::exception_ptr error;
};

class TaskRecord;
/// AppFuture::cancel().
bool cancel_task(const std::shared_ptr<TaskRecord>& task);

/// A tiny spin lock for the callback list: held for a few instructions, never across a call.
class SpinLock {
 public:
  void lock() noexcept {
    while (flag_.test_and_set(std::memory_order_acquire)) {
      while (flag_.test(std::memory_order_relaxed)) {
      }
    }
  }
  void unlock() noexcept { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag flag_ = ATOMIC_FLAG_INIT;
};

/// One task. Created by an app call, owned jointly by the futures the user holds, the
/// tasks that depend on it (until they resolve), and the kernel/executor while in flight.
/// The kernel keeps no table of records: a finished task the user dropped is freed.
class TaskRecord {
 public:
  using Callback = std::function<void()>;

  explicit TaskRecord(std::shared_ptr<const AppDef> app) noexcept : app_(std::move(app)) {}
  virtual ~TaskRecord();
  TaskRecord(const TaskRecord&) = delete;
  TaskRecord& operator=(const TaskRecord&) = delete;

  std::uint64_t id() const noexcept { return id_; }
  TaskState state() const noexcept { return state_.load(std::memory_order_acquire); }
  bool done() const noexcept { return done_.load(std::memory_order_acquire) != 0; }
  const AppDef& app() const noexcept { return *app_; }
  const std::string& app_name() const noexcept;

  /// Blocks until the task is final. Spins briefly first: most waits are short.
  void wait() const noexcept;
  /// Blocks until final or `deadline`; returns done().
  bool wait_until(std::chrono::steady_clock::time_point deadline) const noexcept;
  /// The task's error; valid (and immutable) once done().
  const std::exception_ptr& error() const noexcept { return error_; }
  /// The files given as this call's outputs (set at submission, then immutable).
  const std::vector<File>& outputs() const noexcept { return outputs_; }
  /// The files given as this call's inputs.
  const std::vector<File>& input_files() const noexcept { return input_files_; }

  /// Runs `cb` once the task is final: now, on this thread, if it already is; otherwise on
  /// the thread that completes the task. `cb` must not throw.
  void on_done(Callback cb);

  // ---- argument and result handling, implemented per app type ----
  /// Calls `fn(record)` for each task this one waits on (futures in its arguments).
  virtual void for_each_dependency(const std::function<void(TaskRecord&)>& fn) const = 0;
  /// Replaces futures in the arguments by their values. Dependencies are all done.
  virtual void resolve_arguments() = 0;
  /// Runs the app here, on this thread, for try `attempt`. Stores the value when the try
  /// wins its claim. Never throws.
  virtual TryResult run_local(std::uint32_t attempt) noexcept = 0;
  /// Join apps: waits on the inner futures the body returned, then reports to the kernel.
  virtual void start_join(const std::shared_ptr<TaskRecord>& self);
  /// Encodes the resolved arguments (memo key, remote executors). Throws ConfigError
  /// for apps whose argument types cannot be serialized.
  virtual std::string encode_arguments() const = 0;
  /// encode_arguments(), computed once per task: the memo key and each isolated try share
  /// it. Tries of one task start one after another, so no lock.
  const std::string& encoded_arguments();
  /// The encoded arguments for a try that runs elsewhere, moved out of the cache (no copy of
  /// a large argument); a later try encodes them again.
  std::string take_encoded_arguments();
  /// Encodes the resolved arguments except those at positions in `skip` (memo keys).
  virtual std::string encode_arguments_except(const std::vector<std::size_t>& skip) const = 0;
  /// Encodes the value of a successful task (memo table, checkpoints).
  virtual std::string encode_result() const = 0;
  /// Sets the value from bytes made by `encode_result` (memo hit, remote executor).
  virtual void set_result_from_bytes(std::string_view bytes) = 0;
  /// Drops arguments once the task is final, so long chains hold no values.
  virtual void release_arguments() noexcept = 0;

  /// Try `attempt` wins the right to report an outcome. Exactly one of the executor and the
  /// walltime timer succeeds for each try.
  bool claim(std::uint32_t attempt) noexcept {
    std::uint32_t expected = attempt;
    return attempt_.compare_exchange_strong(expected, attempt | kClaimed, std::memory_order_acq_rel);
  }
  std::uint32_t attempt() const noexcept { return attempt_.load(std::memory_order_acquire) & ~kClaimed; }
  /// Set by AppFuture::cancel(); a running bash or isolated try polls it and is killed.
  const std::atomic<bool>& cancel_requested() const noexcept { return cancel_requested_; }

 private:
  friend class parsl::DataFlowKernel;
  friend class parsl::TaskHandle;
  friend bool cancel_task(const std::shared_ptr<TaskRecord>& task);
  static constexpr std::uint32_t kClaimed = 0x80000000u;

  std::shared_ptr<const AppDef> app_;
  DataFlowKernel* dfk_ = nullptr;
  std::uint64_t id_ = 0;
  std::atomic<TaskState> state_{TaskState::pending};
  mutable std::atomic<std::uint32_t> done_{0};
  std::atomic<std::uint32_t> attempt_{0};
  std::atomic<std::int32_t> pending_dependencies_{0};
  std::atomic<bool> cancel_requested_{false};
  bool has_encoded_args_ = false;
  std::string encoded_args_;  // released with the arguments
  std::exception_ptr error_;
  SpinLock callbacks_lock_;
  std::vector<Callback> callbacks_;
  std::vector<File> outputs_;
  std::vector<File> input_files_;

  // Kernel-side bookkeeping, touched by one thread at a time as the task moves along.
  Executor* executor_ = nullptr;
  std::uint32_t tries_ = 0;
  double fail_cost_ = 0.0;
  std::string last_failure_;  // the last try's error, for monitoring (set only when it is on)
  std::optional<double> retries_;  // this call's budget; Config::retries when empty
  std::optional<std::chrono::duration<double>> walltime_;
  int priority_ = 0;
  Resources resources_;
  bool has_memo_key_ = false;
  serial::ContentHash memo_key_;
  std::vector<std::shared_ptr<TaskRecord>> input_tasks_;  // producers of DataFuture inputs

 protected:
  DataFlowKernel& kernel() const noexcept { return *dfk_; }
  /// Join apps: reports that all inner futures are final (`error` null on success, value
  /// already stored).
  static void report_join(const std::shared_ptr<TaskRecord>& self, std::exception_ptr error);
};

}  // namespace detail
}  // namespace parsl
