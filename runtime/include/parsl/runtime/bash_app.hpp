#pragma once
/// @file
/// Bash apps: `parsl::bash_app(name, fn)`, where `fn` returns the command line to run.

#include <chrono>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "parsl/runtime/app.hpp"
#include "parsl/runtime/file.hpp"

namespace parsl {

/// A bash app's command exited with a non-zero status, or was killed by a signal
/// (exit code 128 + signal, as bash reports it). 126 and 127 keep bash's meaning: not
/// executable, command not found.
class BashExitFailure : public Error {
 public:
  BashExitFailure(const std::string& app, int exit_code, const std::string& detail = {});
  /// From a message made by the constructor above (how the error crosses MPI).
  explicit BashExitFailure(const std::string& message);
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_ = 0;
};

/// Where a bash app's stdout or stderr goes.
struct Redirect {
  enum class Mode : std::uint8_t { inherit, append, truncate, automatic };
  std::string path;
  Mode mode = Mode::inherit;

  Redirect() = default;
  /// A path: appended to, as in Parsl.
  Redirect(std::string p) : path(std::move(p)), mode(Mode::append) {}  // NOLINT: implicit on purpose
  Redirect(const char* p) : Redirect(std::string(p)) {}                // NOLINT
  static Redirect append(std::string p) { return Redirect(std::move(p)); }
  static Redirect truncate(std::string p) {
    Redirect r(std::move(p));
    r.mode = Mode::truncate;
    return r;
  }
  /// runinfo/NNN/task_logs/XXXX/task_<id>_<app>.stdout (or .stderr).
  static Redirect automatic() {
    Redirect r;
    r.mode = Mode::automatic;
    return r;
  }
  template <class Archive>
  void serialize(Archive& ar) {
    ar(path, mode);
  }
};

/// Per-call options of a bash app: `app.with({.out = "x.log", .walltime = 5s})(args...)`.
struct BashCallOptions {
  Redirect out;
  Redirect err;
  std::optional<std::chrono::duration<double>> walltime;
  std::optional<int> priority;
  /// As CallOptions::inputs: DataFutures here are dependencies.
  std::vector<InputFile> inputs;
  /// As CallOptions::outputs. After exit 0, a local output that does not exist fails the task
  /// with MissingOutputs.
  std::vector<File> outputs;
  /// As CallOptions::retries.
  std::optional<double> retries;
  /// As CallOptions::cores, gpus and memory.
  std::optional<int> cores;
  std::optional<int> gpus;
  std::optional<std::uint64_t> memory;
  /// Ranks to reserve for an MPI program the command starts: on the MPI executor the task
  /// holds that many rank slots (each with `cores`, `gpus` and `memory`), and the command
  /// finds the launch prefix for them in $PARSL_MPI_PREFIX (e.g. `srun --overlap -n 4 ...`,
  /// `mpirun -np 4 --host ...`), with $PARSL_MPI_RANKS and $PARSL_MPI_HOSTS.
  std::optional<int> ranks;
};

namespace detail {

/// What travels with each bash task besides the app's own arguments.
struct BashIO {
  Redirect out, err;
  std::string run_dir;  ///< absolute, for automatic log names
  std::vector<File> outputs;  ///< checked after exit 0 (staging is the executor's job)
  bool keep_background = false;  ///< AppOptions::keep_background_processes
  template <class Archive>
  void serialize(Archive& ar) {
    ar(out, err, run_dir, outputs, keep_background);
  }
};

/// The running kernel's run directory, absolute (workers may resolve it elsewhere).
std::string absolute_run_dir();

/// Runs `command` with /bin/bash -c in its own process group, as task `current_task()`.
/// Returns 0; throws BashExitFailure, AppTimeout, or Error for a redirect it cannot open.
int run_bash(const std::string& app, const std::string& command, const BashIO& io);

/// The resolved stdout/stderr paths of a bash task ("" when inherited).
std::string log_path(const Redirect& r, const std::string& run_dir, std::uint64_t task_id, const std::string& app,
                     const char* suffix);

template <class F, class Params>
struct BashWrapper;
template <class F, class... P>
struct BashWrapper<F, std::tuple<P...>> {
  F fn;
  std::string name;
  int operator()(BashIO io, P... args) const {
    const std::string command = fn(args...);
    return run_bash(name, command, io);
  }
};

}  // namespace detail

/// A bash app: calling it runs, on a worker, `fn(args...)` to get a command line, then runs
/// that with `/bin/bash -c` in its own process group. The future holds 0 on exit status 0;
/// any other status fails the task with BashExitFailure. The command is echoed to the task's
/// stderr first. A walltime kills the whole process group and then fails the try with
/// AppTimeout. When the command exits, what it left running in its process group is killed
/// (AppOptions::keep_background_processes keeps it until the worker process ends).
/// The command sees PARSL_TASK_ID, PARSL_TRY, PARSL_WORKER_RANK, PARSL_NODE, PARSL_HOST and,
/// on MPI workers, PARSL_CORES and OMP_NUM_THREADS.
///
/// @code
///   inline const auto simulate = parsl::bash_app("simulate", [](int seed) {
///     return "./sim --seed " + std::to_string(seed);
///   });
///   simulate.with({.out = parsl::Redirect::automatic(), .walltime = 60s})(7).get();
/// @endcode
template <class F>
class BashApp {
  using Sig = detail::app_signature<F>;
  using Wrapper = detail::BashWrapper<F, typename Sig::params>;
  static_assert(std::is_convertible_v<typename Sig::result, std::string>,
                "parsl::bash_app: the function must return the command line (a std::string)");

 public:
  using future_type = AppFuture<int>;

  BashApp(std::string name, F fn, AppOptions options)
      : app_(name, Wrapper{std::move(fn), name}, for_wrapper(std::move(options))) {}

  const std::string& name() const noexcept { return app_.name(); }

  template <class... A>
  future_type operator()(A&&... args) const {
    return call(BashCallOptions{}, std::forward<A>(args)...);
  }

  using Bound = detail::BoundCall<BashApp, BashCallOptions, future_type>;
  Bound with(BashCallOptions options) const { return Bound(*this, std::move(options)); }

 private:
  // The wrapper's first parameter (BashIO: redirects, the run directory) is not part of what
  // the command computes, and differs between runs: keep it out of memo keys, and shift the
  // user's positions past it.
  static AppOptions for_wrapper(AppOptions o) {
    for (auto& ref : o.ignore_for_cache)
      if (!ref.by_name()) ref = ArgRef(ref.position() + 1);
    o.ignore_for_cache.emplace_back(std::size_t{0});
    if (!o.arg_names.empty()) o.arg_names.insert(o.arg_names.begin(), "(bash io)");
    return o;
  }

  friend Bound;
  template <class... A>
  future_type call(const BashCallOptions& o, A&&... args) const {
    detail::BashIO io{o.out, o.err, detail::absolute_run_dir(), o.outputs,
                      app_.definition().options.keep_background_processes};
    return app_.with(CallOptions{o.walltime, o.priority, o.inputs, o.outputs, o.retries, o.cores, o.gpus,
                                  o.memory, o.ranks})(std::move(io),
                                                                              std::forward<A>(args)...);
  }

  App<Wrapper> app_;
};

/// Declares a bash app; see BashApp.
template <class F>
BashApp<std::decay_t<F>> bash_app(std::string name, F&& fn, AppOptions options = {}) {
  static_assert(detail::FixedSignature<F>, "parsl::bash_app needs a callable with one fixed signature");
  return BashApp<std::decay_t<F>>(std::move(name), std::forward<F>(fn), std::move(options));
}

}  // namespace parsl
