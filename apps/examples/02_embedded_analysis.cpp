// Embedding parsl-mpi in an existing MPI simulation.
//
// The first half of the ranks run a toy simulation (1-D heat diffusion, halo exchange and
// an energy Allreduce every step). The other ranks are analysis workers. World rank 0 is
// both a simulation rank and the host of the DataFlowKernel: it gathers a snapshot every few
// steps and submits an analysis task for it, without waiting, while the simulation goes on.
//
//   mpirun -np 4 ./02_embedded_analysis [--steps=200] [--every=40]
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include <parsl/parsl.hpp>

struct Stats {
  int step = 0;
  double mean = 0, max = 0, variance = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(step, mean, max, variance);
  }
};

inline const auto analyse = parsl::app("embedded.analyse", [](int step, const std::vector<double>& field) {
  Stats s;
  s.step = step;
  s.mean = std::accumulate(field.begin(), field.end(), 0.0) / static_cast<double>(field.size());
  for (double v : field) {
    s.max = std::max(s.max, v);
    s.variance += (v - s.mean) * (v - s.mean);
  }
  s.variance /= static_cast<double>(field.size());
  return s;
});

namespace {

constexpr int kCells = 4096;  // per simulation rank

// One simulation rank's loop. `on_snapshot` (rank 0 of the simulation only) gets the whole
// field every `every` steps.
void simulate(MPI_Comm sim, int steps, int every, const std::function<void(int, std::vector<double>)>& on_snapshot) {
  int rank = 0, size = 0;
  MPI_Comm_rank(sim, &rank);
  MPI_Comm_size(sim, &size);
  std::vector<double> u(kCells + 2, 0.0), next(kCells + 2, 0.0);
  if (rank == 0) u[1] = 1000.0;  // a hot spot at the left end
  const int left = rank > 0 ? rank - 1 : MPI_PROC_NULL, right = rank + 1 < size ? rank + 1 : MPI_PROC_NULL;
  for (int step = 1; step <= steps; ++step) {
    MPI_Sendrecv(&u[1], 1, MPI_DOUBLE, left, 0, &u[kCells + 1], 1, MPI_DOUBLE, right, 0, sim, MPI_STATUS_IGNORE);
    MPI_Sendrecv(&u[kCells], 1, MPI_DOUBLE, right, 1, &u[0], 1, MPI_DOUBLE, left, 1, sim, MPI_STATUS_IGNORE);
    for (int i = 1; i <= kCells; ++i) next[static_cast<std::size_t>(i)] = u[static_cast<std::size_t>(i)] + 0.25 * (u[static_cast<std::size_t>(i - 1)] - 2 * u[static_cast<std::size_t>(i)] + u[static_cast<std::size_t>(i + 1)]);
    std::swap(u, next);
    double local = std::accumulate(u.begin() + 1, u.end() - 1, 0.0), energy = 0;
    MPI_Allreduce(&local, &energy, 1, MPI_DOUBLE, MPI_SUM, sim);
    if (step % every == 0) {
      std::vector<double> field(rank == 0 ? static_cast<std::size_t>(kCells * size) : 0);
      MPI_Gather(&u[1], kCells, MPI_DOUBLE, field.data(), kCells, MPI_DOUBLE, 0, sim);
      if (rank == 0) on_snapshot(step, std::move(field));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int world_rank = 0, world_size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  int steps = 200, every = 40;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--steps=", 0) == 0) steps = std::atoi(a.c_str() + 8);
    if (a.rfind("--every=", 0) == 0) every = std::atoi(a.c_str() + 8);
  }
  if (world_size < 3 || provided < MPI_THREAD_MULTIPLE || steps <= 0 || every <= 0) {
    if (world_rank == 0)
      std::fprintf(stderr, "%s\n", world_size < 3 ? "run with at least 3 ranks (mpirun -np 4 ...)"
                                   : provided < MPI_THREAD_MULTIPLE ? "this MPI does not provide MPI_THREAD_MULTIPLE"
                                                                    : "--steps and --every must be positive");
    MPI_Finalize();
    return 2;
  }
  const int sim_ranks = world_size / 2;
  const bool in_sim = world_rank < sim_ranks;
  const bool in_exec = world_rank == 0 || !in_sim;  // kernel host plus the analysis ranks
  MPI_Comm sim, exec;
  MPI_Comm_split(MPI_COMM_WORLD, in_sim ? 0 : MPI_UNDEFINED, world_rank, &sim);
  MPI_Comm_split(MPI_COMM_WORLD, in_exec ? 0 : MPI_UNDEFINED, world_rank, &exec);

  int status = 0;
  if (world_rank == 0) {
    // The workflow thread runs the simulation and submits analyses; this thread drives the
    // executor's MPI traffic meanwhile.
    status = parsl::run(exec, parsl::Config::from_args(argc, argv), [&] {
      std::vector<parsl::AppFuture<Stats>> analyses;
      simulate(sim, steps, every, [&](int step, std::vector<double> field) {
        analyses.push_back(analyse(step, std::move(field)));  // returns at once
      });
      for (auto& f : analyses) {
        const Stats& s = f.get();
        std::printf("step %4d: mean %.6f  max %.3f  variance %.6f\n", s.step, s.mean, s.max, s.variance);
      }
      std::printf("analysed %zu snapshots on %d analysis ranks while %d ranks simulated\n", analyses.size(),
                  world_size - sim_ranks, sim_ranks);
    });
  } else if (in_exec) {
    status = parsl::run(exec, parsl::Config::from_args(argc, argv), [] {});
  } else {
    simulate(sim, steps, every, {});
  }
  if (sim != MPI_COMM_NULL) MPI_Comm_free(&sim);
  if (exec != MPI_COMM_NULL) MPI_Comm_free(&exec);
  MPI_Finalize();
  return status;
}
