// Cobalt (ALCF: Theta, Mira): qsub --mode script, qstat, qdel. Cobalt forgets a job as soon
// as it ends, so how it ended comes from the job's exit file (settle()).
#include <sstream>

#include "providers.hpp"

namespace parsl::launch::detail {

namespace {

JobState cobalt_state(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "queued" || s == "starting") return JobState::pending;
  if (s == "running" || s == "exiting" || s == "killing" || s == "cleanup") return JobState::running;
  if (s == "dep_fail") return JobState::failed;
  if (s.size() > 5 && s.compare(s.size() - 5, 5, "_hold") == 0) return JobState::held;
  if (s == "done") return JobState::completed;
  return JobState::unknown;
}

class CobaltProvider final : public Provider {
 public:
  using Provider::Provider;
  std::string name() const override { return "cobalt"; }
  std::string script(const JobSpec& spec) const override {
    // Cobalt takes the request on qsub's command line (submit_command); the script says
    // what it was, for a reader.
    std::ostringstream s;
    s << "#!/bin/bash\n# Cobalt job " << spec.name << ": " << spec.shape.nodes << " nodes, "
      << (spec.walltime + 59) / 60 << " minutes; submitted with qsub --mode script (see parsl-submit's log)\n"
      << directives(spec) << job_body(spec);
    return s.str();
  }
  std::vector<std::string> submit_command(const JobSpec& spec, const std::string& after) const override {
    std::vector<std::string> argv = {"qsub", "-n", std::to_string(spec.shape.nodes), "-t",
                                     std::to_string((spec.walltime + 59) / 60)};
    if (!spec.queue.empty()) argv.insert(argv.end(), {"-q", spec.queue});
    if (!spec.account.empty()) argv.insert(argv.end(), {"-A", spec.account});
    if (!spec.node_features.empty()) argv.insert(argv.end(), {"--attrs", spec.node_features});
    if (!after.empty()) {
      need_ids({after}, "wait for");
      argv.insert(argv.end(), {"--dependencies", after});
    }
    argv.insert(argv.end(), {"-o", spec.stdout_path.string(), "-e", spec.stderr_path.string(), "--mode", "script",
                             spec.script_path.string()});
    return argv;
  }
  std::string parse_submit(const std::string& out) const override {
    // The id is the last line of digits; Cobalt may print warnings before it.
    const auto ls = lines(out);
    for (auto it = ls.rbegin(); it != ls.rend(); ++it) {
      const std::string id = trim(*it);
      if (!id.empty() && id.find_first_not_of("0123456789") == std::string::npos) return id;
    }
    throw LaunchError("Cobalt's qsub printed no job id: '" + trim(out) + "'");
  }

  std::map<std::string, JobStatus> status(const std::vector<std::string>& ids) override {
    std::map<std::string, JobStatus> result;
    if (ids.empty()) return result;
    need_ids(ids, "ask for");
    std::vector<std::string> argv = {"qstat"};
    argv.insert(argv.end(), ids.begin(), ids.end());
    CommandResult r = runner_.run(argv, timeout_);
    // qstat of ids that are all gone prints the header only (some versions exit 1).
    if (r.exit_code != 0 && (r.timed_out || r.not_found || !r.err.empty())) r.out = checked(std::move(r), argv, timeout_);
    // A header line naming the columns (JobID, State, ...), a line of '=' or '-', then rows.
    int col_id = -1, col_state = -1, col_time = -1;
    for (const auto& line : lines(r.out)) {
      const auto w = words(line);
      if (w.empty() || line.find_first_not_of("=- ") == std::string::npos) continue;
      if (col_id < 0) {
        for (std::size_t i = 0; i < w.size(); ++i) {
          if (w[i] == "JobID" || w[i] == "JobId") col_id = static_cast<int>(i);
          if (w[i] == "State") col_state = static_cast<int>(i);
          if (w[i] == "RunTime") col_time = static_cast<int>(i);
        }
        if (col_id < 0 || col_state < 0)
          throw LaunchError("cannot read the output of '" + shell_join(argv) + "': no JobID and State columns in '" +
                            line + "'");
        continue;
      }
      if (static_cast<int>(w.size()) <= std::max(col_id, col_state)) continue;
      JobStatus st;
      st.scheduler_state = w[static_cast<std::size_t>(col_state)];
      st.state = cobalt_state(st.scheduler_state);
      if (col_time >= 0 && static_cast<int>(w.size()) > col_time && st.state == JobState::running)
        st.elapsed = parse_clock(w[static_cast<std::size_t>(col_time)]);
      result[w[static_cast<std::size_t>(col_id)]] = st;
    }
    mark_missing(result, ids);
    return result;
  }
  void cancel(const std::vector<std::string>& ids) override {
    cancel_jobs(runner_, timeout_, "qdel", ids, {"not found", "Unknown"});
  }
  int poll_interval() const override { return 60; }
};

}  // namespace

std::unique_ptr<Provider> make_cobalt(CommandRunner& runner, std::chrono::seconds timeout) {
  return std::make_unique<CobaltProvider>(runner, timeout);
}

}  // namespace parsl::launch::detail
