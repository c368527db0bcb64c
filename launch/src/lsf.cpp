// LSF (Summit, Lassen): bsub < script, bjobs -o ... -json, bkill.
#include <sstream>

#include <nlohmann/json.hpp>

#include "providers.hpp"

namespace parsl::launch::detail {

namespace {

class LsfProvider final : public Provider {
 public:
  using Provider::Provider;
  std::string name() const override { return "lsf"; }
  std::string script(const JobSpec& spec) const override {
    // -W takes [HH:]MM; round up to whole minutes.
    const long minutes = (spec.walltime + 59) / 60;
    char wall[32];
    std::snprintf(wall, sizeof wall, "%02ld:%02ld", minutes / 60, minutes % 60);
    std::ostringstream s;
    s << "#!/bin/bash\n"
      << "#BSUB -J " << spec.name << '\n'
      << "#BSUB -nnodes " << spec.shape.nodes << '\n'
      << "#BSUB -W " << wall << '\n';
    if (!spec.account.empty()) s << "#BSUB -P " << spec.account << '\n';
    if (!spec.queue.empty()) s << "#BSUB -q " << spec.queue << '\n';
    if (!spec.node_features.empty()) s << "#BSUB -alloc_flags \"" << spec.node_features << "\"\n";
    s << "#BSUB -o " << spec.stdout_path.string() << '\n'
      << "#BSUB -e " << spec.stderr_path.string() << '\n'
      << directives(spec) << job_body(spec);
    return s.str();
  }
  std::vector<std::string> submit_command(const JobSpec&, const std::string& after) const override {
    // The script goes on stdin: LSF reads #BSUB lines only from a script given that way.
    std::vector<std::string> argv = {"bsub"};
    if (!after.empty()) {
      need_ids({after}, "wait for");
      argv.insert(argv.end(), {"-w", "ended(" + after + ")"});
    }
    return argv;
  }
  bool submit_reads_stdin() const override { return true; }
  std::string parse_submit(const std::string& out) const override {
    // "Job <12345> is submitted to queue <batch>."
    for (const auto& line : lines(out)) {
      const auto open = line.find("Job <");
      const auto close = line.find('>', open);
      if (open != std::string::npos && close != std::string::npos && line.find("is submitted") != std::string::npos)
        return line.substr(open + 5, close - open - 5);
    }
    throw LaunchError("bsub printed no job id: '" + trim(out) + "'");
  }

  std::map<std::string, JobStatus> status(const std::vector<std::string>& ids) override {
    std::map<std::string, JobStatus> result;
    if (ids.empty()) return result;
    need_ids(ids, "ask for");
    std::vector<std::string> argv = {"bjobs", "-o", "jobid stat exit_code exit_reason run_time time_left", "-json"};
    argv.insert(argv.end(), ids.begin(), ids.end());
    CommandResult r = runner_.run(argv, timeout_);
    // bjobs fails when some id is unknown but still prints its JSON (with an ERROR record).
    if (r.timed_out || r.not_found || trim(r.out).empty()) r.out = checked(std::move(r), argv, timeout_);
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(r.out);
    } catch (const std::exception& e) {
      throw LaunchError("cannot read the JSON of '" + shell_join(argv) + "': " + e.what());
    }
    for (const auto& rec : doc.value("RECORDS", nlohmann::json::array())) {
      if (!rec.is_object()) continue;
      const std::string id = rec.value("JOBID", std::string());
      if (id.empty() || rec.contains("ERROR")) continue;  // "Job <9> is not found": missing
      JobStatus st;
      st.scheduler_state = rec.value("STAT", std::string());
      st.reason = rec.value("EXIT_REASON", std::string());
      const std::string& s = st.scheduler_state;
      if (s == "PEND" || s == "WAIT" || s == "PROV") st.state = JobState::pending;
      else if (s == "RUN") st.state = JobState::running;
      else if (s == "DONE") st.state = JobState::completed;
      else if (s == "PSUSP" || s == "USUSP" || s == "SSUSP") st.state = JobState::held;
      else if (s == "EXIT" || s == "ZOMBI") {
        if (st.reason.find("TERM_RUNLIMIT") != std::string::npos || st.reason.find("run time limit") != std::string::npos)
          st.state = JobState::timeout;
        else if (st.reason.find("TERM_OWNER") != std::string::npos || st.reason.find("TERM_ADMIN") != std::string::npos ||
                 st.reason.find("killed by owner") != std::string::npos)
          st.state = JobState::cancelled;
        else st.state = JobState::failed;
      } else st.state = JobState::unknown;
      const std::string code = rec.value("EXIT_CODE", std::string());
      if (!code.empty() && code.find_first_not_of("0123456789") == std::string::npos) st.exit_code = std::stoi(code);
      if (st.state == JobState::running) {
        // RUN_TIME "120 second(s)"; TIME_LEFT "0:58 L" (hours:minutes).
        const std::string rt = rec.value("RUN_TIME", std::string());
        if (!rt.empty() && std::isdigit(static_cast<unsigned char>(rt[0]))) st.elapsed = std::stol(rt);
        const auto tl = words(rec.value("TIME_LEFT", std::string()));
        if (!tl.empty())
          if (auto hm = parse_clock(tl[0])) st.time_left = *hm * 60;
      }
      result[id] = st;
    }
    mark_missing(result, ids);
    return result;
  }
  void cancel(const std::vector<std::string>& ids) override {
    cancel_jobs(runner_, timeout_, "bkill", ids, {"already finished", "No matching job", "not found"});
  }
  int poll_interval() const override { return 60; }
};

}  // namespace

std::unique_ptr<Provider> make_lsf(CommandRunner& runner, std::chrono::seconds timeout) {
  return std::make_unique<LsfProvider>(runner, timeout);
}

}  // namespace parsl::launch::detail
