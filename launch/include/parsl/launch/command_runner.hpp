#pragma once
/// @file
/// How launch/ runs scheduler commands (sbatch, qstat, bjobs, ...): an interface, so that
/// tests can feed recorded scheduler output, and the real runner with a timeout on every
/// command.
#include <chrono>
#include <string>
#include <vector>

#include "parsl/serial/error.hpp"

namespace parsl::launch {

/// A batch system or launcher could not be used: a scheduler command failed, timed out or
/// printed what we cannot read; a job script or profile is wrong. The message names the
/// command or file and what to do.
class LaunchError : public Error {
 public:
  using Error::Error;
};

/// What one command did.
struct CommandResult {
  int exit_code = -1;      ///< exit status, or 128+signal when killed by a signal
  std::string out;         ///< all of its stdout
  std::string err;         ///< all of its stderr
  bool timed_out = false;  ///< killed because it ran past the timeout
  bool not_found = false;  ///< the program does not exist on PATH
};

/// Runs one command and waits for it. Implementations must never hang past `timeout`.
/// Thread safety: one runner per thread.
class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  /// Runs `argv` (argv[0] looked up on PATH) with `input` on its stdin, for at most
  /// `timeout`; then it is killed (SIGTERM, SIGKILL 2 s later) with all it started.
  virtual CommandResult run(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                            const std::string& input = {}) = 0;
};

/// The real runner: posix_spawn in a new process group, stdout and stderr captured.
class SubprocessRunner final : public CommandRunner {
 public:
  CommandResult run(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                    const std::string& input = {}) override;
};

/// `argv` as one line a user can paste into bash (each word quoted when it needs it).
std::string shell_join(const std::vector<std::string>& argv);
/// One word quoted for bash when it needs it: `it's` → `'it'\''s'`.
std::string shell_quote(const std::string& word);

/// `r`'s stdout when the command succeeded; else throws LaunchError naming `argv`, the exit
/// status or the timeout, and the first lines of its stderr.
std::string checked(CommandResult r, const std::vector<std::string>& argv, std::chrono::seconds timeout);

/// Runs a scheduler command and returns its stdout; throws LaunchError naming the command,
/// the exit status or the timeout, and the first lines of its stderr, when it fails.
std::string run_checked(CommandRunner& runner, const std::vector<std::string>& argv, std::chrono::seconds timeout,
                        const std::string& input = {});

}  // namespace parsl::launch
