#pragma once
/// @file
/// A submission: one campaign that parsl-submit runs as one or more batch jobs, its record in
/// its run folder (`submission.json`, the job scripts, their output and exit files), and the
/// state machine that follows it and submits the next job when one ends unfinished.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "parsl/launch/job_state.hpp"
#include "parsl/launch/launcher.hpp"
#include "parsl/launch/provider.hpp"
#include "parsl/launch/settings.hpp"

namespace parsl::launch {

/// parsl-run's exit status when it stopped starting tasks because its job is about to end
/// (EX_TEMPFAIL): the campaign is not finished and a next job should resume it.
inline constexpr int kExitDrained = 75;

/// One batch job of a submission.
struct JobRecord {
  int index = 0;             ///< 1 for the first job, 2 for its first successor, ...
  std::string id;            ///< the scheduler's job id
  std::string after;         ///< the job it waits for (a scheduler dependency), if any
  JobStatus status;          ///< as last seen
  double submitted = 0;      ///< epoch seconds; 0 = not yet
  double started = 0;        ///< first seen running
  double ended = 0;          ///< first seen in a terminal state
  bool cancelled_by_us = false;
};

/// How the whole submission stands.
enum class Outcome { running, done, failed, cancelled, gave_up };
std::string_view to_string(Outcome outcome) noexcept;

/// The record of one submission, in its own run folder. Not thread-safe.
class Submission {
 public:
  /// A new run folder `base/NNN` (the next free number), with the settings and the command.
  static Submission create(const std::filesystem::path& base, Settings settings, std::vector<std::string> command);
  /// The submission `create` would make, in memory only (for --dry-run): nothing is written.
  static Submission preview(const std::filesystem::path& base, Settings settings, std::vector<std::string> command);
  /// The submission recorded in `dir`; throws LaunchError naming the folder when there is
  /// no record or it is damaged.
  static Submission open(const std::filesystem::path& dir);
  /// The run folders under `base`, oldest first.
  static std::vector<std::filesystem::path> list(const std::filesystem::path& base);

  /// Writes submission.json (atomically: a reader sees the old or the new record).
  void save() const;

  const std::filesystem::path& dir() const noexcept { return dir_; }
  const Settings& settings() const noexcept { return settings_; }
  const std::vector<std::string>& command() const noexcept { return command_; }
  std::vector<JobRecord>& jobs() noexcept { return jobs_; }
  const std::vector<JobRecord>& jobs() const noexcept { return jobs_; }
  Outcome outcome() const noexcept { return outcome_; }
  void set_outcome(Outcome o, std::string why);
  const std::string& why() const noexcept { return why_; }
  double created() const noexcept { return created_; }
  /// Where the jobs run (the folder parsl-submit was started in).
  const std::filesystem::path& work_dir() const noexcept { return work_dir_; }
  /// True once `parsl-submit cancel` asked for this submission to end (a file in its folder,
  /// so that a follower in another process sees it).
  bool cancel_requested() const;
  void request_cancel() const;

  /// The job script, output and exit paths of job `index`.
  std::filesystem::path script_path(int index) const;
  std::filesystem::path stdout_path(int index) const;
  std::filesystem::path stderr_path(int index) const;
  std::filesystem::path exit_path(int index) const;

 private:
  std::filesystem::path dir_;
  Settings settings_;
  std::vector<std::string> command_;
  std::vector<JobRecord> jobs_;
  Outcome outcome_ = Outcome::running;
  std::string why_;
  double created_ = 0;
  std::filesystem::path work_dir_;
};

/// Follows a submission: submits its jobs, polls them, and when a job ends before the
/// campaign is done (walltime, node failure, preemption, or drained: exit 75) submits the
/// next one with the resume arguments, up to `max-jobs`; with `queue-ahead`, it queues the
/// next job behind the running one with a scheduler dependency.
class Pilot {
 public:
  /// `provider` and `launcher` must outlive the pilot.
  Pilot(Submission& submission, Provider& provider, const Launcher& launcher);

  /// The job spec of job `index` (its command has the resume arguments from job 2 on).
  JobSpec spec(int index) const;
  /// Writes job `index`'s script and submits it (after job `after`, when given).
  JobRecord& submit(int index, const std::string& after = {});
  /// One poll of the live jobs at time `now` (epoch seconds): updates their records,
  /// submits the next job when needed, cancels a queued-ahead job that is not needed,
  /// saves the record. Returns true once the outcome is decided and no job is live.
  bool step(double now);
  /// Cancels every live job (marked as cancelled by us) and sets the outcome to cancelled.
  void cancel();
  /// One line: job id, index, state, time in queue, time running, time left.
  std::string status_line(double now) const;

 private:
  void job_ended(JobRecord& job);
  bool needs_next(const JobRecord& job) const;

  Submission& sub_;
  Provider& provider_;
  const Launcher& launcher_;
};

/// The command of job `index`: `command` with the resume arguments inserted after the
/// program name from job 2 on (`resume_args`, default `--resume` when the program is
/// parsl-run, else none).
std::vector<std::string> job_command(const std::vector<std::string>& command, int index,
                                     const std::optional<std::string>& resume_args);

/// `seconds` as H:MM:SS or M:SS.
std::string format_duration(double seconds);

}  // namespace parsl::launch
