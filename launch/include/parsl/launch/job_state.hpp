#pragma once
/// @file
/// The states of a batch job, Parsl's (parsl/providers/base.py `JobState`), and a job's status.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace parsl::launch {

/// Parsl's job states. `missing`: the scheduler no longer lists the job and nothing else
/// says how it ended.
enum class JobState { unknown, pending, running, cancelled, completed, failed, timeout, held, missing };

/// "PENDING", "RUNNING", ... as Parsl spells them.
std::string_view to_string(JobState state) noexcept;
/// The state named by Parsl's spelling (any case); nullopt for anything else.
std::optional<JobState> job_state_from_string(std::string_view name) noexcept;
/// True for the states a job never leaves: cancelled, completed, failed, timeout, missing.
bool is_terminal(JobState state) noexcept;

/// What a provider knows about one job.
struct JobStatus {
  JobState state = JobState::unknown;
  std::string scheduler_state;   ///< the scheduler's own word, e.g. "R", "PEND", "TIMEOUT"
  std::string reason;            ///< why it waits or how it ended, when the scheduler says
  std::optional<int> exit_code;  ///< the job script's exit status, when known
  std::optional<long> time_left; ///< seconds until the walltime ends, when known
  std::optional<long> elapsed;   ///< seconds it has run, when known
};

}  // namespace parsl::launch
