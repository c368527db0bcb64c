// parsl-submit: runs a campaign as batch jobs (pilot jobs) and follows it to the end.
//
//   parsl-submit [--site NAME] [--provider P] [--launcher L] [--nodes N] [--ranks-per-node R]
//                [--walltime T] [--max-jobs J] [--dry-run] [--detach] ... -- COMMAND [ARGS...]
//   parsl-submit status|follow|cancel [RUNDIR]    (default: the latest run folder)
//   parsl-submit list | sites
//
// It writes the job script into a run folder (submit/NNN/), submits it, shows one live status
// line, and when a job ends before the campaign is done (walltime, node failure, preemption,
// or parsl-run drained: exit 75) it submits the next with --resume, up to --max-jobs.
// Exit status: 0 the campaign finished; 1 its command failed; 2 bad input or a scheduler
// error; 3 gave up (--max-jobs used); 4 cancelled; 5 still running (--detach, or Ctrl-C).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <thread>

#include <parsl/launch/command_runner.hpp>
#include <parsl/launch/launcher.hpp>
#include <parsl/launch/provider.hpp>
#include <parsl/launch/settings.hpp>
#include <parsl/launch/submission.hpp>

namespace fs = std::filesystem;
using namespace parsl::launch;

namespace {

std::atomic<bool> interrupted{false};
void on_sigint(int) { interrupted = true; }

constexpr const char* kUsage = R"(usage:
  parsl-submit [OPTIONS] -- COMMAND [ARGS...]   write the job script, submit it, follow the campaign
  parsl-submit status [RUNDIR]                  the jobs of a submission and how they stand
  parsl-submit follow [RUNDIR]                  follow a submission again (submits the next jobs)
  parsl-submit cancel [RUNDIR]                  cancel its live jobs
  parsl-submit list                             every submission under --submit-dir
  parsl-submit sites                            the machine profiles --site can name
RUNDIR defaults to the latest folder under --submit-dir (./submit).

options (each also a key of a --site profile, the command line winning):
  --site NAME            a machine profile (NAME.conf, see `parsl-submit sites`) or a .conf path
  --dry-run              print the job script and the submit command; submit nothing
  --detach               return after submitting (follow later with `parsl-submit follow`)
)";

double now() { return static_cast<double>(::time(nullptr)); }

int outcome_status(Outcome o) {
  switch (o) {
    case Outcome::done: return 0;
    case Outcome::failed: return 1;
    case Outcome::gave_up: return 3;
    case Outcome::cancelled: return 4;
    case Outcome::running: return 5;
  }
  return 5;
}

struct Parsed {
  std::string verb;  // "", status, follow, cancel, list, sites
  std::string run_dir;
  Settings cli;
  std::string site;
  bool dry_run = false, detach = false, help = false;
  std::vector<std::string> command;
};

Parsed parse(int argc, char** argv) {
  Parsed p;
  int i = 1;
  if (i < argc) {
    const std::string first = argv[i];
    if (first == "status" || first == "follow" || first == "cancel" || first == "list" || first == "sites") {
      p.verb = first;
      ++i;
    }
  }
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) p.command.emplace_back(argv[i]);
      break;
    }
    if (a == "-h" || a == "--help") {
      p.help = true;
      continue;
    }
    if (a == "--dry-run") {
      p.dry_run = true;
      continue;
    }
    if (a == "--detach") {
      p.detach = true;
      continue;
    }
    if (a.rfind("--", 0) == 0) {
      std::string key = a.substr(2), value;
      bool has_value = false;
      if (auto eq = key.find('='); eq != std::string::npos) {
        value = key.substr(eq + 1);
        key = key.substr(0, eq);
        has_value = true;
      }
      if (key == "queue-ahead" && !has_value) {
        p.cli.set(key, "yes", "--queue-ahead");
        continue;
      }
      if (key != "site" && !Settings::known_keys().count(key))
        throw LaunchError("unknown option --" + key + " (see parsl-submit --help)");
      if (!has_value) {
        if (i + 1 >= argc) throw LaunchError("--" + key + " needs a value");
        value = argv[++i];
      }
      if (key == "site") p.site = value;
      else p.cli.set(key, value, "--" + key);
      continue;
    }
    if (!p.verb.empty() && p.verb != "list" && p.verb != "sites" && p.run_dir.empty()) {
      p.run_dir = a;
      continue;
    }
    // The command may also come without "--", from its first word that is not an option.
    for (; i < argc; ++i) p.command.emplace_back(argv[i]);
    break;
  }
  return p;
}

Settings effective(const Parsed& p) {
  Settings s;
  if (!p.site.empty()) s = load_profile(find_site(p.site));
  s.merge(p.cli);
  return s;
}

fs::path submit_dir(const Settings& s) { return s.get("submit-dir", "submit"); }

fs::path pick_run_dir(const Parsed& p, const Settings& s) {
  if (!p.run_dir.empty()) return p.run_dir;
  const auto all = Submission::list(submit_dir(s));
  if (all.empty()) throw LaunchError("no submission under " + submit_dir(s).string() + " (give its run folder)");
  return all.back();
}

std::chrono::seconds cmd_timeout(const Settings& s) { return std::chrono::seconds(s.get_int("cmd-timeout", 60, 1)); }

void print_jobs(const Submission& sub) {
  std::cout << sub.dir().string() << ": " << to_string(sub.outcome());
  if (!sub.why().empty()) std::cout << " (" << sub.why() << ")";
  std::cout << "\n  command: " << shell_join(sub.command()) << '\n';
  for (const auto& j : sub.jobs()) {
    std::cout << "  job " << j.index << "  id " << j.id << "  " << to_string(j.status.state);
    if (!j.status.scheduler_state.empty()) std::cout << " [" << j.status.scheduler_state << "]";
    if (j.status.exit_code) std::cout << "  exit " << *j.status.exit_code;
    if (!j.status.reason.empty()) std::cout << "  (" << j.status.reason << ")";
    if (j.started) std::cout << "  queued " << format_duration(j.started - j.submitted);
    if (j.started) std::cout << "  ran " << format_duration((j.ended ? j.ended : now()) - j.started);
    if (!j.after.empty()) std::cout << "  after " << j.after;
    if (j.cancelled_by_us) std::cout << "  (cancelled by parsl-submit)";
    std::cout << '\n';
  }
}

int follow(Submission& sub, Provider& provider, const Launcher& launcher) {
  Pilot pilot(sub, provider, launcher);
  const int poll = sub.settings().get_int("poll", provider.poll_interval(), 1);
  const bool tty = ::isatty(2);
  std::string last_printed;
  double last_print_time = 0;
  ::signal(SIGINT, on_sigint);
  int failed_polls = 0;
  for (;;) {
    bool finished = false;
    try {
      finished = pilot.step(now());
      failed_polls = 0;
    } catch (const LaunchError& e) {
      // A scheduler that does not answer for a while is not the end of the campaign: the
      // jobs go on. Keep trying; give up only after many polls in a row.
      if (tty) std::cerr << '\n';
      std::cerr << "parsl-submit: poll failed (" << ++failed_polls << " in a row): " << e.what() << '\n';
      if (failed_polls >= 10) {
        std::cerr << "parsl-submit: giving up following; the jobs go on. Follow again with: parsl-submit follow "
                  << sub.dir().string() << '\n';
        return 2;
      }
    }
    const std::string line = pilot.status_line(now());
    // One live line on a terminal; in a log, a line when the state changes and every minute.
    const std::string state_part = line.substr(0, line.find(" · "));
    if (tty) {
      std::cerr << "\r\033[K" << line << std::flush;
    } else if (state_part != last_printed || now() - last_print_time >= 60) {
      std::cerr << line << '\n';
      last_printed = state_part;
      last_print_time = now();
    }
    if (finished) break;
    for (int i = 0; i < poll * 10 && !interrupted; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (interrupted) {
      if (tty) std::cerr << '\n';
      std::cerr << "parsl-submit: stopped following; the jobs go on. Follow again with: parsl-submit follow "
                << sub.dir().string() << "   cancel with: parsl-submit cancel " << sub.dir().string() << '\n';
      return 5;
    }
  }
  if (tty) std::cerr << '\n';
  print_jobs(sub);
  return outcome_status(sub.outcome());
}

int run(int argc, char** argv) {
  Parsed p = parse(argc, argv);
  if (p.help) {
    std::cout << kUsage;
    for (const auto& [k, help] : Settings::known_keys())
      if (k != "description") std::printf("  --%-20s %s\n", k.c_str(), help.c_str());
    return 0;
  }
  Settings s = effective(p);
  SubprocessRunner runner;

  if (p.verb == "sites") {
    for (const auto& [name, path] : list_sites()) {
      std::string desc;
      try {
        desc = load_profile(path).get("description");
      } catch (const LaunchError& e) {
        desc = std::string("(unreadable: ") + e.what() + ")";
      }
      std::printf("%-14s %s\n               %s\n", name.c_str(), desc.c_str(), path.string().c_str());
    }
    return 0;
  }
  if (p.verb == "list") {
    for (const auto& dir : Submission::list(submit_dir(s))) {
      try {
        Submission sub = Submission::open(dir);
        std::cout << dir.string() << "  " << to_string(sub.outcome()) << "  " << sub.jobs().size() << " job(s)";
        if (!sub.jobs().empty())
          std::cout << ", last " << sub.jobs().back().id << " " << to_string(sub.jobs().back().status.state);
        std::cout << "  " << shell_join(sub.command()) << '\n';
      } catch (const LaunchError& e) {
        std::cout << dir.string() << "  " << e.what() << '\n';
      }
    }
    return 0;
  }
  if (p.verb == "status" || p.verb == "follow" || p.verb == "cancel") {
    Submission sub = Submission::open(pick_run_dir(p, s));
    // The recorded settings, with this command line's (e.g. --cmd-timeout, --poll) on top.
    Settings rec = sub.settings();
    rec.merge(p.cli);
    auto provider = make_provider(rec.get("provider", "local"), runner, cmd_timeout(rec));
    auto launcher = make_launcher(rec.get("launcher", "simple"), rec.get("launcher-options"));
    Pilot pilot(sub, *provider, *launcher);
    if (p.verb == "cancel") {
      sub.request_cancel();
      pilot.cancel();
      std::cout << "cancelled " << sub.dir().string() << '\n';
      pilot.step(now());
      print_jobs(sub);
      return 0;
    }
    if (p.verb == "follow") return follow(sub, *provider, *launcher);
    // status: one poll (it may submit a next job, as a follower would)
    pilot.step(now());
    print_jobs(sub);
    return outcome_status(sub.outcome());
  }

  if (p.command.empty()) throw LaunchError("no command to run: parsl-submit [OPTIONS] -- COMMAND [ARGS...]");
  auto provider = make_provider(s.get("provider", "local"), runner, cmd_timeout(s));
  auto launcher = make_launcher(s.get("launcher", "simple"), s.get("launcher-options"));
  s.get_int("max-jobs", 1, 1);  // checked before anything is written
  s.get_bool("queue-ahead", false);
  if (p.dry_run) {
    Submission sub = Submission::preview(submit_dir(s), s, p.command);
    Pilot pilot(sub, *provider, *launcher);
    const JobSpec spec = pilot.spec(1);
    std::cout << provider->script(spec);
    std::cerr << "parsl-submit: dry run; would write " << spec.script_path.string() << " and run: "
              << shell_join(provider->submit_command(spec, {})) << (provider->submit_reads_stdin() ? " < script" : "")
              << '\n';
    return 0;
  }
  Submission sub = Submission::create(submit_dir(s), s, p.command);
  Pilot pilot(sub, *provider, *launcher);
  try {
    const JobRecord& job = pilot.submit(1);
    std::cerr << "parsl-submit: submitted job " << job.id << " (" << provider->name() << ", " << launcher->name()
              << "); run folder " << sub.dir().string() << '\n';
  } catch (const LaunchError& e) {
    sub.set_outcome(Outcome::failed, std::string("submission failed: ") + e.what());
    sub.save();
    throw;
  }
  if (p.detach) {
    std::cout << sub.dir().string() << '\n';
    return 5;
  }
  return follow(sub, *provider, *launcher);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const LaunchError& e) {
    std::cerr << "parsl-submit: error: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "parsl-submit: error: " << e.what() << '\n';
    return 2;
  }
}
