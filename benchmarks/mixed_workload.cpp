// mixed_workload: makespan of a mix of task lengths against its lower bound.
//
//   mpirun -np N mixed_workload --mix=NAME [--seed=S] [--durations-out=FILE] [--csv]
//
// Mixes (task bodies sleep, so oversubscribed ranks do not compete for the cores):
//   noop-then-long  2,000 no-op tasks, and right behind them 48 tasks of 1 s; the makespan
//                   is the long phase's (from its first submission), its bound
//                   ceil(48 / workers) s.
//   uniform         400 tasks of uniformly random 0-0.5 s.
//   heavy-tail      400 tasks of Pareto-distributed length (shape 1.5, 20 ms minimum,
//                   capped at 4 s): most short, a few long.
// The bound of the last two is max(total work / workers, longest task). --durations-out
// writes the mix's durations (one per line, in submission order) so that other tools can
// run the very same mix (benchmarks/mixed_vs_peers.sh). Prints the makespan, the bound,
// their ratio, and how many long (>= 0.5 s) tasks each worker ran.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <parsl/parsl.hpp>

inline const auto noop = parsl::app("mixed.noop", [](int x) { return x; });
// Sleeps `seconds` and returns the rank that ran it.
inline const auto nap = parsl::app("mixed.nap", [](double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const char* r = std::getenv("PARSL_WORKER_RANK");
  return r ? std::atoi(r) : 0;
});

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mix;
  unsigned seed = 1;
  std::string durations_out;
  bool csv = false;
};

[[noreturn]] void usage(const char* why) {
  if (parsl::launcher_rank() <= 0)
    std::fprintf(stderr,
                 "mixed_workload: %s\nusage: mpirun -np N mixed_workload --mix=noop-then-long|uniform|heavy-tail "
                 "[--seed=S] [--durations-out=FILE] [--csv]\n",
                 why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    const std::string name = a.substr(0, eq), value = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (name.rfind("--parsl-", 0) == 0) continue;
    if (name == "--mix")
      o.mix = value;
    else if (name == "--seed")
      o.seed = static_cast<unsigned>(std::strtoul(value.c_str(), nullptr, 10));
    else if (name == "--durations-out")
      o.durations_out = value;
    else if (a == "--csv")
      o.csv = true;
    else
      usage(("unknown option " + a).c_str());
  }
  if (o.mix != "noop-then-long" && o.mix != "uniform" && o.mix != "heavy-tail") usage("--mix is required");
  return o;
}

std::vector<double> durations(const Options& o) {
  std::mt19937_64 rng(o.seed);
  std::vector<double> d;
  if (o.mix == "noop-then-long") return std::vector<double>(48, 1.0);
  if (o.mix == "uniform") {
    std::uniform_real_distribution<double> u(0.0, 0.5);
    for (int i = 0; i < 400; ++i) d.push_back(u(rng));
  } else {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (int i = 0; i < 400; ++i) d.push_back(std::min(4.0, 0.02 / std::pow(1.0 - u(rng), 1.0 / 1.5)));
  }
  return d;
}

int ranks() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  return parsl::run(argc, argv, [&] {
    const int workers = std::max(1, ranks() - 1);
    const std::vector<double> d = durations(o);
    if (!o.durations_out.empty()) {
      std::ofstream out(o.durations_out);
      for (double s : d) out << s << "\n";
    }
    std::vector<parsl::AppFuture<int>> warm;
    if (o.mix == "noop-then-long")
      for (int i = 0; i < 2000; ++i) warm.push_back(noop(i));  // not waited for: the long tasks follow at once
    const auto t0 = Clock::now();
    std::vector<parsl::AppFuture<int>> fs;
    for (double s : d) fs.push_back(nap(s));
    std::map<int, int> long_per_worker;
    for (std::size_t i = 0; i < fs.size(); ++i) {
      const int rank = fs[i].get();
      if (d[i] >= 0.5) ++long_per_worker[rank];
    }
    const double makespan = std::chrono::duration<double>(Clock::now() - t0).count();
    double total = 0, longest = 0;
    for (double s : d) {
      total += s;
      longest = std::max(longest, s);
    }
    const double bound = o.mix == "noop-then-long"
                             ? std::ceil(static_cast<double>(d.size()) / workers) * d[0]
                             : std::max(total / workers, longest);
    std::string spread;
    for (const auto& [rank, n] : long_per_worker) spread += (spread.empty() ? "" : " ") + std::to_string(rank) + ":" + std::to_string(n);
    if (o.csv)
      std::printf("%s,%d,%zu,%.3f,%.3f,%.4f\n", o.mix.c_str(), workers, d.size(), makespan, bound, makespan / bound);
    else
      std::printf("mix %s: %zu tasks on %d workers: makespan %.3f s, bound %.3f s, ratio %.3f\n"
                  "long tasks per worker rank: %s\n",
                  o.mix.c_str(), d.size(), workers, makespan, bound, makespan / bound, spread.c_str());
  });
}
