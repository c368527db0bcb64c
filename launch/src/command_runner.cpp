#include "parsl/launch/command_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace parsl::launch {

namespace {

using Clock = std::chrono::steady_clock;

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fd, O_CLOEXEC) != 0) throw LaunchError(std::string("cannot run a command: pipe: ") + std::strerror(errno));
  }
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

bool on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (dir.empty()) dir = ".";
    if (::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

CommandResult SubprocessRunner::run(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                                    const std::string& input) {
  CommandResult result;
  if (argv.empty()) throw LaunchError("cannot run an empty command");
  if (!on_path(argv[0])) {
    result.not_found = true;
    result.exit_code = 127;
    result.err = argv[0] + ": command not found";
    return result;
  }
  Pipe in, out, err;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_adddup2(&actions, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  // Its own process group, so that a timeout kills whatever it started too.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0].c_str(), &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw LaunchError("cannot run '" + shell_join(argv) + "': " + std::strerror(rc));
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);

  // Feed stdin and drain stdout/stderr together, so that neither side blocks the other.
  std::size_t written = 0;
  if (input.empty()) in.close_end(1);
  else ::fcntl(in.fd[1], F_SETFL, O_NONBLOCK);
  const auto deadline = Clock::now() + timeout;
  bool killed = false;
  Clock::time_point kill_at{};
  char buf[65536];
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    const auto now = Clock::now();
    if (!killed && now >= deadline) {
      result.timed_out = true;
      ::kill(-pid, SIGTERM);
      killed = true;
      kill_at = now + std::chrono::seconds(2);
    } else if (killed && now >= kill_at) {
      ::kill(-pid, SIGKILL);
      kill_at = now + std::chrono::hours(1);
      // Whatever still holds our pipes open after SIGKILL of the group is not ours to wait for.
      break;
    }
    pollfd fds[3];
    int n = 0;
    int ix_out = -1, ix_err = -1, ix_in = -1;
    if (out.fd[0] >= 0) fds[ix_out = n++] = {out.fd[0], POLLIN, 0};
    if (err.fd[0] >= 0) fds[ix_err = n++] = {err.fd[0], POLLIN, 0};
    if (in.fd[1] >= 0) fds[ix_in = n++] = {in.fd[1], POLLOUT, 0};
    const auto until = killed ? kill_at : deadline;
    const int wait_ms = static_cast<int>(
        std::max<long>(1, std::min<long>(1000, std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count())));
    const int ready = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    auto drain = [&](int ix, Pipe& p, std::string& into) {
      if (ix < 0 || !(fds[ix].revents & (POLLIN | POLLHUP | POLLERR))) return;
      const ssize_t got = ::read(p.fd[0], buf, sizeof buf);
      if (got > 0) into.append(buf, static_cast<std::size_t>(got));
      else if (got == 0 || errno != EINTR) p.close_end(0);
    };
    drain(ix_out, out, result.out);
    drain(ix_err, err, result.err);
    if (ix_in >= 0 && (fds[ix_in].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t put = ::write(in.fd[1], input.data() + written, input.size() - written);
      if (put > 0) written += static_cast<std::size_t>(put);
      if (put < 0 && errno != EAGAIN && errno != EINTR) in.close_end(1);
      if (written == input.size()) in.close_end(1);
    }
  }
  in.close_end(1);
  int status = 0;
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, killed ? WNOHANG : 0);
    if (w == pid) break;
    if (w < 0 && errno == EINTR) continue;
    if (w == 0) {  // killed but not gone yet: make sure, then wait
      ::kill(-pid, SIGKILL);
      ::usleep(10000);
      continue;
    }
    status = 0;
    break;
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  return result;
}

std::string shell_quote(const std::string& word) {
  if (word.empty()) return "''";
  bool plain = true;
  for (char c : word)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::strchr("@%+=:,./-_", c))) plain = false;
  if (plain) return word;
  std::string q = "'";
  for (char c : word) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& a : argv) {
    if (!line.empty()) line += ' ';
    line += shell_quote(a);
  }
  return line;
}

std::string run_checked(CommandRunner& runner, const std::vector<std::string>& argv, std::chrono::seconds timeout,
                        const std::string& input) {
  return checked(runner.run(argv, timeout, input), argv, timeout);
}

std::string checked(CommandResult r, const std::vector<std::string>& argv, std::chrono::seconds timeout) {
  auto first_lines = [](const std::string& text) {
    std::string t = text.substr(0, 600);
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    return t;
  };
  if (r.not_found)
    throw LaunchError("'" + argv[0] + "' is not on PATH: is this a login node of the scheduler you chose? (ran: " +
                      shell_join(argv) + ")");
  if (r.timed_out)
    throw LaunchError("'" + shell_join(argv) + "' did not answer within " + std::to_string(timeout.count()) +
                      " s (is the scheduler reachable? raise --cmd-timeout if it is only slow)" +
                      (r.err.empty() ? std::string() : ": " + first_lines(r.err)));
  if (r.exit_code != 0)
    throw LaunchError("'" + shell_join(argv) + "' failed with exit status " + std::to_string(r.exit_code) +
                      (r.err.empty() ? (r.out.empty() ? std::string() : ": " + first_lines(r.out))
                                     : ": " + first_lines(r.err)));
  return std::move(r.out);
}

}  // namespace parsl::launch
