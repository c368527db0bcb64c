// PBS Pro (qsub, qstat -f -F json -x, qdel) and Torque (qsub, qstat -f, qdel).
#include <sstream>

#include <nlohmann/json.hpp>

#include "providers.hpp"

namespace parsl::launch::detail {

namespace {

// Both take the same dependency syntax and print "1234.server" on qsub.
std::vector<std::string> qsub_command(const JobSpec& spec, const std::string& after) {
  std::vector<std::string> argv = {"qsub"};
  if (!after.empty()) {
    need_ids({after}, "wait for");
    argv.insert(argv.end(), {"-W", "depend=afterany:" + after});
  }
  argv.push_back(spec.script_path.string());
  return argv;
}

std::string qsub_id(const std::string& out) {
  for (const auto& line : lines(out)) {
    const std::string id = trim(line);
    if (!id.empty() && std::isdigit(static_cast<unsigned char>(id[0])) && id.find(' ') == std::string::npos) return id;
  }
  throw LaunchError("qsub printed no job id: '" + trim(out) + "'");
}

std::string pbs_header(const JobSpec& spec, const std::string& resources) {
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "#PBS -S /bin/bash\n"
    << "#PBS -N " << spec.name << '\n'
    << "#PBS -m n\n"
    << "#PBS -l " << resources << '\n'
    << "#PBS -l walltime=" << format_walltime(spec.walltime) << '\n';
  if (!spec.queue.empty()) s << "#PBS -q " << spec.queue << '\n';
  if (!spec.account.empty()) s << "#PBS -A " << spec.account << '\n';
  s << "#PBS -o " << spec.stdout_path.string() << '\n' << "#PBS -e " << spec.stderr_path.string() << '\n';
  return s.str();
}

// PBS's job states (PBS Pro and Torque share the letters; F is PBS Pro's finished, C Torque's
// completed) and the exit status of a finished job: 0 fine, 256+N killed by signal N (qdel:
// SIGTERM), negative a server code (walltime: PBS Pro -29, Torque -11).
JobStatus pbs_status(const std::string& letter, std::optional<long> exit_status, bool torque) {
  JobStatus st;
  st.scheduler_state = letter;
  switch (letter.empty() ? '?' : letter[0]) {
    case 'Q':
    case 'W':
    case 'T':
    case 'M': st.state = JobState::pending; break;
    case 'H':
    case 'S':
    case 'U': st.state = JobState::held; break;
    case 'R':
    case 'E':
    case 'B': st.state = JobState::running; break;
    case 'X':
    case 'F':
    case 'C': {
      const long walltime_code = torque ? -11 : -29;
      if (!exit_status || *exit_status == 0) st.state = JobState::completed;
      else if (*exit_status == walltime_code) {
        st.state = JobState::timeout;
        st.reason = "walltime exceeded";
      } else if (*exit_status == 256 + 15 || *exit_status == 256 + 9) {
        st.state = JobState::cancelled;
        st.reason = "killed by signal " + std::to_string(*exit_status - 256);
      } else {
        st.state = JobState::failed;
        st.reason = "exit status " + std::to_string(*exit_status);
      }
      break;
    }
    default: st.state = JobState::unknown;
  }
  return st;
}

bool unknown_job_only(const CommandResult& r) {
  return !r.timed_out && !r.not_found && r.exit_code != 0 && r.err.find("Unknown Job Id") != std::string::npos;
}

void qdel(CommandRunner& runner, std::chrono::seconds timeout, const std::vector<std::string>& ids) {
  cancel_jobs(runner, timeout, "qdel", ids, {"Unknown Job Id", "finished"});
}

// The server may shorten or lengthen an id ("12.srv" vs "12.srv.example.org"): match on the
// part before the first dot, as Parsl does.
std::string short_id(const std::string& id) { return id.substr(0, id.find('.')); }

// What PBS Pro and Torque share: qsub's command line and output, and qdel.
class PbsFamily : public Provider {
 public:
  using Provider::Provider;
  std::vector<std::string> submit_command(const JobSpec& spec, const std::string& after) const override {
    return qsub_command(spec, after);
  }
  std::string parse_submit(const std::string& out) const override { return qsub_id(out); }
  void cancel(const std::vector<std::string>& ids) override { qdel(runner_, timeout_, ids); }
};

class PbsProProvider final : public PbsFamily {
 public:
  using PbsFamily::PbsFamily;
  std::string name() const override { return "pbspro"; }
  std::string script(const JobSpec& spec) const override {
    std::string select = "select=" + std::to_string(spec.shape.nodes) +
                         ":ncpus=" + std::to_string(spec.shape.ranks_per_node * spec.shape.cores_per_rank) +
                         ":mpiprocs=" + std::to_string(spec.shape.ranks_per_node);
    if (spec.shape.gpus_per_rank > 0)
      select += ":ngpus=" + std::to_string(spec.shape.ranks_per_node * spec.shape.gpus_per_rank);
    if (!spec.node_features.empty()) select += ":" + spec.node_features;
    return pbs_header(spec, select) + "#PBS -l place=scatter\n" + directives(spec) + job_body(spec);
  }
  std::map<std::string, JobStatus> status(const std::vector<std::string>& ids) override {
    std::map<std::string, JobStatus> result;
    if (ids.empty()) return result;
    need_ids(ids, "ask for");
    std::vector<std::string> argv = {"qstat", "-f", "-F", "json", "-x"};
    argv.insert(argv.end(), ids.begin(), ids.end());
    CommandResult r = runner_.run(argv, timeout_);
    if (!unknown_job_only(r)) r.out = checked(std::move(r), argv, timeout_);
    if (!trim(r.out).empty()) {
      nlohmann::json doc;
      try {
        doc = nlohmann::json::parse(r.out);
      } catch (const std::exception& e) {
        throw LaunchError("cannot read the JSON of '" + shell_join(argv) + "': " + e.what());
      }
      if (doc.contains("Jobs") && doc["Jobs"].is_object()) {
        for (const auto& [jid, job] : doc["Jobs"].items()) {
          if (!job.is_object()) continue;
          std::optional<long> exit_status;
          if (job.contains("Exit_status") && job["Exit_status"].is_number_integer())
            exit_status = job["Exit_status"].get<long>();
          const std::string letter = job.value("job_state", std::string());
          JobStatus st = pbs_status(letter, exit_status, false);
          if (job.contains("comment") && job["comment"].is_string() && st.reason.empty())
            st.reason = job["comment"].get<std::string>();
          if (st.state == JobState::running && job.contains("resources_used") &&
              job["resources_used"].contains("walltime")) {
            st.elapsed = parse_clock(job["resources_used"].value("walltime", std::string()));
            if (st.elapsed && job.contains("Resource_List") && job["Resource_List"].contains("walltime"))
              if (auto limit = parse_clock(job["Resource_List"].value("walltime", std::string())))
                st.time_left = *limit - *st.elapsed;
          }
          for (const auto& id : ids)
            if (short_id(id) == short_id(jid)) result[id] = st;
        }
      }
    }
    mark_missing(result, ids);
    return result;
  }
};

class TorqueProvider final : public PbsFamily {
 public:
  using PbsFamily::PbsFamily;
  std::string name() const override { return "torque"; }
  std::string script(const JobSpec& spec) const override {
    std::string nodes = "nodes=" + std::to_string(spec.shape.nodes) +
                        ":ppn=" + std::to_string(spec.shape.ranks_per_node * spec.shape.cores_per_rank);
    if (spec.shape.gpus_per_rank > 0)
      nodes += ":gpus=" + std::to_string(spec.shape.ranks_per_node * spec.shape.gpus_per_rank);
    if (!spec.node_features.empty()) nodes += ":" + spec.node_features;
    return pbs_header(spec, nodes) + directives(spec) + job_body(spec);
  }
  std::map<std::string, JobStatus> status(const std::vector<std::string>& ids) override {
    std::map<std::string, JobStatus> result;
    if (ids.empty()) return result;
    need_ids(ids, "ask for");
    std::vector<std::string> argv = {"qstat", "-f"};
    argv.insert(argv.end(), ids.begin(), ids.end());
    CommandResult r = runner_.run(argv, timeout_);
    if (!unknown_job_only(r)) r.out = checked(std::move(r), argv, timeout_);
    // "Job Id: 12.server" then "    key = value" lines; a value may go on over lines that
    // start with a tab.
    struct Block {
      std::string id;
      std::map<std::string, std::string> attrs;
    };
    std::vector<Block> blocks;
    std::string last_key;
    for (const auto& line : lines(r.out)) {
      if (line.rfind("Job Id:", 0) == 0) {
        blocks.push_back({trim(line.substr(7)), {}});
        last_key.clear();
        continue;
      }
      if (blocks.empty()) continue;
      if (!line.empty() && line[0] == '\t' && !last_key.empty()) {
        blocks.back().attrs[last_key] += trim(line);
        continue;
      }
      const auto eq = line.find(" = ");
      if (eq == std::string::npos) continue;
      last_key = trim(line.substr(0, eq));
      blocks.back().attrs[last_key] = trim(line.substr(eq + 3));
    }
    for (const auto& b : blocks) {
      std::optional<long> exit_status;
      if (auto it = b.attrs.find("exit_status"); it != b.attrs.end()) {
        try {
          exit_status = std::stol(it->second);
        } catch (...) {
        }
      }
      const auto state = b.attrs.find("job_state");
      JobStatus st = pbs_status(state == b.attrs.end() ? "" : state->second, exit_status, true);
      if (st.state == JobState::running) {
        if (auto it = b.attrs.find("resources_used.walltime"); it != b.attrs.end()) st.elapsed = parse_clock(it->second);
        if (auto it = b.attrs.find("Walltime.Remaining"); it != b.attrs.end()) {
          try {
            st.time_left = std::stol(it->second);
          } catch (...) {
          }
        } else if (auto lim = b.attrs.find("Resource_List.walltime"); lim != b.attrs.end() && st.elapsed) {
          if (auto limit = parse_clock(lim->second)) st.time_left = *limit - *st.elapsed;
        }
      }
      for (const auto& id : ids)
        if (short_id(id) == short_id(b.id)) result[id] = st;
    }
    mark_missing(result, ids);
    return result;
  }
};

}  // namespace

std::unique_ptr<Provider> make_pbspro(CommandRunner& runner, std::chrono::seconds timeout) {
  return std::make_unique<PbsProProvider>(runner, timeout);
}
std::unique_ptr<Provider> make_torque(CommandRunner& runner, std::chrono::seconds timeout) {
  return std::make_unique<TorqueProvider>(runner, timeout);
}

}  // namespace parsl::launch::detail
