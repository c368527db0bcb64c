// Local: the job script runs on this machine in its own session, under `timeout` for its
// walltime. The job id is its process id.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "providers.hpp"

namespace parsl::launch::detail {

namespace {

class LocalProvider final : public Provider {
 public:
  using Provider::Provider;
  std::string name() const override { return "local"; }
  std::string script(const JobSpec& spec) const override {
    return "#!/bin/bash\n# Local job " + spec.name + ", walltime " + format_walltime(spec.walltime) + "\n" +
           directives(spec) + job_body(spec);
  }
  std::vector<std::string> submit_command(const JobSpec& spec, const std::string& after) const override {
    // setsid: a session of its own, so that cancel reaches all it started. `timeout` is the
    // walltime, with SIGKILL 30 s after SIGTERM as a scheduler would; the wrapper records
    // timeout's status beside the script (124: walltime).
    const std::string script = shell_quote(spec.script_path.string());
    std::string inner;
    if (!after.empty()) {
      need_ids({after}, "wait for");
      inner += "while kill -0 " + after + " 2>/dev/null; do sleep 1; done; ";
    }
    inner += "timeout -k 30 " + std::to_string(spec.walltime) + " bash " + script + " > " +
             shell_quote(spec.stdout_path.string()) + " 2> " + shell_quote(spec.stderr_path.string()) +
             " < /dev/null; echo $? > " + shell_quote(rc_dir()) + "/$$.rc";
    return {"bash", "-c", "mkdir -p " + shell_quote(rc_dir()) + "; setsid bash -c " + shell_quote(inner) + " > /dev/null 2>&1 < /dev/null & echo $!"};
  }
  std::string parse_submit(const std::string& out) const override {
    const std::string id = trim(out);
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
      throw LaunchError("the local job did not start: '" + id + "'");
    return id;
  }
  std::map<std::string, JobStatus> status(const std::vector<std::string>& ids) override {
    std::map<std::string, JobStatus> result;
    need_ids(ids, "ask for");
    for (const auto& id : ids) {
      JobStatus& st = result[id];
      const long pid = std::stol(id);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) == 0 && !zombie(pid)) {
        st.state = JobState::running;
        st.scheduler_state = "running";
        continue;
      }
      st.state = JobState::missing;  // settle() reads the job's exit file; the rc file may say more
      {
        std::ifstream in(rc_dir() + "/" + id + ".rc");
        int rc = 0;
        if (in >> rc) {
          st.scheduler_state = "exit " + std::to_string(rc);
          if (rc == 124 || rc == 137) {
            st.state = JobState::timeout;
            st.reason = "walltime";
          } else st.state = rc == 0 ? JobState::completed : JobState::failed;
        }
      }
    }
    return result;
  }
  void cancel(const std::vector<std::string>& ids) override {
    need_ids(ids, "cancel");
    for (const auto& id : ids) {
      // The whole session: `timeout` puts the job in a process group of its own.
      CommandResult r = runner_.run({"pkill", "-TERM", "-s", id}, timeout_);
      if (r.exit_code > 1) checked(std::move(r), {"pkill", "-TERM", "-s", id}, timeout_);
    }
  }
  int poll_interval() const override { return 2; }

 private:
  static bool zombie(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    std::getline(in, stat);
    const auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
  }
  // Where the wrapper leaves `timeout`'s status, by job id: a later parsl-submit status
  // (another process) can still tell a walltime from a crash.
  static std::string rc_dir() { return "/tmp/parsl-local-jobs-" + std::to_string(::getuid()); }
};

}  // namespace

std::unique_ptr<Provider> make_local(CommandRunner& runner, std::chrono::seconds timeout) {
  return std::make_unique<LocalProvider>(runner, timeout);
}

}  // namespace parsl::launch::detail
