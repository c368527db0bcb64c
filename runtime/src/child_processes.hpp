#pragma once
// Task processes (bash apps' process groups, isolated tries) that must not outlive this
// process when it is stopped: Ctrl-C on mpirun (forwarded to the ranks as SIGINT or
// SIGTERM), scancel or a batch walltime (SIGTERM), a closed terminal (SIGHUP), SIGKILL.

#include <sys/types.h>

namespace parsl::detail {

/// While alive, the child `target` (a pid, or minus a process group id) is killed with
/// SIGKILL when this process dies in any way, SIGKILL included: a watchdog process waits for
/// the end of a pipe only this process holds. The first TrackedChild forks the watchdog;
/// no signal handlers are installed, so an embedding program's own stay as they are.
class TrackedChild {
 public:
  explicit TrackedChild(pid_t target) noexcept;
  ~TrackedChild();
  TrackedChild(const TrackedChild&) = delete;
  TrackedChild& operator=(const TrackedChild&) = delete;

  /// Keeps the target in the table after this object is gone, so that it is killed when
  /// this process ends (a bash task's kept background processes). Targets kept earlier
  /// whose process group has emptied are dropped from the table first.
  void keep_until_exit() noexcept;

 private:
  pid_t target_;
  int slot_ = -1;  // -1: the table was full, so this child is not tracked
  bool kept_ = false;
};

/// In a child forked by this process (an isolated try): closes the watchdog's pipe.
/// Async-signal-safe.
void forget_tracking_in_child() noexcept;

}  // namespace parsl::detail
