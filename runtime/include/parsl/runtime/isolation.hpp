#pragma once
/// @file
/// Running one task in a forked child process, so that a crash fails the task, not the job.

#include <string>
#include <string_view>

#include "parsl/runtime/app_def.hpp"
#include "parsl/runtime/try_runner.hpp"
#include "parsl/serial/error.hpp"

namespace parsl {

/// An isolated task's process died before returning: killed by a signal (a segfault, abort(),
/// the kernel's out-of-memory killer) or exited without a result (exit() in the app). The
/// message names the signal or the exit status. Retries apply.
class WorkerLost : public Error {
 public:
  using Error::Error;
};

/// Runs `app` on `args` (encoded) in a forked child and returns its outcome: the child sends
/// its EncodedOutcome's bytes (value, or the app's exception as a RemoteError) as they are.
/// A child that dies fails with WorkerLost; with a walltime (current_task()) the child is
/// killed at the deadline and the outcome is AppTimeout; cancelled, TaskCancelled. The child
/// runs only the app, then _exit()s. Never throws.
///
/// Caveat: fork() copies only the calling thread. An app that needs locks held by other
/// threads of this process at that moment (rare: glibc's malloc is safe) can hang in the
/// child; MPI must not be used in the child.
EncodedOutcome run_isolated(const AppDef& app, std::string_view args);

}  // namespace parsl
