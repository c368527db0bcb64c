#include "parsl/runtime/bash_app.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "child_processes.hpp"
#include "task_environment.hpp"
#include "parsl/runtime/data_flow_kernel.hpp"
#include "parsl/runtime/exception_registry.hpp"
#include "parsl/runtime/task_context.hpp"
#include "parsl/serial/remote_error.hpp"

extern char** environ;

namespace parsl {

namespace {
std::string exit_meaning(int code) {
  if (code == 126) return " (command found but not executable)";
  if (code == 127) return " (command not found)";
  if (code > 128 && code < 128 + 65) {
    const char* name = sigabbrev_np(code - 128);
    return " (killed by signal " + std::to_string(code - 128) + (name ? std::string(" SIG") + name : "") + ")";
  }
  return "";
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

int open_redirect(const std::string& app, const char* stream, const std::string& path, bool append) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  if (fd < 0)
    throw Error("bash app '" + app + "': cannot open its " + stream + " file " + path + ": " + std::strerror(errno));
  return fd;
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // the echo is a courtesy; a full disk shows up in the command's own output
    }
    done += static_cast<std::size_t>(n);
  }
}
}  // namespace

BashExitFailure::BashExitFailure(const std::string& app, int exit_code, const std::string& detail)
    : Error("bash app " + app + " failed with exit code " + std::to_string(exit_code) + exit_meaning(exit_code) + detail),
      exit_code_(exit_code) {}

BashExitFailure::BashExitFailure(const std::string& message) : Error(message) {
  const auto at = message.find("exit code ");
  if (at != std::string::npos) exit_code_ = std::atoi(message.c_str() + at + 10);
}

namespace detail {

std::string absolute_run_dir() {
  DataFlowKernel* dfk = DataFlowKernel::current_or_null();
  if (dfk == nullptr) return {};
  std::error_code ec;
  if (dfk->run_dir().empty())  // no run folder: default logs in the temporary folder
    return (std::filesystem::temp_directory_path(ec) / ("parsl-task-logs-" + std::to_string(::getpid()))).string();
  auto p = std::filesystem::absolute(dfk->run_dir(), ec);
  return ec ? dfk->run_dir().string() : p.string();
}

std::string log_path(const Redirect& r, const std::string& run_dir, std::uint64_t task_id, const std::string& app,
                     const char* suffix) {
  if (r.mode == Redirect::Mode::inherit) return {};
  if (r.mode != Redirect::Mode::automatic) return r.path;
  char bucket[24], id[24];
  std::snprintf(bucket, sizeof bucket, "%04llu", static_cast<unsigned long long>(task_id / 10000));
  std::snprintf(id, sizeof id, "%06llu", static_cast<unsigned long long>(task_id));
  std::string safe = app;
  for (char& c : safe)
    if (c == '/' || c == ' ') c = '_';
  return (std::filesystem::path(run_dir.empty() ? "." : run_dir) / "task_logs" / bucket /
          ("task_" + std::string(id) + "_" + safe + "." + suffix))
      .string();
}

int run_bash(const std::string& app, const std::string& command, const BashIO& io) {
  const TaskContext& task = current_task();
  const std::string out_path = log_path(io.out, io.run_dir, task.task_id, app, "stdout");
  const std::string err_path = log_path(io.err, io.run_dir, task.task_id, app, "stderr");
  Fd out(out_path.empty() ? -1 : open_redirect(app, "stdout", out_path, io.out.mode != Redirect::Mode::truncate));
  Fd err(err_path.empty() ? -1 : open_redirect(app, "stderr", err_path, io.err.mode != Redirect::Mode::truncate));
  write_all(err.get() >= 0 ? err.get() : 2, "$ " + command + "\n");

  // The environment: ours, plus what the task should know about itself.
  std::vector<std::string> extra = {"PARSL_TASK_ID=" + std::to_string(task.task_id),
                                    "PARSL_TRY=" + std::to_string(task.attempt)};
  if (std::getenv("PARSL_WORKER_RANK") == nullptr) {
    extra.push_back("PARSL_WORKER_RANK=0");
    extra.push_back("PARSL_NODE=0");
    extra.push_back("PARSL_HOST=" + serial::this_host());
  }
  std::vector<char*> envp;
  // Not the pilot's launcher variables: a task may start an MPI program of its own.
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "PARSL_TASK_ID=", 14) != 0 && std::strncmp(*e, "PARSL_TRY=", 10) != 0 &&
        !is_launcher_variable(*e))
      envp.push_back(*e);
  for (auto& e : extra) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string bash = "/bin/bash", dash_c = "-c", cmd = command;
  char* argv[] = {bash.data(), dash_c.data(), cmd.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  // stdin: nothing (a launcher's stdin goes to rank 0 at most, and a task must not eat it).
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (out.get() >= 0) posix_spawn_file_actions_adddup2(&actions, out.get(), 1);
  if (err.get() >= 0) posix_spawn_file_actions_adddup2(&actions, err.get(), 2);
  // Nothing else of ours: MPI's sockets and pipes held by a task would keep the launcher
  // waiting for them after the rank is gone.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);  // its own process group: a walltime kills all of it
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, bash.c_str(), &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw Error("bash app '" + app + "': cannot start /bin/bash: " + std::strerror(rc));
  TrackedChild tracked(-pid);  // however this process dies, the watchdog kills the group

  // Wait for bash to exit without reaping it (WNOWAIT): while it is an unreaped zombie, its
  // pid, which is also its process group's id, cannot be reused, so killing the group after
  // it exited can only reach what the command left running.
  auto leader_exited = [pid](bool block) {
    siginfo_t info{};
    for (;;) {
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT | (block ? 0 : WNOHANG)) == 0)
        return info.si_pid == pid;
      if (errno != EINTR) return true;  // not our child any more: nothing to wait for
    }
  };
  auto reap = [pid] {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  };
  // Wait for the exit, the walltime or a cancellation. A pidfd wakes us the moment bash
  // exits, so polling for the other two costs the task nothing.
  if (task.walltime || task.cancel != nullptr) {
    using clock = std::chrono::steady_clock;
    const auto deadline = task.walltime ? clock::now() + std::chrono::duration_cast<clock::duration>(
                                                             std::chrono::duration<double>(*task.walltime))
                                        : clock::time_point::max();
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    auto nap = std::chrono::microseconds(50);
    while (!leader_exited(false)) {
      const bool late = clock::now() >= deadline;
      if (late || task.cancelled()) {
        if (pidfd >= 0) ::close(pidfd);
        ::kill(-pid, SIGTERM);
        const auto grace = clock::now() + std::chrono::seconds(1);
        while (!leader_exited(false) && clock::now() < grace) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        ::kill(-pid, SIGKILL);  // the whole group, before the try fails: nothing is left running
        reap();
        if (late)
          throw AppTimeout("bash app " + app + " (task " + std::to_string(task.task_id) + ") exceeded its walltime of " +
                           std::to_string(*task.walltime) + " s; its process group was killed");
        throw TaskCancelled("bash app " + app + " (task " + std::to_string(task.task_id) +
                            ") was cancelled; its process group was killed");
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
      if (pidfd >= 0) {
        pollfd p{pidfd, POLLIN, 0};
        (void)::poll(&p, 1, static_cast<int>(std::clamp<long long>(left + 1, 0, 20)));  // cancels seen within 20 ms
      } else {
        std::this_thread::sleep_for(nap);
        if (nap < std::chrono::milliseconds(10)) nap *= 2;
      }
    }
    if (pidfd >= 0) ::close(pidfd);
  }
  leader_exited(true);
  if (io.keep_background)
    tracked.keep_until_exit();  // the group's survivors live until this process ends
  else
    ::kill(-pid, SIGKILL);  // background children (`cmd &`) end with their task
  const int status = reap();
  const std::string where = out_path.empty() && err_path.empty()
                                ? std::string()
                                : "; logs: " + (out_path.empty() ? std::string("-") : out_path) + " " +
                                      (err_path.empty() ? std::string("-") : err_path);
  if (WIFEXITED(status)) {
    const int code = WEXITSTATUS(status);
    if (code == 0) {
      std::string missing;
      for (const auto& f : io.outputs)
        if (!std::filesystem::exists(f.path())) missing += (missing.empty() ? "" : ", ") + f.path();
      if (!missing.empty())
        throw MissingOutputs("bash app " + app + " (task " + std::to_string(task.task_id) +
                             ") exited 0 but did not produce: " + missing);
      return 0;
    }
    throw BashExitFailure(app, code, where);
  }
  if (WIFSIGNALED(status)) throw BashExitFailure(app, 128 + WTERMSIG(status), where);
  throw BashExitFailure(app, -1, where);
}

}  // namespace detail
}  // namespace parsl
