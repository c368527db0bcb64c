#pragma once
// Task processes (bash apps' process groups, isolated tries) that must not outlive this
// process when it is stopped by a signal: Ctrl-C on mpirun (forwarded to the ranks as
// SIGINT or SIGTERM), scancel or a batch walltime (SIGTERM), a closed terminal (SIGHUP).

#include <sys/types.h>

namespace parsl::detail {

/// While alive, the child `target` (a pid, or minus a process group id) is killed with
/// SIGKILL if this process receives SIGINT, SIGTERM or SIGHUP whose disposition was the
/// default (a program's own handlers and ignored signals are left alone); then the signal
/// ends this process as it would have. The first TrackedChild installs the handlers. A
/// SIGKILL of this process cannot be caught: its task processes then run on (a batch
/// system's cgroup ends them).
class TrackedChild {
 public:
  explicit TrackedChild(pid_t target) noexcept;
  ~TrackedChild();
  TrackedChild(const TrackedChild&) = delete;
  TrackedChild& operator=(const TrackedChild&) = delete;

 private:
  int slot_ = -1;  // -1: the table was full, so this child is not tracked
};

}  // namespace parsl::detail
