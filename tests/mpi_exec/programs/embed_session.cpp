// A toy simulation that keeps its own main loop and hands snapshots to a parsl::Session.
//   embed_session SCENARIO abort|return [parsl options]
// World ranks 0 .. N/2-1 simulate (a 1-D diffusion with an Allreduce every step); world rank
// 0 also submits, and the other half of the ranks serve the analysis tasks.
// Scenarios:
//   loop    every 5th step's snapshot is analysed (each analysis takes 100 ms) while the loop
//           goes on; the results must match the simulation's own sums, and the loop must
//           have made steps while analyses ran. Exit 0 on every rank when all holds.
//   throw   the simulation stops at step 30 on every rank, and rank 0's loop throws with
//           analyses in flight, leaving the session's scope before finish(): with `return`,
//           finish() gives 1 on every other rank of the session (rank 0 catches the
//           exception); with `abort`, the job ends.
//   funneled  MPI initialized with MPI_THREAD_FUNNELED: the session needs MULTIPLE at rank 0.
//   twice   two sessions one after the other in one program (also with one rank, where the
//           tasks run on a local thread pool); each computes its sums.
//   pin     run under a launcher that binds each rank (mpirun --bind-to core): tasks report
//           the cores their worker may use, which must lie inside what the launcher gave
//           that rank (pinning on: --parsl-mpi-pin=true), or be exactly that (the default:
//           pinning off when embedded).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sched.h>

#include <parsl/parsl.hpp>

inline const auto total = parsl::app("embed_session.total", [](int step, const std::vector<double>& field) {
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return std::make_pair(step, std::accumulate(field.begin(), field.end(), 0.0));
});

namespace {

// The CPUs the calling thread may run on, as "0,1".
std::string affinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  std::string out;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) out += (out.empty() ? "" : ",") + std::to_string(c);
  return out;
}

}  // namespace

inline const auto where = parsl::app("embed_session.where", [](int) {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const char* world = std::getenv("PARSL_WORLD_RANK");
  return std::make_pair(world ? std::atoi(world) : -1, affinity());
});

namespace {

constexpr int kCells = 1000;  // per simulation rank
constexpr int kSteps = 60;

struct Check {
  int bad = 0;
  void expect(bool ok, const std::string& what) {
    if (!ok) {
      ++bad;
      std::fprintf(stderr, "embed_session: FAILED: %s\n", what.c_str());
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: embed_session loop|throw|funneled|pin|twice abort|return [parsl options]\n");
    return 2;
  }
  const std::string scenario = argv[1];
  const auto on_failure = std::strcmp(argv[2], "abort") == 0 ? parsl::OnFailure::abort_job : parsl::OnFailure::return_error;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, scenario == "funneled" ? MPI_THREAD_FUNNELED : MPI_THREAD_MULTIPLE, &provided);
  int world_rank = 0, world_size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  const int sim_ranks = world_size / 2;
  const bool in_sim = world_rank < sim_ranks, in_exec = world_rank == 0 || !in_sim;
  MPI_Comm sim, exec;
  MPI_Comm_split(MPI_COMM_WORLD, in_sim ? 0 : MPI_UNDEFINED, world_rank, &sim);
  MPI_Comm_split(MPI_COMM_WORLD, in_exec ? 0 : MPI_UNDEFINED, world_rank, &exec);
  Check check;
  int status = 0;

  auto simulate = [&](parsl::Session* session) {
    int rank = 0;
    MPI_Comm_rank(sim, &rank);
    std::vector<double> u(kCells, 1.0 + world_rank);
    std::vector<parsl::AppFuture<std::pair<int, double>>> analyses;
    std::vector<double> expected;
    int steps_while_running = 0;
    for (int step = 1; step <= kSteps; ++step) {
      for (double& v : u) v *= 1.001;
      double local = std::accumulate(u.begin(), u.end(), 0.0), sum = 0;
      MPI_Allreduce(&local, &sum, 1, MPI_DOUBLE, MPI_SUM, sim);  // the host code's own MPI
      if (step % 5 == 0) {
        std::vector<double> field(rank == 0 ? static_cast<std::size_t>(kCells * sim_ranks) : 0);
        MPI_Gather(u.data(), kCells, MPI_DOUBLE, field.data(), kCells, MPI_DOUBLE, 0, sim);
        if (session) {
          analyses.push_back(total(step, std::move(field)));
          expected.push_back(sum);
        }
      }
      if (session && !analyses.empty() && !analyses.back().done()) ++steps_while_running;
      if (scenario == "throw" && step == 30) {  // found by every simulation rank (the Allreduce)
        if (session) throw std::runtime_error("the simulation blew up");
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!session) return;
    for (std::size_t i = 0; i < analyses.size(); ++i) {
      const auto [step, got] = analyses[i].get();
      check.expect(step == 5 * static_cast<int>(i + 1), "analysis " + std::to_string(i) + " is of its step");
      check.expect(std::abs(got - expected[i]) <= 1e-9 * std::abs(expected[i]),
                   "analysis of step " + std::to_string(step) + ": " + std::to_string(got) + " against " +
                       std::to_string(expected[i]));
    }
    check.expect(analyses.size() == kSteps / 5, "every snapshot analysed");
    check.expect(steps_while_running > 0, "the loop went on while analyses ran");
    std::printf("rank 0: %zu analyses matched; %d steps made while analyses were running\n", analyses.size(),
                steps_while_running);
  };

  // Every rank's CPUs as its launcher bound it, before parsl-mpi starts, at world rank 0.
  const std::string launched = affinity();
  std::vector<char> all(world_rank == 0 ? static_cast<std::size_t>(64 * world_size) : 0);
  char mine[64] = {};
  std::snprintf(mine, sizeof mine, "%s", launched.c_str());
  MPI_Gather(mine, 64, MPI_CHAR, all.data(), 64, MPI_CHAR, 0, MPI_COMM_WORLD);
  auto check_pinning = [&] {
    bool pinning = false;
    for (int i = 3; i < argc; ++i) pinning = pinning || std::string(argv[i]) == "--parsl-mpi-pin=true";
    std::vector<parsl::AppFuture<std::pair<int, std::string>>> fs;
    for (int i = 0; i < 40; ++i) fs.push_back(where(i));
    std::set<int> workers;
    for (auto& f : fs) {
      const auto [rank, cpus] = f.get();
      check.expect(rank > 0 && rank < world_size, "PARSL_WORLD_RANK names a world rank: " + std::to_string(rank));
      if (rank <= 0 || rank >= world_size) continue;
      workers.insert(rank);
      const std::string given = &all[static_cast<std::size_t>(64 * rank)];
      std::set<std::string> allowed;
      for (std::size_t a = 0; a <= given.size();) {
        const std::size_t b = std::min(given.find(',', a), given.size());
        allowed.insert(given.substr(a, b - a));
        a = b + 1;
      }
      bool inside = !cpus.empty();
      for (std::size_t a = 0; a <= cpus.size() && inside;) {
        const std::size_t b = std::min(cpus.find(',', a), cpus.size());
        inside = allowed.count(cpus.substr(a, b - a)) > 0;
        a = b + 1;
      }
      check.expect(pinning ? inside : cpus == given, "world rank " + std::to_string(rank) + " runs on " + cpus +
                                                         ", its launcher gave it " + given);
    }
    std::printf("rank 0: %zu workers ran tasks, each on CPUs %s its launcher's binding\n", workers.size(),
                pinning ? "inside" : "equal to");
  };

  if (scenario == "twice") {
    int sum = 0;
    for (int round = 0; round < 2 && in_exec; ++round) {
      parsl::Session session(exec, parsl::Config::from_args(argc - 2, argv + 2), on_failure);
      if (session.submits()) {
        std::vector<parsl::AppFuture<std::pair<int, double>>> fs;
        for (int i = 0; i < 10; ++i) fs.push_back(total(i, std::vector<double>(3, i)));
        for (auto& f : fs) sum += static_cast<int>(f.get().second);
      }
      const int st = session.finish();
      check.expect(st == 0, "session " + std::to_string(round) + " finished with " + std::to_string(st) + ": " +
                                session.error());
    }
    if (world_rank == 0) {
      check.expect(sum == 270, "the two sessions' sums: " + std::to_string(sum));
      std::printf("two sessions in a row: sum %d\n", sum);
    }
  } else if (in_exec) {
    try {
      parsl::Session session(exec, parsl::Config::from_args(argc - 2, argv + 2), on_failure);
      if (session.submits() && scenario == "pin") check_pinning();
      if (session.submits() && scenario != "pin") simulate(&session);  // the others served tasks until here
      status = session.finish();
      if (scenario == "throw" && session.error().find("an exception left the scope") == std::string::npos) {
        std::printf("rank %d: finish() gave no reason: '%s'\n", world_rank, session.error().c_str());
        check.expect(false, "every rank has the failure's text");
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "rank %d: caught: %s\n", world_rank, e.what());
      status = scenario == "throw" ? 1 : -1;
    }
    std::printf("rank %d: finish() returned %d\n", world_rank, status);
  } else if (scenario != "funneled" && scenario != "pin" && scenario != "twice") {  // rank 0 does not simulate
    simulate(nullptr);
  }
  std::fflush(stdout);
  if (sim != MPI_COMM_NULL) MPI_Comm_free(&sim);
  if (exec != MPI_COMM_NULL) MPI_Comm_free(&exec);
  MPI_Finalize();
  if (!in_exec) return 0;
  const int expected = scenario == "loop" || scenario == "pin" || scenario == "twice" ? 0 : scenario == "throw" ? 1 : 2;
  return status == expected && check.bad == 0 ? 0 : 1;
}
