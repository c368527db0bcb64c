#include "parsl/launch/submission.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "parsl/launch/command_runner.hpp"

namespace parsl::launch {

namespace fs = std::filesystem;
using nlohmann::json;

std::string_view to_string(Outcome outcome) noexcept {
  switch (outcome) {
    case Outcome::running: return "running";
    case Outcome::done: return "done";
    case Outcome::failed: return "failed";
    case Outcome::cancelled: return "cancelled";
    case Outcome::gave_up: return "gave up";
  }
  return "running";
}

std::string format_duration(double seconds) {
  long s = seconds < 0 ? 0 : std::lround(seconds);
  char buf[48];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

std::vector<std::string> job_command(const std::vector<std::string>& command, int index,
                                     const std::optional<std::string>& resume_args) {
  if (index <= 1 || command.empty()) return command;
  std::vector<std::string> extra;
  if (resume_args) {
    std::stringstream ss(*resume_args);
    std::string w;
    while (ss >> w) extra.push_back(w);
  } else if (fs::path(command[0]).filename() == "parsl-run") {
    extra.push_back("--resume");
  }
  std::vector<std::string> out = {command[0]};
  for (const auto& e : extra)
    if (std::find(command.begin() + 1, command.end(), e) == command.end()) out.push_back(e);
  out.insert(out.end(), command.begin() + 1, command.end());
  return out;
}

// ---- the record ----

void Submission::set_outcome(Outcome o, std::string why) {
  outcome_ = o;
  why_ = std::move(why);
}

fs::path Submission::script_path(int index) const { return dir_ / ("job-" + std::to_string(index) + ".sh"); }
fs::path Submission::stdout_path(int index) const { return dir_ / ("job-" + std::to_string(index) + ".out"); }
fs::path Submission::stderr_path(int index) const { return dir_ / ("job-" + std::to_string(index) + ".err"); }
fs::path Submission::exit_path(int index) const { return dir_ / ("job-" + std::to_string(index) + ".exit"); }

bool Submission::cancel_requested() const { return fs::exists(dir_ / "cancel-requested"); }
void Submission::request_cancel() const { std::ofstream(dir_ / "cancel-requested") << "parsl-submit cancel\n"; }

Submission Submission::create(const fs::path& base, Settings settings, std::vector<std::string> command) {
  std::error_code ec;
  fs::create_directories(base, ec);
  if (ec) throw LaunchError("cannot create " + base.string() + ": " + ec.message());
  int next = 1;
  for (const auto& d : list(base)) {
    try {
      next = std::max(next, std::stoi(d.filename().string()) + 1);
    } catch (...) {
    }
  }
  Submission s;
  for (;; ++next) {  // create_directory is the claim: two parsl-submits never share a folder
    char name[16];
    std::snprintf(name, sizeof name, "%03d", next);
    if (fs::create_directory(base / name, ec)) {
      s.dir_ = fs::absolute(base / name);
      break;
    }
    if (ec) throw LaunchError("cannot create a run folder in " + base.string() + ": " + ec.message());
  }
  s.settings_ = std::move(settings);
  s.command_ = std::move(command);
  s.created_ = static_cast<double>(::time(nullptr));
  s.work_dir_ = fs::current_path();
  s.save();
  return s;
}

Submission Submission::preview(const fs::path& base, Settings settings, std::vector<std::string> command) {
  int next = 1;
  for (const auto& d : list(base)) {
    try {
      next = std::max(next, std::stoi(d.filename().string()) + 1);
    } catch (...) {
    }
  }
  char name[16];
  std::snprintf(name, sizeof name, "%03d", next);
  Submission s;
  s.dir_ = fs::absolute(base / name);
  s.settings_ = std::move(settings);
  s.command_ = std::move(command);
  s.created_ = static_cast<double>(::time(nullptr));
  s.work_dir_ = fs::current_path();
  return s;
}

void Submission::save() const {
  json j;
  j["version"] = 1;
  j["created"] = created_;
  j["work_dir"] = work_dir_.string();
  j["command"] = command_;
  json settings = json::object();
  for (const auto& [k, v] : settings_.values()) settings[k] = {{"value", v}, {"from", settings_.origin(k)}};
  j["settings"] = settings;
  j["outcome"] = std::string(to_string(outcome_));
  j["why"] = why_;
  json jobs = json::array();
  for (const auto& job : jobs_) {
    json r = {{"index", job.index},
              {"id", job.id},
              {"after", job.after},
              {"state", std::string(to_string(job.status.state))},
              {"scheduler_state", job.status.scheduler_state},
              {"reason", job.status.reason},
              {"submitted", job.submitted},
              {"started", job.started},
              {"ended", job.ended},
              {"cancelled_by_us", job.cancelled_by_us}};
    r["exit_code"] = job.status.exit_code ? json(*job.status.exit_code) : json(nullptr);
    jobs.push_back(r);
  }
  j["jobs"] = jobs;
  const fs::path tmp = dir_ / ("submission.json.tmp" + std::to_string(::getpid()));
  {
    std::ofstream out(tmp);
    out << j.dump(2) << '\n';
    if (!out) throw LaunchError("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, dir_ / "submission.json", ec);
  if (ec) throw LaunchError("cannot write " + (dir_ / "submission.json").string() + ": " + ec.message());
}

Submission Submission::open(const fs::path& dir) {
  const fs::path file = dir / "submission.json";
  std::ifstream in(file);
  if (!in) throw LaunchError(dir.string() + " is not a parsl-submit run folder (no submission.json)");
  Submission s;
  try {
    const json j = json::parse(in);
    if (j.at("version").get<int>() != 1) throw LaunchError("unknown version");
    s.dir_ = fs::absolute(dir);
    s.created_ = j.at("created").get<double>();
    s.work_dir_ = j.at("work_dir").get<std::string>();
    s.command_ = j.at("command").get<std::vector<std::string>>();
    for (const auto& [k, v] : j.at("settings").items())
      s.settings_.set(k, v.at("value").get<std::string>(), v.at("from").get<std::string>());
    const std::string outcome = j.at("outcome").get<std::string>();
    for (Outcome o : {Outcome::running, Outcome::done, Outcome::failed, Outcome::cancelled, Outcome::gave_up})
      if (outcome == to_string(o)) s.outcome_ = o;
    s.why_ = j.at("why").get<std::string>();
    for (const auto& r : j.at("jobs")) {
      JobRecord job;
      job.index = r.at("index").get<int>();
      job.id = r.at("id").get<std::string>();
      job.after = r.at("after").get<std::string>();
      const auto state = job_state_from_string(r.at("state").get<std::string>());
      if (!state) throw LaunchError("unknown job state " + r.at("state").dump());
      job.status.state = *state;
      job.status.scheduler_state = r.at("scheduler_state").get<std::string>();
      job.status.reason = r.at("reason").get<std::string>();
      if (!r.at("exit_code").is_null()) job.status.exit_code = r.at("exit_code").get<int>();
      job.submitted = r.at("submitted").get<double>();
      job.started = r.at("started").get<double>();
      job.ended = r.at("ended").get<double>();
      job.cancelled_by_us = r.at("cancelled_by_us").get<bool>();
      s.jobs_.push_back(job);
    }
  } catch (const std::exception& e) {
    throw LaunchError(file.string() + " is damaged: " + e.what() +
                      " (the job scripts and their .out/.err/.exit files beside it are still there)");
  }
  return s;
}

std::vector<fs::path> Submission::list(const fs::path& base) {
  std::vector<std::pair<long, fs::path>> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(base, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory() || name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (name.size() > 9) continue;
    found.emplace_back(std::stol(name), e.path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  for (auto& [n, p] : found) out.push_back(std::move(p));
  return out;
}

// ---- the pilot ----

Pilot::Pilot(Submission& submission, Provider& provider, const Launcher& launcher)
    : sub_(submission), provider_(provider), launcher_(launcher) {}

JobSpec Pilot::spec(int index) const {
  const Settings& st = sub_.settings();
  JobSpec s;
  s.shape.nodes = st.get_int("nodes", 1, 1);
  s.shape.ranks_per_node = st.get_int("ranks-per-node", 1, 1);
  s.shape.cores_per_rank = st.get_int("cores-per-rank", 1, 1);
  s.shape.gpus_per_rank = st.get_int("gpus-per-rank", 0, 0);
  try {
    s.walltime = parse_walltime(st.get("walltime", "01:00:00"));
  } catch (const LaunchError& e) {
    throw LaunchError(st.origin("walltime") + ": " + e.what());
  }
  s.queue = st.get("partition");
  s.account = st.get("account");
  s.node_features = st.get("node-features");
  s.worker_init = st.get("worker-init");
  std::string opts = st.get("scheduler-options");
  for (std::size_t at; (at = opts.find("\\n")) != std::string::npos;) opts.replace(at, 2, "\n");
  s.scheduler_options = opts;
  s.name = st.get("job-name", "parsl-" + sub_.dir().filename().string());
  s.work_dir = sub_.work_dir();
  s.script_path = sub_.script_path(index);
  s.stdout_path = sub_.stdout_path(index);
  s.stderr_path = sub_.stderr_path(index);
  s.exit_path = sub_.exit_path(index);
  s.env["PARSL_SUBMIT_DIR"] = sub_.dir().string();
  s.env["PARSL_SUBMIT_JOB"] = std::to_string(index);
  // Drain: by default 5% of the walltime, at most 5 minutes.
  const long drain = st.has("drain") ? st.get_int("drain", 0, 0) : std::min<long>(300, s.walltime / 20);
  if (drain >= s.walltime)
    throw LaunchError(st.origin("drain") + ": drain (" + std::to_string(drain) +
                      " s) must be shorter than the walltime (" + std::to_string(s.walltime) + " s)");
  s.env["PARSL_DRAIN"] = std::to_string(drain);
  s.launcher = launcher_.name();
  s.launch_setup = launcher_.setup(s.shape);
  std::optional<std::string> resume;
  if (st.has("resume-args")) resume = st.get("resume-args");
  s.command = launcher_.wrap(shell_join(job_command(sub_.command(), index, resume)), s.shape);
  return s;
}

JobRecord& Pilot::submit(int index, const std::string& after) {
  const JobSpec s = spec(index);
  {
    std::ofstream out(s.script_path);
    out << provider_.script(s);
    if (!out) throw LaunchError("cannot write the job script " + s.script_path.string());
  }
  fs::permissions(s.script_path, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
  std::error_code ec;
  fs::remove(s.exit_path, ec);
  JobRecord job;
  job.index = index;
  job.after = after;
  job.submitted = static_cast<double>(::time(nullptr));
  job.id = provider_.submit(s, after);
  job.status.state = JobState::pending;
  sub_.jobs().push_back(job);
  sub_.save();
  return sub_.jobs().back();
}

bool Pilot::needs_next(const JobRecord& job) const {
  if (job.status.exit_code) return *job.status.exit_code == kExitDrained;
  const JobState s = job.status.state;
  return s == JobState::timeout || s == JobState::failed || s == JobState::missing;
}

void Pilot::job_ended(JobRecord& job) {
  if (sub_.outcome() != Outcome::running || job.cancelled_by_us) return;
  auto cancel_later = [&] {
    std::vector<std::string> ids;
    for (auto& j : sub_.jobs())
      if (j.index > job.index && !is_terminal(j.status.state)) {
        ids.push_back(j.id);
        j.cancelled_by_us = true;
      }
    if (!ids.empty()) provider_.cancel(ids);
  };
  const std::string name = "job " + job.id + " (" + std::to_string(job.index) + ")";
  if (job.status.exit_code && *job.status.exit_code == 0) {
    sub_.set_outcome(Outcome::done, "the campaign finished in " + name);
    cancel_later();
    return;
  }
  if (needs_next(job)) {
    const bool queued = std::any_of(sub_.jobs().begin(), sub_.jobs().end(),
                                    [&](const JobRecord& j) { return j.index > job.index; });
    if (queued) return;  // the job queued ahead takes over
    const int max_jobs = sub_.settings().get_int("max-jobs", 1, 1);
    if (static_cast<int>(sub_.jobs().size()) < max_jobs) {
      submit(static_cast<int>(sub_.jobs().size()) + 1);
      return;
    }
    sub_.set_outcome(Outcome::gave_up, name + " ended (" + std::string(to_string(job.status.state)) +
                                           (job.status.exit_code ? ", drained" : "") +
                                           ") before the campaign finished, and all " + std::to_string(max_jobs) +
                                           " jobs of --max-jobs are used");
    return;
  }
  if (!job.status.exit_code && job.status.state == JobState::cancelled) {
    sub_.set_outcome(Outcome::cancelled, name + " was cancelled outside parsl-submit");
    cancel_later();
    return;
  }
  sub_.set_outcome(Outcome::failed, name + "'s command exited with status " +
                                        (job.status.exit_code ? std::to_string(*job.status.exit_code) : "unknown") +
                                        "; see " + sub_.stderr_path(job.index).string());
  cancel_later();
}

bool Pilot::step(double now) {
  if (sub_.outcome() == Outcome::running && sub_.cancel_requested()) cancel();
  std::vector<std::string> live;
  for (const auto& j : sub_.jobs())
    if (!is_terminal(j.status.state)) live.push_back(j.id);
  if (!live.empty()) {
    const auto statuses = provider_.status(live);
    for (std::size_t i = 0; i < sub_.jobs().size(); ++i) {
      JobRecord& job = sub_.jobs()[i];
      if (is_terminal(job.status.state)) continue;
      auto it = statuses.find(job.id);
      if (it == statuses.end()) continue;
      job.status = settle(it->second, sub_.exit_path(job.index));
      if (!job.started && (job.status.state == JobState::running || is_terminal(job.status.state)) &&
          job.status.state != JobState::cancelled)
        job.started = job.status.elapsed ? now - static_cast<double>(*job.status.elapsed) : now;
      if (is_terminal(job.status.state)) {
        if (!job.ended) job.ended = now;
        job_ended(job);  // may submit the next job: `job` is not used after this
      }
    }
    // Queue the next job behind the running one, so that it waits in the queue meanwhile.
    if (sub_.outcome() == Outcome::running && sub_.settings().get_bool("queue-ahead", false) && !sub_.jobs().empty()) {
      const JobRecord last = sub_.jobs().back();
      const int max_jobs = sub_.settings().get_int("max-jobs", 1, 1);
      if (last.status.state == JobState::running && static_cast<int>(sub_.jobs().size()) < max_jobs)
        submit(last.index + 1, last.id);
    }
  }
  sub_.save();
  const bool any_live = std::any_of(sub_.jobs().begin(), sub_.jobs().end(),
                                    [](const JobRecord& j) { return !is_terminal(j.status.state); });
  return sub_.outcome() != Outcome::running && !any_live;
}

void Pilot::cancel() {
  std::vector<std::string> ids;
  for (auto& j : sub_.jobs())
    if (!is_terminal(j.status.state)) {
      ids.push_back(j.id);
      j.cancelled_by_us = true;
    }
  if (sub_.outcome() == Outcome::running) sub_.set_outcome(Outcome::cancelled, "cancelled with parsl-submit");
  sub_.save();
  if (!ids.empty()) provider_.cancel(ids);
}

std::string Pilot::status_line(double now) const {
  if (sub_.jobs().empty()) return "no job submitted yet";
  const JobRecord* job = &sub_.jobs().back();
  for (const auto& j : sub_.jobs())
    if (!is_terminal(j.status.state)) {
      job = &j;
      break;
    }
  const int max_jobs = sub_.settings().get_int("max-jobs", 1, 1);
  std::ostringstream o;
  o << "job " << job->id << " (" << job->index << " of up to " << max_jobs << "): " << to_string(job->status.state);
  if (!job->status.reason.empty() && !job->status.exit_code) o << " (" << job->status.reason << ")";
  if (job->status.exit_code) o << ", exit " << *job->status.exit_code;
  const double queued_until = job->started ? job->started : (job->ended ? job->ended : now);
  o << " · queued " << format_duration(queued_until - job->submitted);
  if (job->started) {
    const double ran = (job->ended ? job->ended : now) - job->started;
    o << " · ran " << format_duration(ran);
    if (!job->ended) {
      long wall = 3600;
      try {
        wall = parse_walltime(sub_.settings().get("walltime", "01:00:00"));
      } catch (...) {
      }
      o << " · left " << format_duration(static_cast<double>(wall) - ran);
    }
  }
  const std::size_t later = static_cast<std::size_t>(std::count_if(
      sub_.jobs().begin(), sub_.jobs().end(), [&](const JobRecord& j) { return j.index > job->index; }));
  if (later) o << " · next job queued";
  return o.str();
}

}  // namespace parsl::launch
