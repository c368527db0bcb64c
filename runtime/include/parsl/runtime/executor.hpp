#pragma once
/// @file
/// The abstract `Executor`, and `TaskHandle`, the view of a task an executor gets.

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "parsl/runtime/detail/task_record.hpp"
#include "parsl/runtime/resource_sample.hpp"

namespace parsl {

/// One try of one task, handed to an executor. The executor either runs it in this
/// process (`run()`), or ships `encode_arguments()` elsewhere and later reports the
/// outcome with `mark_running()`, then `complete_encoded()` or `fail()`.
/// Exactly one outcome per handle is reported; later reports of a try the kernel has
/// already settled (a walltime expiry) are ignored. Copyable; thread-safe.
class TaskHandle {
 public:
  TaskHandle() = default;
  TaskHandle(std::shared_ptr<detail::TaskRecord> task, std::uint32_t attempt) noexcept
      : task_(std::move(task)), attempt_(attempt) {}

  std::uint64_t id() const noexcept { return task_->id(); }
  const std::string& app_name() const noexcept { return task_->app_name(); }
  std::uint32_t attempt() const noexcept { return attempt_; }
  /// Lower runs first; equal priorities keep submission order.
  int priority() const noexcept;
  /// Walltime of each try in seconds, or 0 for none (remote workers enforce it for bash apps).
  double walltime() const noexcept;
  /// True when the try must run in a forked child (AppOptions::isolate, Config::isolate_tasks).
  bool isolated() const noexcept;
  /// What each try needs (cores, GPUs, memory, MPI ranks).
  const Resources& resources() const noexcept;
  /// An MPI app (parsl::mpi_app): runs with a communicator of resources().ranks ranks.
  bool mpi_app() const noexcept;
  /// The call's input and output files. Executors that run tasks elsewhere must stage them
  /// there (parsl/runtime/staging.hpp); run() stages them itself.
  const std::vector<File>& input_files() const noexcept { return task_->input_files(); }
  const std::vector<File>& outputs() const noexcept { return task_->outputs(); }

  /// Runs the app on the calling thread and reports the outcome. Does not throw.
  void run() const;
  /// Bytes of the resolved arguments, for executors that run tasks in other processes:
  /// the encoding the memo key was made from, moved out (a large argument is not copied
  /// again); a retry encodes them anew.
  std::string encode_arguments() const { return task_->take_encoded_arguments(); }
  /// The task has started where the executor sent it, `already_running` seconds ago (starts
  /// its walltime clock that much earlier).
  void mark_running(double already_running = 0) const;
  /// False once this try can no longer report: it was cancelled, timed out, or reported.
  /// An executor need not start a try that is not live.
  bool live() const noexcept;
  /// For monitoring (nothing when it is off): where and when this try runs. Executors that
  /// run tasks in other processes call it before mark_running(), complete_encoded() or
  /// fail(): the worker's MPI `rank` (-1: none), `host`, the `cores` it is bound to (text,
  /// may be empty), and on the worker's clock (microseconds since the epoch) the try's start
  /// and, once over, its end (0 while it runs). The kernel records no running time of its own
  /// for such executors: the worker's clock says when a try ran.
  void ran_on(std::int32_t rank, std::string_view host, std::string_view cores, std::int64_t started_us,
              std::int64_t ended_us) const;
  /// For monitoring (nothing when it is off): a resource sample of this running try.
  void report_usage(const ResourceSample& sample) const;
  /// The task succeeded remotely; `result` is the encoding of its value.
  void complete_encoded(std::string_view result) const;
  /// The try failed with `error` (subject to retries).
  void fail(std::exception_ptr error) const;

  explicit operator bool() const noexcept { return task_ != nullptr; }

 private:
  std::shared_ptr<detail::TaskRecord> task_;
  std::uint32_t attempt_ = 0;
};

/// Where tasks run. The kernel calls `start()` once, then `submit()` from any thread, then
/// `shutdown()` once after every task it submitted is final.
///
/// Implementations must be thread-safe for `submit()`, must not block in it for long, and
/// must eventually report every submitted handle exactly once.
class Executor {
 public:
  explicit Executor(std::string label) : label_(std::move(label)) {}
  virtual ~Executor() = default;
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  /// The name apps use to choose this executor.
  const std::string& label() const noexcept { return label_; }

  /// Called by the kernel before the first submit. May throw to refuse start-up.
  virtual void start() {}
  /// Queues one task try.
  virtual void submit(TaskHandle task) = 0;
  /// The kernel has cancelled task `task_id` (its future has already failed): drop it if it
  /// has not started; kill it if it is a running bash or isolated task. Best effort, must
  /// not block; the default does nothing (a try that starts anyway is not reported).
  virtual void cancel(std::uint64_t task_id) { (void)task_id; }
  /// Called at submission: throws ConfigError, naming the app and what is missing, when no
  /// place this executor runs tasks can ever satisfy `need`. The default (executors that run
  /// tasks in this process) refuses MPI apps and GPUs, and more cores or memory than this
  /// machine has; it does not reserve cores (tasks share the pool's threads).
  virtual void check_resources(const AppDef& app, const Resources& need) const;
  /// Stops accepting work and releases threads or ranks. Waits for running tasks.
  virtual void shutdown() = 0;
  /// True when tasks run inside this process, so arguments need not be serializable.
  virtual bool runs_in_process() const noexcept { return true; }
  /// A node this executor runs tasks on, for monitoring's `node` table.
  struct Node {
    std::string host;
    int cores = 0;             ///< physical cores (or hardware threads when unknown)
    std::uint64_t memory = 0;  ///< bytes; 0 when unknown
    int workers = 0;           ///< workers (threads, ranks) that run tasks there
  };
  /// The nodes it runs tasks on, once started. The default: none (not recorded).
  virtual std::vector<Node> nodes() const { return {}; }
  /// parsl::share: a value's `bytes`, which tasks submitted from now on may refer to by `id`;
  /// executors that run tasks elsewhere place them on their workers first. The default
  /// (tasks in this process, which read the value itself) does nothing.
  virtual void share(std::uint64_t id, const std::shared_ptr<const std::string>& bytes) {
    (void)id;
    (void)bytes;
  }
  /// The value `id` is released: no task will refer to it again.
  virtual void unshare(std::uint64_t id) { (void)id; }

 private:
  std::string label_;
};

}  // namespace parsl
