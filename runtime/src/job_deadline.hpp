#pragma once
// The end of the batch job the run is in, and the drain before it: from PARSL_JOB_END_TIME
// (epoch seconds; parsl-submit's job scripts set it from the walltime) and PARSL_DRAIN
// (seconds before the end when no task starts any more). Without PARSL_JOB_END_TIME there
// is no deadline.
#include <exception>
#include <optional>
#include <string>

#include "parsl/runtime/task_context.hpp"

namespace parsl::detail {

struct JobDeadline {
  double end = 0;    ///< epoch seconds
  double drain = 0;  ///< seconds before `end`
};

/// The deadline from the environment, read at the first call and again with `reload`
/// (DataFlowKernel's constructor reloads, so each kernel sees the environment it started
/// in). Throws ConfigError naming the variable and its value when it is not a number: a bad
/// value stops the run at start. Thread-safe.
std::optional<JobDeadline> job_deadline(bool reload = false);

/// A JobEnding error when a try of `task` must not start now: draining has begun, or its
/// walltime would run past the job's end. Null when it may start. Never throws.
std::exception_ptr job_ending(const TaskContext& task) noexcept;

}  // namespace parsl::detail
