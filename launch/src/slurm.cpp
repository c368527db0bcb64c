// Slurm: sbatch, squeue, scancel. What Slurm 22.05 prints: ../shared/slurm-local.md.
#include <sstream>

#include "providers.hpp"

namespace parsl::launch::detail {

namespace {

JobState slurm_state(const std::string& s) {
  static const std::pair<const char*, JobState> table[] = {
      {"PENDING", JobState::pending},     {"CONFIGURING", JobState::pending}, {"REQUEUED", JobState::pending},
      {"REQUEUE_FED", JobState::pending}, {"RUNNING", JobState::running},     {"COMPLETING", JobState::running},
      {"RESIZING", JobState::running},    {"SIGNALING", JobState::running},   {"STAGE_OUT", JobState::running},
      {"COMPLETED", JobState::completed}, {"CANCELLED", JobState::cancelled}, {"FAILED", JobState::failed},
      {"NODE_FAIL", JobState::failed},    {"BOOT_FAIL", JobState::failed},    {"PREEMPTED", JobState::failed},
      {"OUT_OF_MEMORY", JobState::failed}, {"REVOKED", JobState::failed},     {"SPECIAL_EXIT", JobState::failed},
      {"TIMEOUT", JobState::timeout},     {"DEADLINE", JobState::timeout},    {"SUSPENDED", JobState::held},
      {"STOPPED", JobState::held},        {"REQUEUE_HOLD", JobState::held},   {"RESV_DEL_HOLD", JobState::held},
  };
  for (const auto& [name, state] : table)
    if (s == name) return state;
  return JobState::unknown;
}

class SlurmProvider final : public Provider {
 public:
  using Provider::Provider;
  std::string name() const override { return "slurm"; }

  std::string script(const JobSpec& spec) const override {
    std::ostringstream s;
    s << "#!/bin/bash\n"
      << "#SBATCH --job-name=" << spec.name << '\n'
      << "#SBATCH --nodes=" << spec.shape.nodes << '\n'
      << "#SBATCH --ntasks-per-node=" << spec.shape.ranks_per_node << '\n'
      << "#SBATCH --cpus-per-task=" << spec.shape.cores_per_rank << '\n';
    if (spec.shape.gpus_per_rank > 0) s << "#SBATCH --gpus-per-task=" << spec.shape.gpus_per_rank << '\n';
    s << "#SBATCH --time=" << format_walltime(spec.walltime) << '\n';
    if (!spec.queue.empty()) s << "#SBATCH --partition=" << spec.queue << '\n';
    if (!spec.account.empty()) s << "#SBATCH --account=" << spec.account << '\n';
    if (!spec.node_features.empty()) s << "#SBATCH --constraint=" << spec.node_features << '\n';
    s << "#SBATCH --output=" << spec.stdout_path.string() << '\n'
      << "#SBATCH --error=" << spec.stderr_path.string() << '\n'
      << directives(spec) << job_body(spec);
    return s.str();
  }

  std::vector<std::string> submit_command(const JobSpec& spec, const std::string& after) const override {
    std::vector<std::string> argv = {"sbatch", "--parsable"};
    if (!after.empty()) {
      need_ids({after}, "wait for");
      argv.push_back("--dependency=afterany:" + after);
    }
    argv.push_back(spec.script_path.string());
    return argv;
  }

  std::string parse_submit(const std::string& out) const override {
    // --parsable: "12" or "12;cluster".
    for (const auto& line : lines(out)) {
      std::string id = trim(line.substr(0, line.find(';')));
      if (!id.empty() && id.find_first_not_of("0123456789_") == std::string::npos) return id;
    }
    throw LaunchError("sbatch printed no job id: '" + trim(out) + "'");
  }

  std::map<std::string, JobStatus> status(const std::vector<std::string>& ids) override {
    std::map<std::string, JobStatus> result;
    if (ids.empty()) return result;
    need_ids(ids, "ask for");
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;
    // -t all: finished jobs too, as long as the controller remembers them (MinJobAge).
    const std::vector<std::string> argv = {"squeue", "-h", "-t", "all", "-j", list, "-o", "%i|%T|%r|%M|%L"};
    CommandResult r = runner_.run(argv, timeout_);
    if (r.exit_code != 0 && !r.timed_out && !r.not_found && r.err.find("Invalid job id") != std::string::npos) {
      r.out.clear();  // a single forgotten id: squeue fails instead of listing nothing
    } else if (r.exit_code != 0 || r.timed_out || r.not_found) {
      checked(std::move(r), argv, timeout_);  // throws with the details
    }
    for (const auto& line : lines(r.out)) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      std::string field;
      while (std::getline(ss, field, '|')) f.push_back(trim(field));
      if (f.size() < 5) continue;
      JobStatus st;
      st.scheduler_state = f[1];
      st.state = slurm_state(f[1]);
      if (f[2] != "None") st.reason = f[2];
      if (f[1] == "PREEMPTED") st.reason = st.reason.empty() ? "preempted" : st.reason;
      if (st.state == JobState::running) {
        st.elapsed = parse_clock(f[3]);
        st.time_left = parse_clock(f[4]);
      }
      result[f[0]] = st;
    }
    mark_missing(result, ids);
    return result;
  }

  void cancel(const std::vector<std::string>& ids) override {
    cancel_jobs(runner_, timeout_, "scancel", ids, {"Invalid job id", "already completed"});
  }

  int poll_interval() const override { return 10; }
};

}  // namespace

std::unique_ptr<Provider> make_slurm(CommandRunner& runner, std::chrono::seconds timeout) {
  return std::make_unique<SlurmProvider>(runner, timeout);
}

}  // namespace parsl::launch::detail
