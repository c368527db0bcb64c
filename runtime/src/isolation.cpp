#include "parsl/runtime/isolation.hpp"

#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "child_processes.hpp"
#include "task_environment.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/exception_registry.hpp"
#include "parsl/runtime/task_context.hpp"
#include "parsl/serial/codec.hpp"
#include "parsl/serial/remote_error.hpp"

namespace parsl {

namespace {

bool write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// The child's report: one byte (0 = value, 1 = error) and the encoded payload.
[[noreturn]] void child(const AppDef& app, std::string_view args, int fd) {
  const EncodedOutcome out = invoke_encoded_try(app, args);
  const char kind = out.ok() ? 0 : 1;
  const bool ok = write_all(fd, &kind, 1) && write_all(fd, out.bytes().data(), out.bytes().size());
  ::_exit(ok ? 0 : 120);  // no destructors, no atexit handlers of the parent's program
}

EncodedOutcome run_child(const AppDef& app, std::string_view args);

}  // namespace

EncodedOutcome run_isolated(const AppDef& app, std::string_view args) {
  try {
    return run_child(app, args);
  } catch (...) {
    return EncodedOutcome::failure(std::current_exception());
  }
}

namespace {
EncodedOutcome run_child(const AppDef& app, std::string_view args) {
  if (!app.invoke_encoded)
    throw Error("app '" + app.name + "' cannot run isolated: its argument or result types are not serializable");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw Error(std::string("cannot isolate a task: pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw Error(std::string("cannot isolate a task: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Its own process group, like a bash task's: what the app starts (system("cmd &")) is
    // killed with it when the try ends.
    ::setpgid(0, 0);
    ::close(fds[0]);
    detail::forget_tracking_in_child();
    detail::scrub_launcher_environment();  // what it starts must not pose as the worker rank
    child(app, args, fds[1]);
  }
  ::setpgid(pid, pid);  // also here, so the group exists before anyone signals it
  const detail::TrackedChild tracked(-pid);  // however this process dies, the try's group dies too
  ::close(fds[1]);
  // With a walltime, poll so the child can be killed at the deadline: the one case where a
  // function app's code really stops.
  const auto& task = current_task();
  using clock = std::chrono::steady_clock;
  const auto deadline = task.walltime ? clock::now() + std::chrono::duration_cast<clock::duration>(
                                                           std::chrono::duration<double>(*task.walltime))
                                      : clock::time_point::max();
  std::string report;
  char buf[65536];
  bool timed_out = false, cancelled = false;
  const bool watch = task.walltime || task.cancel != nullptr;
  for (;;) {
    if (watch) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
      pollfd p{fds[0], POLLIN, 0};
      if (left <= 0 || task.cancelled() || ::poll(&p, 1, static_cast<int>(std::clamp<long long>(left, 0, 20))) == 0) {
        const bool late = clock::now() >= deadline;
        if (late || task.cancelled()) {
          ::kill(-pid, SIGKILL);
          (late ? timed_out : cancelled) = true;
          break;
        }
        continue;
      }
    }
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      report.append(buf, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  ::close(fds[0]);
  // Wait for the child without reaping it, kill what it left in its group, then reap: while
  // it is an unreaped zombie its id cannot name another process group.
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (cancelled)
    throw TaskCancelled("task " + std::to_string(task.task_id) + " (app '" + app.name +
                        "') was cancelled; its isolated process was killed");
  if (timed_out)
    throw AppTimeout("task " + std::to_string(task.task_id) + " (app '" + app.name + "') exceeded its walltime of " +
                     std::to_string(*task.walltime) + " s; its isolated process was killed");
  const std::string who = "task " + std::to_string(current_task().task_id) + " (app '" + app.name + "')";
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    throw WorkerLost(who + " was killed by signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "") +
                     " in its isolated process" + (sig == SIGKILL ? " (out of memory, or killed from outside)" : ""));
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code != 0 || report.empty())
    throw WorkerLost(who + " exited with status " + std::to_string(code) + " before returning a result");
  if (report[0] == 1) return EncodedOutcome::encoded_failure(report.substr(1));  // the app's exception, as sent
  return EncodedOutcome(report.substr(1));
}
}  // namespace

}  // namespace parsl
