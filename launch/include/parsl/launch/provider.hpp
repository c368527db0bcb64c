#pragma once
/// @file
/// Providers: how a batch job is submitted, watched and cancelled on one kind of scheduler
/// (Local, Slurm, PBS Pro, Torque, Cobalt, LSF), after Parsl's `ExecutionProvider`.
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "parsl/launch/command_runner.hpp"
#include "parsl/launch/job_state.hpp"
#include "parsl/launch/launcher.hpp"

namespace parsl::launch {

/// Everything a job script needs. Paths are absolute.
struct JobSpec {
  std::string name = "parsl";
  LaunchShape shape;                    ///< nodes, ranks per node, cores and GPUs per rank
  long walltime = 3600;                 ///< seconds
  std::string queue;                    ///< partition (Slurm) or queue (the others); empty: default
  std::string node_features;            ///< Torque `nodes=N:ppn=P:<this>`, PBS Pro select, Slurm --constraint
  std::string account;                  ///< account or project to charge; empty: default
  std::string scheduler_options;        ///< extra directive lines, put after ours as they are
  std::string worker_init;              ///< bash run before the launch (module load ...)
  std::string launcher = "simple";      ///< the launcher's name, for PARSL_LAUNCHER
  std::string launch_setup;             ///< the launcher's own lines before the launch
  std::string command;                  ///< the launched command line
  std::filesystem::path work_dir;       ///< the job runs here
  std::filesystem::path script_path;    ///< where the script is written
  std::filesystem::path stdout_path;    ///< the job's stdout and stderr
  std::filesystem::path stderr_path;
  std::filesystem::path exit_path;      ///< the script writes its command's exit status here
  std::map<std::string, std::string> env;  ///< exported before worker_init
};

/// One kind of batch system. Each call of submit/status/cancel runs scheduler commands
/// through the runner given at construction, each with the timeout given there; a command
/// that fails, times out or prints what cannot be read throws LaunchError naming it.
/// Thread safety: one provider per thread.
class Provider {
 public:
  Provider(CommandRunner& runner, std::chrono::seconds timeout) : runner_(runner), timeout_(timeout) {}
  virtual ~Provider() = default;
  /// "slurm", "pbspro", ...
  virtual std::string name() const = 0;
  /// The whole job script for `spec`: directives, then the common body (job_body).
  virtual std::string script(const JobSpec& spec) const = 0;
  /// Submits the script already written at spec.script_path; returns the job id. With
  /// `after`, the job starts only once job `after` has ended, however it ended.
  virtual std::string submit(const JobSpec& spec, const std::string& after = {});
  /// The command submit() runs (shown by --dry-run); its stdin is the script when
  /// submit_reads_stdin() (LSF's `bsub < script`).
  virtual std::vector<std::string> submit_command(const JobSpec& spec, const std::string& after) const = 0;
  virtual bool submit_reads_stdin() const { return false; }
  /// The job id in the submit command's stdout; throws LaunchError quoting it when none.
  virtual std::string parse_submit(const std::string& out) const = 0;
  /// The scheduler's view of each job in `ids`. A job the scheduler does not list any more
  /// is `missing` (the caller may know more from the job's exit file, see settle()).
  virtual std::map<std::string, JobStatus> status(const std::vector<std::string>& ids) = 0;
  /// Asks the scheduler to cancel every job in `ids`. Jobs already gone are not an error.
  virtual void cancel(const std::vector<std::string>& ids) = 0;
  /// Seconds between status polls that the scheduler's admins would accept.
  virtual int poll_interval() const { return 30; }
  std::chrono::seconds timeout() const noexcept { return timeout_; }

 protected:
  CommandRunner& runner_;
  std::chrono::seconds timeout_;
};

/// The provider called `name` (local, slurm, pbspro, torque, cobalt, lsf), running its
/// commands through `runner` (which must outlive it) with `timeout` each. Throws LaunchError
/// naming an unknown provider and the known ones.
std::unique_ptr<Provider> make_provider(const std::string& name, CommandRunner& runner,
                                        std::chrono::seconds timeout = std::chrono::seconds(60));

/// The known provider names.
std::vector<std::string> provider_names();

/// The body every provider's script shares, after its directives: `set -u`, cd to the work
/// folder, the exports (PARSL_JOB_END_TIME from the walltime, PARSL_LAUNCHER, spec.env),
/// worker_init, the launcher's setup, the command, and its exit status written to
/// spec.exit_path (atomically, so a reader never sees half of it).
std::string job_body(const JobSpec& spec);

/// `seconds` as HH:MM:SS (hours may exceed 24).
std::string format_walltime(long seconds);
/// "HH:MM:SS", "MM:SS", "D-HH:MM:SS", "90" (minutes, as sbatch reads it) or "90s"; throws
/// LaunchError naming the text when it is none of these or is zero.
long parse_walltime(const std::string& text);

/// How a job ended once the scheduler's word and its exit file are put together: the exit
/// file wins (0 → completed, else failed with that code); without one, the scheduler's state.
JobStatus settle(JobStatus scheduler, const std::filesystem::path& exit_path);

}  // namespace parsl::launch
