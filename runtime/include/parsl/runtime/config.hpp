#pragma once
/// @file
/// `Config`: everything a DataFlowKernel is started with.

#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "parsl/runtime/executor.hpp"
#include "parsl/runtime/logger.hpp"

namespace parsl {

/// When memoized results are written to checkpoint segments (Parsl's checkpoint_mode).
enum class CheckpointMode {
  none,       ///< never (the default)
  task_exit,  ///< as tasks finish (grouped: a segment every ~50 ms or 1,000 results)
  periodic,   ///< every Config::checkpoint_period
  dfk_exit,   ///< when the kernel shuts down
  manual,     ///< when DataFlowKernel::checkpoint() is called
};

/// A read-only view of a task, given to retry handlers.
struct TaskInfo {
  std::uint64_t id;
  const std::string& app_name;
  std::uint32_t tries;  ///< tries so far, including the one that just failed
  double fail_cost;     ///< cost accumulated before this failure
  const std::string& executor;
};

/// A checkpoint segment that is now durable: written, fsynced and renamed into place, so a
/// crash of the whole job from here on cannot lose these tasks' results.
struct CheckpointReport {
  std::filesystem::path segment;
  std::vector<std::uint64_t> task_ids;  ///< the tasks whose results the segment holds
};

/// The checkpoint folder of the latest run under `run_dir` that has one (empty if none), and
/// all of them, oldest first (Parsl's get_last_checkpoint / get_all_checkpoints).
std::vector<std::filesystem::path> get_all_checkpoints(const std::filesystem::path& run_dir = "runinfo");
std::vector<std::filesystem::path> get_last_checkpoint(const std::filesystem::path& run_dir = "runinfo");

/// Prices one failure: the task is retried while the accumulated cost stays within
/// `Config::retries`. May throw: the task then fails with the handler's error.
using RetryHandler = std::function<double(const std::exception_ptr& error, const TaskInfo& task)>;

/// Configuration of a DataFlowKernel (Parsl's `Config`).
///
/// @code
///   parsl::Config config;
///   config.executors.push_back(std::make_shared<parsl::ThreadPoolExecutor>(4));
///   config.retries = 2;
///   parsl::DataFlowKernel dfk(config);
/// @endcode
struct Config {
  /// Where tasks run. Empty: one ThreadPoolExecutor labelled "threads" with one thread per
  /// hardware thread. Labels must be unique and must not start with "_parsl".
  std::vector<std::shared_ptr<Executor>> executors;
  /// Failure budget per task: a failed try is retried while the accumulated cost of its
  /// failures stays at or below this (each failure costs 1 without a handler).
  double retries = 0;
  /// Prices each failure; empty means every failure costs 1.
  RetryHandler retry_handler;
  /// Runs get numbered folders below this: runinfo/000, runinfo/001, ... Empty: no run
  /// folder (no parsl.log; a bash app's default logs go to $TMPDIR/parsl-task-logs-PID;
  /// checkpoints and monitoring, which need one, are a ConfigError). An embedding program
  /// that wants no files sets it so (--parsl-run-dir=none).
  std::filesystem::path run_dir = "runinfo";
  /// Master switch for memoization of apps declared with `cache = true`.
  bool app_cache = true;
  /// Checkpoints of cacheable apps' results, in runinfo/NNN/checkpoint/. Every mode except
  /// none also writes what is left at shutdown. Failed tasks are never checkpointed.
  CheckpointMode checkpoint_mode = CheckpointMode::none;
  std::chrono::duration<double> checkpoint_period = std::chrono::seconds(60);
  /// Checkpoint segments or folders of them to load at start-up (see get_last_checkpoint):
  /// a call whose memo key is found completes as memo_done without running. A bad file stops
  /// the start with CheckpointError naming it.
  std::vector<std::filesystem::path> checkpoint_files;
  /// Called after each segment is durable, on the thread that wrote it (the checkpoint
  /// thread, the one calling DataFlowKernel::checkpoint(), or the one shutting down). It
  /// must not block and must not throw (an exception is logged and dropped). A task's future
  /// can complete before its result is durable; this says when it is.
  std::function<void(const CheckpointReport&)> on_checkpoint;
  LogLevel log_level = LogLevel::info;
  /// Run every function app's tries in forked child processes (AppOptions::isolate).
  bool isolate_tasks = false;
  /// Threads of the kernel-side executor that runs join app bodies.
  int internal_threads = 2;
  /// `--parsl-mpi-NAME=VALUE` options, kept by name for the MPI layer, which checks them.
  std::map<std::string, std::string> mpi_options;
  /// Parsl's monitoring: the kernel writes runinfo/NNN/monitoring.db, a SQLite database in
  /// Parsl's schema (workflow, task, try, status, ...), from one writer thread. Off by default.
  bool monitoring = false;
  /// Seconds between resource samples of a running task on each MPI worker (CPU time,
  /// memory, I/O from /proc: the `resource` table), when monitoring is on; 0: none.
  double monitoring_interval = 5;

  /// Reads `--parsl-NAME=VALUE` options from the command line and ignores every other
  /// argument, so programs keep their own options. Throws ConfigError for an unknown
  /// `--parsl-` option or a bad value, naming it. `--parsl-help` lists the options.
  ///   --parsl-threads=N       threads of the default ThreadPoolExecutor
  ///   --parsl-retries=X       Config::retries
  ///   --parsl-run-dir=PATH    Config::run_dir ("none": no run folder)
  ///   --parsl-log-level=L     debug | info | warning | error | off
  ///   --parsl-app-cache=B     true | false
  ///   --parsl-monitoring=B    Config::monitoring
  ///   --parsl-monitoring-interval=S  Config::monitoring_interval
  ///   --parsl-mpi-NAME=VALUE  options of the MPI executor (see parsl/mpi_exec/mpi_executor.hpp)
  static Config from_args(int argc, const char* const* argv);
  /// The help text of from_args's options.
  static std::string options_help();
  /// True when the command line holds `--parsl-help`.
  static bool help_requested(int argc, const char* const* argv);
};

}  // namespace parsl
