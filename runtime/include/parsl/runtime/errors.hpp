#pragma once
/// @file
/// Errors raised by the dataflow kernel and carried by futures.

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "parsl/serial/error.hpp"
#include "parsl/serial/remote_error.hpp"

namespace parsl {

/// A configuration, app declaration or executor label is wrong. Raised before any task of
/// the affected app runs.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// The kernel was used in a way its lifecycle does not allow: no kernel running, a second
/// kernel while one runs, a submission after shutdown.
class KernelError : public Error {
 public:
  using Error::Error;
};

/// An exception raised by a task that cannot be rethrown as its own type (it crossed a
/// process boundary and its type was not registered). Keeps the original type name,
/// message, rank and host.
class TaskError : public Error {
 public:
  explicit TaskError(serial::RemoteError info);
  const serial::RemoteError& info() const noexcept { return info_; }

 private:
  serial::RemoteError info_;
};

/// A function app ran longer than its walltime. The future fails with this; see
/// docs/design.md for what happens to the code that was running.
class AppTimeout : public Error {
 public:
  using Error::Error;
};

/// The task was cancelled with `AppFuture::cancel()` before it finished. Never retried.
/// See docs/design.md for what happens to code that was already running.
class TaskCancelled : public Error {
 public:
  using Error::Error;
};

/// The task was not started because the batch job the run is in is about to end: draining
/// has begun (`PARSL_DRAIN` seconds before `PARSL_JOB_END_TIME`, which parsl-submit's job
/// scripts set), or the task's walltime would run past the job's end. Never retried; a
/// resumed run in the next job starts it (parsl-run exits 75 for this).
class JobEnding : public Error {
 public:
  using Error::Error;
};

/// A task never ran because one of its input futures failed (Parsl's DependencyError).
/// Never retried.
class DependencyError : public Error {
 public:
  /// `chain` runs from the failed input of `task_id` back to the task that really failed
  /// (possibly shortened in the middle for very deep chains); `root_cause` is that task's
  /// error. `failed_dependencies` lists every input of `task_id` that failed.
  DependencyError(std::uint64_t task_id, std::vector<std::uint64_t> failed_dependencies,
                  std::vector<std::uint64_t> chain, std::uint64_t root_task_id,
                  std::uint64_t chain_length, std::exception_ptr root_cause);

  std::uint64_t task_id() const noexcept { return task_id_; }
  const std::vector<std::uint64_t>& failed_dependencies() const noexcept { return failed_; }
  /// The first few links of the chain to the root cause (at most `kMaxChainShown`).
  const std::vector<std::uint64_t>& chain() const noexcept { return chain_; }
  /// Number of links from this task's input to the root task, counting both ends.
  std::uint64_t chain_length() const noexcept { return chain_length_; }
  std::uint64_t root_task_id() const noexcept { return root_task_id_; }
  const std::exception_ptr& root_cause() const noexcept { return root_cause_; }

  static constexpr std::size_t kMaxChainShown = 8;

 private:
  std::uint64_t task_id_;
  std::vector<std::uint64_t> failed_;
  std::vector<std::uint64_t> chain_;
  std::uint64_t root_task_id_;
  std::uint64_t chain_length_;
  std::exception_ptr root_cause_;
};

/// A join app's inner futures failed. Lists every inner failure.
class JoinError : public Error {
 public:
  struct Failure {
    std::uint64_t task_id;  ///< inner task, or 0 when the body itself returned no task
    std::exception_ptr error;
  };
  JoinError(std::uint64_t task_id, std::vector<Failure> failures);
  /// A join app body that produced no joinable future (an empty `AppFuture`).
  JoinError(std::uint64_t task_id, const std::string& reason);
  std::uint64_t task_id() const noexcept { return task_id_; }
  const std::vector<Failure>& failures() const noexcept { return failures_; }

 private:
  std::uint64_t task_id_;
  std::vector<Failure> failures_;
};

/// "TypeName: message" for any exception_ptr; used in error messages and logs.
std::string describe(const std::exception_ptr& error);

}  // namespace parsl
