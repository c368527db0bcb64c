#pragma once
/// @file
/// Running one task in a forked child process, so that a crash fails the task, not the job.

#include <string>
#include <string_view>

#include "parsl/runtime/app_def.hpp"
#include "parsl/serial/error.hpp"

namespace parsl {

/// An isolated task's process died before returning: killed by a signal (a segfault, abort(),
/// the kernel's out-of-memory killer) or exited without a result (exit() in the app). The
/// message names the signal or the exit status. Retries apply.
class WorkerLost : public Error {
 public:
  using Error::Error;
};

/// Runs `app` on `args` (encoded) in a forked child and returns the encoded result. The
/// app's own exception is rethrown here (its type when registered, else TaskError).
/// Throws WorkerLost when the child dies. The child runs only the app, then _exit()s. With
/// a walltime (current_task()), the child is killed at the deadline and AppTimeout thrown.
///
/// Caveat: fork() copies only the calling thread. An app that needs locks held by other
/// threads of this process at that moment (rare: glibc's malloc is safe) can hang in the
/// child; MPI must not be used in the child.
std::string run_isolated(const AppDef& app, std::string_view args);

}  // namespace parsl
