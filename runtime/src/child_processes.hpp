#pragma once
// Task processes (bash apps' process groups, isolated tries) that must not outlive this
// process when it is stopped by a signal: Ctrl-C on mpirun (forwarded to the ranks as
// SIGINT or SIGTERM), scancel or a batch walltime (SIGTERM), a closed terminal (SIGHUP).

#include <sys/types.h>

namespace parsl::detail {

/// While alive, the child `target` (a pid, or minus a process group id) is killed with
/// SIGKILL when this process dies:
/// - on SIGINT, SIGTERM or SIGHUP whose disposition was the default (a program's own
///   handlers and ignored signals are left alone), by a handler, which then lets the signal
///   end this process as it would have;
/// - in any other way, SIGKILL included, by a watchdog process that waits for the end of a
///   pipe only this process holds.
/// The first TrackedChild installs the handlers and forks the watchdog.
class TrackedChild {
 public:
  explicit TrackedChild(pid_t target) noexcept;
  ~TrackedChild();
  TrackedChild(const TrackedChild&) = delete;
  TrackedChild& operator=(const TrackedChild&) = delete;

 private:
  int slot_ = -1;  // -1: the table was full, so this child is not tracked
};

/// In a child forked by this process (an isolated try): closes the watchdog's pipe and
/// restores the default action of the signals above. Async-signal-safe.
void forget_tracking_in_child() noexcept;

}  // namespace parsl::detail
