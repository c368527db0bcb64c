#pragma once
/// @file
/// `AppOptions` and the type-erased definition of an app that the registry holds.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "parsl/runtime/data_future.hpp"
#include "parsl/runtime/resources.hpp"

namespace parsl {

/// One argument of an app, by position (0-based) or by name (a name from
/// AppOptions::arg_names): `{1}`, `{"log_dir"}`.
class ArgRef {
 public:
  ArgRef(std::size_t position) : ref_(position) {}  // NOLINT: implicit on purpose
  ArgRef(std::string name) : ref_(std::move(name)) {}  // NOLINT
  template <std::size_t N>
  ArgRef(const char (&name)[N]) : ref_(std::string(name)) {}  // NOLINT
  bool by_name() const noexcept { return std::holds_alternative<std::string>(ref_); }
  std::size_t position() const { return std::get<std::size_t>(ref_); }
  const std::string& name() const { return std::get<std::string>(ref_); }

 private:
  std::variant<std::size_t, std::string> ref_;
};

/// How an app behaves; given once where the app is declared.
struct AppOptions {
  /// Memoize: a call whose app name, version and resolved argument bytes equal an earlier
  /// successful call completes as memo_done from the earlier result, without running.
  /// Needs serializable argument and result types.
  bool cache = false;
  /// Part of the memo key: change it when the app's code changes meaning.
  std::string version;
  /// Names of the app's parameters, in order (C++ keeps none at run time). Optional; when
  /// given there must be one per parameter, and ignore_for_cache can use them.
  std::vector<std::string> arg_names;
  /// Arguments left out of the memo key, by position or by name (Parsl's ignore_for_cache),
  /// e.g. a log level or an output directory that does not change the result:
  /// `{.arg_names = {"model", "log_dir"}, .ignore_for_cache = {"log_dir"}}` or `{1}`.
  std::vector<ArgRef> ignore_for_cache;
  /// Executor labels this app may run on; empty means any of the kernel's executors.
  std::vector<std::string> executors;
  /// Default walltime of each try (function apps: the future fails with AppTimeout). Must be
  /// > 0 and at most kMaxWalltime; a call with another fails at submission with ConfigError.
  std::optional<std::chrono::duration<double>> walltime;
  /// Default priority: lower runs first where executors queue tasks.
  int priority = 0;
  /// Run each try in a forked child process, so a crash (segfault, abort, exit, OOM kill)
  /// fails only this task, with WorkerLost naming the signal or status. Needs serializable
  /// argument and result types. Config::isolate_tasks turns it on for every function app.
  bool isolate = false;
  /// Bash apps only. When a task's command exits, whatever it left running in its process
  /// group (`cmd &`, `nohup cmd &`) is killed, so nothing outlives its task. Set this for
  /// the rare app that must leave a daemon behind: its group then lives on until the worker
  /// process ends (the job's end, in any way), and is killed then. A child that leaves the
  /// group with `setsid` escapes either way; only a batch system's cgroup catches it.
  bool keep_background_processes = false;
  /// Cores each try needs (per rank, for MPI apps). On the MPI executor the task waits for
  /// that many free worker cores on one node, is bound to them (within one NUMA domain where
  /// they fit) and sees OMP_NUM_THREADS set to it. A request no node can satisfy fails the
  /// call with ConfigError.
  int cores = 1;
  /// GPUs each try needs (per rank), named to it through CUDA_VISIBLE_DEVICES,
  /// ROCR_VISIBLE_DEVICES and ZE_AFFINITY_MASK. Nodes without GPUs cannot run it: the call
  /// fails with ConfigError when no node has enough.
  int gpus = 0;
  /// Memory each try needs (per rank), in bytes; tasks placed on a node never ask for more
  /// than it has in total.
  std::uint64_t memory = 0;
  /// MPI apps only (parsl::mpi_app): the number of ranks of the task's communicator.
  int ranks = 1;
};

/// The longest walltime a try may have: a year (366 days). Longer ones, infinity and NaN are
/// refused at submission (they overflowed the clock and failed every try at once).
inline constexpr double kMaxWalltime = 366.0 * 24 * 3600;

/// Per-call overrides, given with `app.with({...})(args...)`.
struct CallOptions {
  std::optional<std::chrono::duration<double>> walltime;
  std::optional<int> priority;
  /// Files the task reads. Outputs of other apps (DataFuture) make this task wait for them;
  /// a failed one fails this task with DependencyError, as a failed argument would.
  std::vector<InputFile> inputs;
  /// Files the task writes: each becomes a DataFuture, `future.outputs()[i]`.
  std::vector<File> outputs;
  /// This call's failure budget, instead of Config::retries (the retry handler still prices
  /// each failure).
  std::optional<double> retries;
  /// This call's resources, instead of the app's (AppOptions::cores, gpus, memory, ranks).
  std::optional<int> cores;
  std::optional<int> gpus;
  std::optional<std::uint64_t> memory;
  std::optional<int> ranks;
};

/// What the registry knows of an app, whatever its C++ type. Immutable after declaration.
struct AppDef {
  enum class Kind { function, join };

  std::string name;
  AppOptions options;
  Kind kind = Kind::function;
  /// True when arguments and result can be serialized (remote executors, memoization).
  bool serializable = false;
  /// A bash app: its runner kills the command's process group at the walltime itself, so
  /// the kernel's own walltime timer only stands behind it.
  bool bash = false;
  /// An MPI app (parsl::mpi_app): its body runs on the main thread of each of its ranks,
  /// with the task's communicator. Only the MPI executor runs it.
  bool mpi = false;
  /// Number of parameters.
  std::size_t arity = 0;
  /// options.ignore_for_cache as sorted positions, resolved when the app is registered.
  std::vector<std::size_t> ignored_positions;
  /// Runs the app from encoded arguments and returns the encoded result; throws what the
  /// app throws. Empty for apps that are not serializable. Used by remote workers.
  std::function<std::string(std::string_view)> invoke_encoded;

  virtual ~AppDef() = default;
};

}  // namespace parsl
