// What every provider shares: job states, the script body, walltimes, settling a job's end
// with its exit file, and the factory.
#include <fstream>
#include <sstream>

#include "parsl/launch/provider.hpp"
#include "providers.hpp"

namespace parsl::launch {

std::string_view to_string(JobState state) noexcept {
  switch (state) {
    case JobState::unknown: return "UNKNOWN";
    case JobState::pending: return "PENDING";
    case JobState::running: return "RUNNING";
    case JobState::cancelled: return "CANCELLED";
    case JobState::completed: return "COMPLETED";
    case JobState::failed: return "FAILED";
    case JobState::timeout: return "TIMEOUT";
    case JobState::held: return "HELD";
    case JobState::missing: return "MISSING";
  }
  return "UNKNOWN";
}

std::optional<JobState> job_state_from_string(std::string_view name) noexcept {
  for (JobState s : {JobState::unknown, JobState::pending, JobState::running, JobState::cancelled, JobState::completed,
                     JobState::failed, JobState::timeout, JobState::held, JobState::missing}) {
    const std::string_view n = to_string(s);
    if (n.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < n.size(); ++i)
      if (std::toupper(static_cast<unsigned char>(name[i])) != n[i]) same = false;
    if (same) return s;
  }
  return std::nullopt;
}

bool is_terminal(JobState state) noexcept {
  switch (state) {
    case JobState::cancelled:
    case JobState::completed:
    case JobState::failed:
    case JobState::timeout:
    case JobState::missing: return true;
    default: return false;
  }
}

std::string format_walltime(long seconds) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", seconds / 3600, (seconds / 60) % 60, seconds % 60);
  return buf;
}

long parse_walltime(const std::string& text) {
  auto bad = [&] {
    return LaunchError("walltime '" + text +
                       "' is not a duration: use HH:MM:SS, MM:SS, D-HH:MM:SS, minutes (90) or seconds (90s)");
  };
  if (text.empty()) throw bad();
  auto number = [&](const std::string& s) {
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) throw bad();
    return std::stol(s);
  };
  long days = 0;
  std::string rest = text;
  long total = 0;
  if (rest.back() == 's' && rest.find(':') == std::string::npos) {
    total = number(rest.substr(0, rest.size() - 1));
  } else {
    if (auto dash = rest.find('-'); dash != std::string::npos) {
      days = number(rest.substr(0, dash));
      rest = rest.substr(dash + 1);
    }
    std::vector<long> parts;
    std::stringstream ss(rest);
    std::string part;
    while (std::getline(ss, part, ':')) parts.push_back(number(part));
    if (rest.empty() || rest.back() == ':') throw bad();
    if (parts.size() == 1) total = days ? parts[0] * 3600 : parts[0] * 60;  // "D-HH" or minutes
    else if (parts.size() == 2) total = days ? parts[0] * 3600 + parts[1] * 60 : parts[0] * 60 + parts[1];
    else if (parts.size() == 3) {
      if (parts[1] > 59 || parts[2] > 59) throw bad();
      total = parts[0] * 3600 + parts[1] * 60 + parts[2];
    } else throw bad();
    total += days * 86400;
  }
  if (total <= 0) throw LaunchError("walltime '" + text + "' is zero: a job needs some time to run");
  return total;
}

std::string job_body(const JobSpec& spec) {
  std::ostringstream s;
  const std::string exit_file = shell_quote(spec.exit_path.string());
  const std::string exit_tmp = shell_quote(spec.exit_path.string() + ".tmp");
  s << "\n# The rest was written by parsl-submit.\nset -u\n"
    << "cd " << shell_quote(spec.work_dir.string()) << " || { echo \"parsl-submit job: cannot cd to "
    << spec.work_dir.string() << "\" >&2; echo 97 > " << exit_tmp << " && mv -f " << exit_tmp << ' ' << exit_file
    << "; exit 97; }\n"
    << "# When the scheduler will end this job: parsl-run drains before it (see --drain).\n"
    << "PARSL_JOB_START=$(date +%s)\n"
    << "export PARSL_JOB_END_TIME=$((PARSL_JOB_START + " << spec.walltime << "))\n"
    << "export PARSL_LAUNCHER=" << shell_quote(spec.launcher) << '\n';
  for (const auto& [k, v] : spec.env) s << "export " << k << '=' << shell_quote(v) << '\n';
  if (!spec.worker_init.empty()) s << "\n# worker-init\n" << spec.worker_init << "\n";
  if (!spec.launch_setup.empty()) s << '\n' << spec.launch_setup;
  s << '\n' << spec.command << "\nrc=$?\n"
    << "echo \"$rc\" > " << exit_tmp << " && mv -f " << exit_tmp << ' ' << exit_file << "\nexit \"$rc\"\n";
  return s.str();
}

JobStatus settle(JobStatus status, const std::filesystem::path& exit_path) {
  std::ifstream in(exit_path);
  long code = 0;
  if (in && (in >> code)) {
    status.exit_code = static_cast<int>(code);
    // The exit file is the job script's last act: its command ran to the end, whatever the
    // scheduler says a moment later (or has not noticed yet).
    status.state = code == 0 ? JobState::completed : JobState::failed;
  }
  return status;
}

std::string Provider::submit(const JobSpec& spec, const std::string& after) {
  const auto argv = submit_command(spec, after);
  std::string input;
  if (submit_reads_stdin()) {
    std::ifstream in(spec.script_path, std::ios::binary);
    if (!in) throw LaunchError("cannot read the job script " + spec.script_path.string());
    input.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string out = run_checked(runner_, argv, timeout_, input);
  return parse_submit(out);
}

std::vector<std::string> provider_names() { return {"local", "slurm", "pbspro", "torque", "cobalt", "lsf"}; }

std::unique_ptr<Provider> make_provider(const std::string& name, CommandRunner& runner, std::chrono::seconds timeout) {
  if (name == "local") return detail::make_local(runner, timeout);
  if (name == "slurm") return detail::make_slurm(runner, timeout);
  if (name == "pbspro") return detail::make_pbspro(runner, timeout);
  if (name == "torque") return detail::make_torque(runner, timeout);
  if (name == "cobalt") return detail::make_cobalt(runner, timeout);
  if (name == "lsf") return detail::make_lsf(runner, timeout);
  std::string known;
  for (const auto& n : provider_names()) known += (known.empty() ? "" : ", ") + n;
  throw LaunchError("unknown provider '" + name + "'; known providers: " + known);
}

namespace detail {

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string w;
  while (ss >> w) out.push_back(w);
  return out;
}

std::optional<long> parse_clock(const std::string& text) {
  // [D-]HH:MM:SS, MM:SS, or a bare number of seconds; anything else (UNLIMITED, INVALID) is unknown.
  if (text.empty()) return std::nullopt;
  long days = 0;
  std::string rest = text;
  if (auto dash = rest.find('-'); dash != std::string::npos) {
    const std::string d = rest.substr(0, dash);
    if (d.empty() || d.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    days = std::stol(d);
    rest = rest.substr(dash + 1);
  }
  long total = 0;
  int parts = 0;
  std::stringstream ss(rest);
  std::string part;
  while (std::getline(ss, part, ':')) {
    if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    total = total * 60 + std::stol(part);
    ++parts;
  }
  if (parts == 0 || parts > 3) return std::nullopt;
  return days * 86400 + total;
}

std::string directives(const JobSpec& spec) {
  std::string s = spec.scheduler_options;
  if (!s.empty() && s.back() != '\n') s += '\n';
  return s;
}

void cancel_jobs(CommandRunner& runner, std::chrono::seconds timeout, const std::string& program,
                 const std::vector<std::string>& ids, std::initializer_list<const char*> gone) {
  if (ids.empty()) return;
  need_ids(ids, "cancel");
  std::vector<std::string> argv = {program};
  argv.insert(argv.end(), ids.begin(), ids.end());
  CommandResult r = runner.run(argv, timeout);
  if (r.exit_code == 0) return;
  if (!r.timed_out && !r.not_found)
    for (const char* g : gone)
      if (r.err.find(g) != std::string::npos) return;
  checked(std::move(r), argv, timeout);
}

void mark_missing(std::map<std::string, JobStatus>& result, const std::vector<std::string>& ids) {
  for (const auto& id : ids)
    if (!result.count(id)) result[id].state = JobState::missing;
}

void need_ids(const std::vector<std::string>& ids, const char* what) {
  for (const auto& id : ids)
    if (id.empty() || id.find_first_of(" \t\n;|&$`'\"\\") != std::string::npos)
      throw LaunchError(std::string("cannot ") + what + " job id '" + id + "': not a job id");
}

}  // namespace detail

}  // namespace parsl::launch
