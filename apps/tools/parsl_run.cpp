// parsl-run: a resumable campaign of shell commands.
//
//   mpirun -np N parsl-run [--help] [--resume] [--retries=R] [--walltime=S] [--max-tasks=N] [--progress=auto|bar|lines|off]
//                          [--parsl-*...] TASKFILE
//
// TASKFILE: one command per line (text), or one JSON object per line (.jsonl/.json):
//   {"id": "fit-3", "command": "./fit 3 > fit3.out", "depends": ["prep"], "retries": 2,
//    "walltime": 600, "inputs": ["data.h5"], "outputs": ["fit3.out"]}
// The whole file is checked before anything runs. Remote inputs (http, https, ftp) are
// fetched into the working directory first; after exit 0 every output must exist (else the
// task fails with MissingOutputs) and remote outputs are uploaded. Each task's stdout and stderr go to
// runinfo/NNN/task_logs/. At the end: a summary, runinfo/NNN/failed_tasks.txt, and exit
// status 1 when any task failed (2 for a bad command line, task file or checkpoint).
// Every run checkpoints finished tasks (HDF5, runinfo/NNN/checkpoint/, written as they
// finish); --resume loads all earlier runs' checkpoints under the run directory and skips
// the tasks found there, also after a kill -9.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>

#include <parsl/parsl.hpp>

#include "campaign.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Cacheable: a finished task's result goes to the run's HDF5 checkpoint, and --resume loads
// those, so a rerun completes finished tasks as memo_done. The task id is an argument so that
// equal commands under different ids stay distinct; the dependencies' values (all 0) are in
// the key too, harmlessly.
inline const auto run_task = parsl::bash_app(
    "parsl_run.task",
    [](const std::string& command, const std::string& /*id*/, const std::vector<int>&) { return command; },
    parsl::AppOptions{.cache = true, .executors = {"mpi"}});

namespace {

struct Options {
  bool resume = false;
  bool monitoring = false;
  int retries = 0;
  double walltime = 0;
  std::string progress = "auto";
  std::size_t max_tasks = parsl::campaign::Limits{}.max_tasks;
  std::string file;
};

bool is_rank0() { return parsl::launcher_rank() <= 0; }

constexpr const char* kUsage =
    "usage: mpirun -np N parsl-run [OPTIONS] [--parsl-...] TASKFILE\n"
    "  TASKFILE        one shell command per line, or JSON lines (.jsonl/.json):\n"
    "                  {\"id\": \"fit-3\", \"command\": \"./fit 3\", \"depends\": [\"prep\"], \"retries\": 2,\n"
    "                   \"walltime\": 600, \"inputs\": [\"data.h5\"], \"outputs\": [\"fit3.out\"]}\n"
    "                  \"cores\", \"gpus\": per rank; \"ranks\": k reserves k ranks for an MPI program\n"
    "                  the command starts with $PARSL_MPI_PREFIX (srun --overlap, mpirun, ...)\n"
    "  --resume        skip the tasks checkpointed by earlier runs under the run directory\n"
    "  --monitoring    write runinfo/NNN/monitoring.db (Parsl's monitoring database, SQLite)\n"
    "  --retries=R     retries per task (0 to 1000; a task's own \"retries\" wins)\n"
    "  --walltime=S    seconds per try, at most a year (a task's own \"walltime\" wins)\n"
    "  --max-tasks=N   refuse a task file of more than N tasks (default 10,000,000)\n"
    "  --progress=auto|bar|lines|off   progress on stderr (auto: a bar on a terminal)\n"
    "  --drain=S       in a batch job (PARSL_JOB_END_TIME set, as parsl-submit does), start no\n"
    "                  task in the last S seconds (sets PARSL_DRAIN); nor one whose walltime\n"
    "                  would run past the job's end\n"
    "  --help          this text; --parsl-help lists the --parsl-* options\n"
    "Exit status: 0 all succeeded, 1 some failed (see runinfo/NNN/failed_tasks.txt), 2 bad\n"
    "command line, task file or checkpoint (nothing ran), 75 the batch job ended before all\n"
    "tasks started (run again with --resume; parsl-submit does).\n";

[[noreturn]] void usage_error(const std::string& what) {
  if (is_rank0()) std::fprintf(stderr, "parsl-run: %s\n%s", what.c_str(), kUsage);
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    const std::string name = a.substr(0, eq), value = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (a.rfind("--parsl-", 0) == 0) continue;
    if (a == "--help" || a == "-h") {
      if (is_rank0()) std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (a == "--resume") {
      o.resume = true;
    } else if (a == "--monitoring") {
      o.monitoring = true;
    } else if (name == "--retries") {
      char* end = nullptr;
      const long r = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end || r < 0 || r > 1000)
        usage_error("bad value in " + parsl::campaign::excerpt(a) + ": expected 0 to 1000");
      o.retries = static_cast<int>(r);
    } else if (name == "--walltime") {
      char* end = nullptr;
      o.walltime = std::strtod(value.c_str(), &end);
      if (value.empty() || *end || !(o.walltime > 0 && o.walltime <= parsl::kMaxWalltime))
        usage_error("bad value in " + parsl::campaign::excerpt(a) + ": expected seconds > 0 and at most " +
                    std::to_string(static_cast<long>(parsl::kMaxWalltime)) + " (a year)");
    } else if (name == "--max-tasks") {
      char* end = nullptr;
      const long long m = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end || m < 1) usage_error("bad value in " + parsl::campaign::excerpt(a) + ": expected a whole number >= 1");
      o.max_tasks = static_cast<std::size_t>(m);
    } else if (name == "--drain") {
      char* end = nullptr;
      const double d = std::strtod(value.c_str(), &end);
      if (value.empty() || *end || !(d >= 0 && d <= parsl::kMaxWalltime))
        usage_error("bad value in " + parsl::campaign::excerpt(a) + ": expected seconds >= 0");
      ::setenv("PARSL_DRAIN", value.c_str(), 1);  // every rank parses the same command line
    } else if (name == "--progress") {
      if (value != "auto" && value != "bar" && value != "lines" && value != "off")
        usage_error("bad value in " + parsl::campaign::excerpt(a) + ": expected auto, bar, lines or off");
      o.progress = value;
    } else if (a.rfind("--", 0) == 0) {
      usage_error("unknown option " + parsl::campaign::excerpt(a));
    } else if (o.file.empty()) {
      o.file = a;
    } else {
      usage_error("more than one task file: " + parsl::campaign::excerpt(o.file) + " and " + parsl::campaign::excerpt(a));
    }
  }
  if (o.file.empty()) usage_error("no task file given");
  return o;
}

// Under mpirun, rank 0's stderr is a pipe to the launcher even when a person watches: then
// ask whether the launcher's own stderr (our parent's fd 2) is a terminal.
bool stderr_is_terminal() {
  if (::isatty(2)) return true;
  std::error_code ec;
  const auto target = fs::read_symlink("/proc/" + std::to_string(::getppid()) + "/fd/2", ec).string();
  return !ec && (target.rfind("/dev/pts/", 0) == 0 || target.rfind("/dev/tty", 0) == 0);
}

std::string fmt_duration(double s) {
  char buf[32];
  if (s < 0 || s > 1e7) return "?";
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, static_cast<int>(s) % 3600 / 60);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (parsl::Config::help_requested(argc, argv)) {
    if (is_rank0()) std::fputs(parsl::Config::options_help().c_str(), stdout);
    return 0;
  }
  const Options opt = parse_args(argc, argv);
  parsl::Config config;
  try {
    config = parsl::Config::from_args(argc, argv);
  } catch (const parsl::Error& e) {
    usage_error(e.what());
  }
  // Only rank 0 reads the task file (at 100,000 ranks, every rank reading it would hammer the
  // file system); the others learn from a broadcast whether to serve tasks or stop.
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  }
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  parsl::campaign::Campaign campaign;
  int parse_status = 0;
  if (rank == 0) {
    std::ifstream in(opt.file);
    std::error_code ec;
    if (fs::is_directory(opt.file, ec)) {
      std::fprintf(stderr, "parsl-run: the task file %s is a folder\n", parsl::campaign::excerpt(opt.file, 200).c_str());
      parse_status = 2;
    } else if (!in) {
      std::fprintf(stderr, "parsl-run: cannot open the task file %s: %s\n", parsl::campaign::excerpt(opt.file, 200).c_str(),
                   std::strerror(errno));
      parse_status = 2;
    } else {
      try {
        parsl::campaign::Limits limits;
        limits.max_tasks = opt.max_tasks;
        campaign = parsl::campaign::parse(in, opt.file, parsl::campaign::format_of(opt.file), limits);
      } catch (const parsl::Error& e) {
        std::fprintf(stderr, "parsl-run: %s\n", e.what());
        parse_status = 2;
      }
    }
  }
  MPI_Bcast(&parse_status, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (parse_status != 0) {
    if (!initialized) MPI_Finalize();
    return parse_status;
  }
  config.executors.push_back(std::make_shared<parsl::MpiExecutor>(parsl::MpiOptions{}));
  config.app_cache = true;
  if (opt.monitoring) config.monitoring = true;
  config.checkpoint_mode = parsl::CheckpointMode::task_exit;
  if (opt.resume) config.checkpoint_files = parsl::get_all_checkpoints(config.run_dir);
  const std::size_t n = campaign.tasks.size();
  std::atomic<std::size_t> checkpointed{0};  // results in segments on disk, this run
  config.on_checkpoint = [&checkpointed](const parsl::CheckpointReport& r) {
    checkpointed.fetch_add(r.task_ids.size());
  };
  bool any_failed = false;
  bool drained = false;
  bool workflow_ran = false;
  int status = parsl::run(argc, argv, config, [&] {
    workflow_ran = true;
    auto& dfk = parsl::DataFlowKernel::current();
    std::mutex out_mutex;
    std::atomic<std::size_t> succeeded{0}, failed{0}, skipped{0}, not_started{0};
    struct Failure {
      std::size_t index;
      int exit_code;
      std::string reason;
    };
    std::vector<Failure> failures;
    std::vector<parsl::AppFuture<int>> futures(n);
    const auto start = Clock::now();

    for (std::size_t i : campaign.order) {
      const auto& t = campaign.tasks[i];
      std::vector<parsl::AppFuture<int>> deps;
      for (std::size_t d : campaign.depends[i]) deps.push_back(futures[d]);
      parsl::BashCallOptions call{parsl::Redirect::automatic(), parsl::Redirect::automatic(), {}, {}, {}, {}, {}};
      for (const auto& in : t.inputs) call.inputs.emplace_back(parsl::File(in));    // remote ones are fetched first
      for (const auto& out : t.outputs) call.outputs.emplace_back(out);            // checked, remote ones uploaded
      const double wt = t.walltime ? *t.walltime : opt.walltime;
      if (wt > 0) call.walltime = std::chrono::duration<double>(wt);
      call.retries = t.retries ? *t.retries : opt.retries;  // this task's own budget
      call.cores = t.cores;
      call.gpus = t.gpus;
      call.ranks = t.ranks;
      try {
        futures[i] = run_task.with(call)(t.command, t.id, deps);
      } catch (const parsl::ConfigError& e) {  // a request this job cannot place: name the task
        throw parsl::ConfigError("task '" + t.id + "' (" + opt.file + ":" + std::to_string(t.line) + "): " + e.what());
      }
      futures[i].add_done_callback([&, i](const parsl::AppFuture<int>& f) {
        std::lock_guard lock(out_mutex);
        if (!f.exception()) {
          (f.state() == parsl::TaskState::memo_done ? skipped : succeeded).fetch_add(1);
          return;
        }
        // Not started because the batch job ends: not a failure; the next job resumes it.
        auto job_ending = [](std::exception_ptr e) {
          try {
            std::rethrow_exception(e);
          } catch (const parsl::JobEnding&) {
            return true;
          } catch (const parsl::DependencyError& d) {
            try {
              if (d.root_cause()) std::rethrow_exception(d.root_cause());
            } catch (const parsl::JobEnding&) {
              return true;
            } catch (...) {
            }
          } catch (...) {
          }
          return false;
        };
        if (job_ending(f.exception())) {
          not_started.fetch_add(1);
          return;
        }
        failed.fetch_add(1);
        int code = -1;
        std::string reason;
        try {
          std::rethrow_exception(f.exception());
        } catch (const parsl::BashExitFailure& e) {
          code = e.exit_code();
          reason = e.what();
        } catch (const parsl::DependencyError& e) {
          reason = std::string("never ran: ") + e.what();
        } catch (const std::exception& e) {
          reason = e.what();
        }
        failures.push_back({i, code, reason});
      });
    }

    // Progress: a bar on a terminal, plain lines otherwise.
    const bool tty = stderr_is_terminal();
    const std::string mode = opt.progress == "auto" ? (tty ? "bar" : "lines") : opt.progress;
    auto report = [&](bool last) {
      const auto c = dfk.task_state_counts();
      const std::size_t ok = succeeded.load(), bad = failed.load(), skip = skipped.load();
      const std::size_t finished = ok + bad + skip;
      // Handed to workers: at rank 0, a short task's start and finish arrive together.
      const long running = static_cast<long>(c[parsl::TaskState::running] + c[parsl::TaskState::launched]);
      const double secs = std::chrono::duration<double>(Clock::now() - start).count();
      const double rate = secs > 0 ? static_cast<double>(ok + bad) / secs : 0;
      const double left = rate > 0 ? static_cast<double>(n - finished) / rate : -1;
      char line[256];
      std::snprintf(line, sizeof line,
                    "%zu/%zu done (%zu checkpointed), %zu failed, %ld running, %.1f tasks/s, %s elapsed, %s left",
                    ok + skip, n, checkpointed.load() + skip, bad, running, rate, fmt_duration(secs).c_str(),
                    last ? "0s" : fmt_duration(left).c_str());
      if (mode == "bar") {
        const int width = 30, filled = static_cast<int>(width * static_cast<double>(finished) / static_cast<double>(n));
        std::fprintf(stderr, "\r[%s%s] %s\033[K%s", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                     std::string(static_cast<std::size_t>(width - filled), '.').c_str(), line, last ? "\n" : "");
      } else if (mode == "lines") {
        std::fprintf(stderr, "parsl-run: %s\n", line);
      }
    };
    std::atomic<bool> finished_all{false};
    std::thread progress([&] {
      auto next_line = Clock::now() + std::chrono::seconds(10);
      while (!finished_all.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (finished_all.load()) break;
        if (mode == "bar") report(false);
        else if (mode == "lines" && Clock::now() >= next_line) {
          report(false);
          next_line = Clock::now() + std::chrono::seconds(10);
        }
      }
    });
    dfk.wait_for_current_tasks();
    try {
      dfk.checkpoint();  // what finished last is on disk before the summary says so
    } catch (const std::exception& e) {
      std::fprintf(stderr, "parsl-run: the last checkpoint failed: %s\n", e.what());
    }
    finished_all = true;
    progress.join();
    if (mode != "off") report(true);

    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    const fs::path failed_file = dfk.run_dir() / "failed_tasks.txt";
    {
      std::ofstream out(failed_file);
      out << "# id\texit_code\tstdout\tstderr\treason\n";
      std::sort(failures.begin(), failures.end(), [](const Failure& a, const Failure& b) { return a.index < b.index; });
      for (const auto& f : failures) {
        const auto& t = campaign.tasks[f.index];
        const std::string run_dir = fs::absolute(dfk.run_dir()).string();
        const auto id = futures[f.index].task_id();
        out << t.id << '\t' << f.exit_code << '\t'
            << parsl::detail::log_path(parsl::Redirect::automatic(), run_dir, id, "parsl_run.task", "stdout") << '\t'
            << parsl::detail::log_path(parsl::Redirect::automatic(), run_dir, id, "parsl_run.task", "stderr") << '\t'
            << f.reason << '\n';
      }
    }
    std::printf("parsl-run: %zu tasks: %zu succeeded, %zu failed, %zu skipped (done in an earlier run), in %s\n", n,
                succeeded.load(), failed.load(), skipped.load(), fmt_duration(secs).c_str());
    if (not_started.load() > 0) {
      std::printf("parsl-run: %zu tasks not started: the batch job is ending (drained); run again with --resume "
                  "to finish the campaign\n", not_started.load());
      drained = true;
    }
    std::printf("parsl-run: %zu results checkpointed in %s (--resume skips them)\n", checkpointed.load(),
                (dfk.run_dir() / "checkpoint").c_str());
    if (failed.load() > 0) {
      std::printf("parsl-run: failed tasks and their logs: %s\n", failed_file.c_str());
      any_failed = true;
    }
  });
  if (!initialized) MPI_Finalize();
  // Only rank 0 knows; its status is the job's (mpirun reports the first non-zero one).
  // On rank 0, a kernel that never started (a damaged or missing checkpoint under --resume)
  // is bad input, as a bad task file is: exit 2, not 1 ("some tasks failed").
  if (status == 1 && !workflow_ran && is_rank0()) return 2;
  return status != 0 ? status : drained ? 75 : any_failed ? 1 : 0;
}
