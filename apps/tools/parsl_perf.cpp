// parsl-perf: how fast does this machine run tasks? Like Parsl's parsl-perf.
//
//   mpirun -np N parsl-perf [--time=SECONDS] [--tasks=N] [--latency=N] [--fan-in=N] [--csv]
//
// Default: batches of no-op tasks, each batch larger, until one takes --time seconds (2);
// prints the submission rate and tasks/s of each batch. --tasks=N runs one batch of N.
// --latency=N: N sequential round trips (submit to get()) of one no-op task; prints the
// median and 99th percentile. --fan-in=N: N no-op tasks and one task that takes all N
// futures. --idle=S: one task, S seconds of nothing, one task (scripts measure idle CPU).
// --mpi-start=N: N sequential MPI tasks of --mpi-ranks=K ranks (default 2) on idle workers;
// prints the median and 99th percentile of submission to the body's start on all K ranks
// (the last one to start) and of the round trip.
// --sleep=S: the batch's tasks take S seconds each. --per-worker=K: one batch of K tasks per
// worker (weak scaling); --tasks=N with --sleep is strong scaling. Both wait until every
// worker is there before the clock starts. Under --parsl-mpi-emulate the tasks are held by
// emulated workers (docs/scaling.md), and rank 0 prints what each level of the tree did.
// --csv prints one machine-readable line per measurement. Kernel options
// (--parsl-*) apply as usual.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include <parsl/mpi_exec/emulation.hpp>
#include <parsl/parsl.hpp>

inline const auto noop = parsl::app("parsl_perf.noop", [](int x) { return x; });
// Returns when the body started on its rank that started last (steady_clock, shared by the
// processes of one machine; on several machines only the round trip means anything).
inline const auto mpi_start = parsl::mpi_app("parsl_perf.mpi_start", [](MPI_Comm comm, int) {
  double t = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(), last = 0;
  MPI_Allreduce(&t, &last, 1, MPI_DOUBLE, MPI_MAX, comm);
  return last;
});
inline const auto count = parsl::app("parsl_perf.count", [](const std::vector<int>& v) {
  return static_cast<int>(v.size());
});
inline const auto sleeper = parsl::app("parsl_perf.sleep", [](double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  return 0;
});

// What emulated workers do instead (--parsl-mpi-emulate): the same values, the declared time.
void declare_emulation() {
  parsl::mpi::emulate_app("parsl_perf.noop", [](std::string_view args) {
    return parsl::mpi::EmulatedTask{0, parsl::serial::encode(std::get<0>(parsl::serial::decode<std::tuple<int>>(args))), {}};
  });
  parsl::mpi::emulate_app("parsl_perf.count", [](std::string_view args) {
    const auto v = std::get<0>(parsl::serial::decode<std::tuple<std::vector<int>>>(args));
    return parsl::mpi::EmulatedTask{0, parsl::serial::encode(static_cast<int>(v.size())), {}};
  });
  parsl::mpi::emulate_app<int, double>("parsl_perf.sleep", [](double seconds) { return seconds; });
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Options {
  double time = 2.0;
  long tasks = 0, latency = 0, fan_in = 0, mpi_start = 0, mpi_ranks = 2;
  double idle = 0, sleep = 0;
  long per_worker = 0;
  bool csv = false, wait_workers = false;
};

long positive(const std::string& arg, const std::string& value) {
  char* end = nullptr;
  const long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || v <= 0) {
    std::fprintf(stderr, "parsl-perf: bad value in %s: expected a positive whole number\n", arg.c_str());
    std::exit(2);
  }
  return v;
}

double positive_seconds(const std::string& arg, const std::string& value) {
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !(v > 0) || v > 86400) {
    std::fprintf(stderr, "parsl-perf: bad value in %s: expected seconds > 0 and at most 86400\n", arg.c_str());
    std::exit(2);
  }
  return v;
}

constexpr const char* kUsage =
    "usage: mpirun -np N parsl-perf [OPTIONS] [--parsl-...]\n"
    "  (no option)     batches of no-op tasks, each larger, until one takes --time seconds\n"
    "  --time=S        seconds the last batch should take (default 2)\n"
    "  --tasks=N       one batch of N no-op tasks\n"
    "  --latency=N     N sequential round trips of one no-op task: median and 99th percentile\n"
    "  --fan-in=N      N no-op tasks and one task that takes all N futures\n"
    "  --mpi-start=N   N sequential MPI tasks of --mpi-ranks=K ranks (default 2): submission to start\n"
    "  --idle=S        one task, S seconds of nothing, one task (for idle CPU measurements)\n"
    "  --sleep=S       tasks of S seconds (with --tasks=N: strong scaling)\n"
    "  --per-worker=K  one batch of K tasks per worker (weak scaling)\n"
    "  --wait-workers  wait until every worker is there before the first batch\n"
    "  --csv           one machine-readable line per measurement\n"
    "  --help          this text; --parsl-help lists the --parsl-* options\n";

bool is_rank0() { return parsl::launcher_rank() <= 0; }

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    const std::string name = a.substr(0, eq), value = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (name.rfind("--parsl-", 0) == 0) continue;
    if (a == "--help" || a == "-h") {
      if (is_rank0()) std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (name == "--time") {
      o.time = positive_seconds(a, value);
    } else if (name == "--tasks") {
      o.tasks = positive(a, value);
    } else if (name == "--latency") {
      o.latency = positive(a, value);
    } else if (name == "--fan-in") {
      o.fan_in = positive(a, value);
    } else if (name == "--mpi-start") {
      o.mpi_start = positive(a, value);
    } else if (name == "--mpi-ranks") {
      o.mpi_ranks = positive(a, value);
    } else if (name == "--idle") {
      o.idle = positive_seconds(a, value);
    } else if (name == "--sleep") {
      o.sleep = positive_seconds(a, value);
    } else if (name == "--per-worker") {
      o.per_worker = positive(a, value);
    } else if (name == "--wait-workers") {
      o.wait_workers = true;
    } else if (name == "--csv") {
      o.csv = true;
    } else {
      if (is_rank0()) std::fprintf(stderr, "parsl-perf: unknown option %s\n%s", a.c_str(), kUsage);
      std::exit(2);
    }
  }
  return o;
}

// One batch: submit n no-op tasks (or tasks of `sleep` seconds), wait for all. Returns
// (submit seconds, total seconds).
std::pair<double, double> batch(long n, double sleep = 0) {
  std::vector<parsl::AppFuture<int>> fs;
  fs.reserve(static_cast<std::size_t>(n));
  const auto t0 = Clock::now();
  for (long i = 0; i < n; ++i) fs.push_back(sleep > 0 ? sleeper(sleep) : noop(static_cast<int>(i)));
  const double submit = seconds_since(t0);
  for (auto& f : fs) f.wait();
  return {submit, seconds_since(t0)};
}

int ranks() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

// The MPI executor's workers, once every one has asked for tasks (0 without one).
long ready_workers() {
  long workers = 0;
  for (const auto& e : parsl::DataFlowKernel::current().config().executors)
    if (auto* m = dynamic_cast<parsl::MpiExecutor*>(e.get())) {
      if (!m->wait_ready(std::chrono::seconds(600))) throw std::runtime_error("the workers did not all start in 600 s");
      for (const auto& n : m->nodes()) workers += n.workers;
    }
  return workers;
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// Rank 0, after an emulated run: what each level of the tree did.
void print_emulation(const parsl::mpi::EmulationSummary& s, bool csv, double seconds) {
  if (csv) {
    std::printf("emulation,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%.1f\n", static_cast<long long>(s.nodes),
                static_cast<long long>(s.workers_per_node), static_cast<long long>(s.workers),
                static_cast<long long>(s.depth), static_cast<long long>(s.tasks_done),
                static_cast<long long>(s.handed_back), static_cast<long long>(s.root_in),
                static_cast<long long>(s.root_out), static_cast<double>(s.root_in + s.root_out) / seconds);
    for (std::size_t r = 0; r < s.cpu.size(); ++r) std::printf("cpu,%zu,%s,%.3f\n", r, s.role[r].c_str(), s.cpu[r]);
    for (int d = 0; d <= s.depth; ++d)
      std::printf("level,%d,%lld,%lld,%lld,%lld,%lld\n", d, static_cast<long long>(s.ranks[d]),
                  static_cast<long long>(s.byes[d]), static_cast<long long>(s.sent[d]),
                  static_cast<long long>(s.bytes[d]), static_cast<long long>(s.over_mpi[d]));
    return;
  }
  std::printf("emulated %lld nodes x %lld workers (%lld workers, depth %lld) on %lld ranks: %lld tasks done, "
              "%lld failed, %lld handed back; rank 0 received %lld and sent %lld messages\n",
              static_cast<long long>(s.nodes), static_cast<long long>(s.workers_per_node),
              static_cast<long long>(s.workers), static_cast<long long>(s.depth), static_cast<long long>(s.real_ranks),
              static_cast<long long>(s.tasks_done), static_cast<long long>(s.tasks_failed),
              static_cast<long long>(s.handed_back), static_cast<long long>(s.root_in),
              static_cast<long long>(s.root_out));
  std::printf("  CPU seconds by real rank:");
  for (std::size_t r = 0; r < s.cpu.size(); ++r) std::printf(" %zu (%s) %.2f;", r, s.role[r].c_str(), s.cpu[r]);
  std::printf("\n  depth  ranks   byes   messages sent      bytes   between real ranks\n");
  for (int d = 0; d <= s.depth; ++d)
    std::printf("  %5d %7lld %7lld %14lld %12lld %12lld\n", d, static_cast<long long>(s.ranks[d]),
                static_cast<long long>(s.byes[d]), static_cast<long long>(s.sent[d]),
                static_cast<long long>(s.bytes[d]), static_cast<long long>(s.over_mpi[d]));
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  declare_emulation();
  const auto run_started = Clock::now();
  const int status = parsl::run(argc, argv, [&] {
    const int np = ranks();
    if (o.per_worker > 0 || o.sleep > 0) {
      // Scaling experiments: every worker there first, then one batch.
      const long workers = std::max(1L, ready_workers());
      const long n = o.per_worker > 0 ? o.per_worker * workers : (o.tasks > 0 ? o.tasks : workers);
      const auto [submit, total] = batch(n, o.sleep);
      if (o.csv)
        std::printf("scaling,%d,%ld,%ld,%.3f,%.6f,%.1f,%ld\n", np, workers, n, o.sleep, total, n / total,
                    peak_rss_kib());
      else
        std::printf("%ld tasks of %.3g s on %ld workers, %d ranks: %.3f s (submitted in %.3f s); %.0f tasks/s; "
                    "rank 0 peak memory %.1f MiB\n",
                    n, o.sleep, workers, np, total, submit, n / total, peak_rss_kib() / 1024.0);
      std::fflush(stdout);
      return;
    }
    if (o.idle > 0) {
      // Every rank connected and served a task, then nothing to do: for measuring idle CPU.
      noop(0).get();
      std::this_thread::sleep_for(std::chrono::duration<double>(o.idle));
      noop(1).get();
      return;
    }
    if (o.latency > 0) {
      noop(0).get();  // warm-up: workers connected
      std::vector<double> us;
      for (long i = 0; i < o.latency; ++i) {
        const auto t0 = Clock::now();
        noop(static_cast<int>(i)).get();
        us.push_back(seconds_since(t0) * 1e6);
      }
      std::sort(us.begin(), us.end());
      const double p50 = us[us.size() / 2], p99 = us[us.size() * 99 / 100];
      if (o.csv)
        std::printf("latency,%d,%ld,%.2f,%.2f\n", np, o.latency, p50, p99);
      else
        std::printf("round trip of one no-op task, %d ranks, %ld samples: median %.1f us, p99 %.1f us\n", np,
                    o.latency, p50, p99);
      return;
    }
    if (o.mpi_start > 0) {
      const int k = static_cast<int>(o.mpi_ranks);
      mpi_start.with({.ranks = k})(0).get();  // warm-up
      std::vector<double> start_us, trip_us;
      for (long i = 0; i < o.mpi_start; ++i) {
        const auto t0 = Clock::now();
        const double started = mpi_start.with({.ranks = k})(static_cast<int>(i)).get();
        trip_us.push_back(seconds_since(t0) * 1e6);
        start_us.push_back((started - std::chrono::duration<double>(t0.time_since_epoch()).count()) * 1e6);
      }
      std::sort(start_us.begin(), start_us.end());
      std::sort(trip_us.begin(), trip_us.end());
      auto at = [](const std::vector<double>& v, double q) { return v[static_cast<std::size_t>(q * (v.size() - 1))]; };
      if (o.csv)
        std::printf("mpi_start,%d,%d,%ld,%.2f,%.2f,%.2f,%.2f\n", np, k, o.mpi_start, at(start_us, 0.5),
                    at(start_us, 0.99), at(trip_us, 0.5), at(trip_us, 0.99));
      else
        std::printf("MPI task of %d ranks, %d ranks in the job, %ld samples: submission to start median %.1f us, "
                    "p99 %.1f us; round trip median %.1f us, p99 %.1f us\n",
                    k, np, o.mpi_start, at(start_us, 0.5), at(start_us, 0.99), at(trip_us, 0.5), at(trip_us, 0.99));
      return;
    }
    if (o.fan_in > 0) {
      const auto t0 = Clock::now();
      std::vector<parsl::AppFuture<int>> fs;
      for (long i = 0; i < o.fan_in; ++i) fs.push_back(noop(static_cast<int>(i)));
      const int got = count(fs).get();
      const double s = seconds_since(t0);
      if (got != o.fan_in) throw std::runtime_error("fan-in saw " + std::to_string(got) + " inputs");
      if (o.csv)
        std::printf("fanin,%d,%ld,%.6f,%.1f\n", np, o.fan_in, s, static_cast<double>(o.fan_in + 1) / s);
      else
        std::printf("fan-out/fan-in of %ld no-op tasks, %d ranks: %.3f s, %.0f tasks/s\n", o.fan_in, np, s,
                    static_cast<double>(o.fan_in + 1) / s);
      return;
    }
    long n = o.tasks > 0 ? o.tasks : 100;
    if (o.wait_workers) ready_workers();
    batch(std::min(n, 1000L));  // warm-up
    for (;;) {
      const auto [submit, total] = batch(n);
      if (o.csv)
        std::printf("throughput,%d,%ld,%.6f,%.1f,%.1f\n", np, n, total, n / submit, n / total);
      else
        std::printf("%ld tasks, %d ranks: %.3f s; submission rate %.0f tasks/s; %.0f tasks/s\n", n, np, total,
                    n / submit, n / total);
      std::fflush(stdout);
      if (o.tasks > 0 || total >= o.time) {
        if (o.csv) std::printf("rss,%ld\n", peak_rss_kib());
        break;
      }
      n = static_cast<long>(static_cast<double>(n) * std::clamp(o.time / std::max(total, 1e-3), 2.0, 10.0));
    }
  });
  if (auto s = parsl::mpi::last_emulation(); s && status == 0 && is_rank0())
    print_emulation(*s, o.csv, seconds_since(run_started));
  return status;
}
