// LAMMPS (Debian's liblammps, through its C library API) with parsl-mpi beside it.
//
// The first half of the ranks run a Lennard-Jones melt in LAMMPS on their own communicator.
// The other half are analysis workers. World rank 0 is a LAMMPS rank and also the rank
// that submits: it opens a parsl::Session, which returns at once, and keeps driving LAMMPS.
// Every --every steps it gathers the atoms' velocities (a snapshot of 3 x N doubles) and
// hands them to an analysis app without waiting; the simulation goes on while the workers
// compute the kinetic temperature. At the end each analysis is compared with the
// temperature LAMMPS itself reported for that step.
//
//   mpirun -np 4 ./04_lammps_analysis [--cells=30] [--steps=100] [--every=20]
//   (--cells=30: 108,000 atoms; the default 10: 4,000)
#include <mpi.h>

#define LAMMPS_LIB_MPI  // lammps_open on a communicator of ours
#include <lammps/library.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <parsl/parsl.hpp>

// The kinetic temperature of atoms of mass 1 in LJ units, as LAMMPS's `compute temp` defines
// it: sum of m v^2 over (3N - 3) degrees of freedom.
inline const auto temperature = parsl::app("lammps.temperature", [](int step, const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x * x;
  const double atoms = static_cast<double>(v.size() / 3);
  return std::make_pair(step, sum / (3 * atoms - 3));
});

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int world_rank = 0, world_size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  int cells = 10, steps = 100, every = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--cells=", 0) == 0) cells = std::atoi(a.c_str() + 8);
    if (a.rfind("--steps=", 0) == 0) steps = std::atoi(a.c_str() + 8);
    if (a.rfind("--every=", 0) == 0) every = std::atoi(a.c_str() + 8);
  }
  if (world_size < 3 || cells <= 0 || steps <= 0 || every <= 0) {
    if (world_rank == 0)
      std::fprintf(stderr, "%s\n", world_size < 3 ? "run with at least 3 ranks (mpirun -np 4 ...)"
                                                  : "--cells, --steps and --every must be positive");
    MPI_Finalize();
    return 2;
  }
  const int sim_ranks = world_size / 2;
  const bool in_sim = world_rank < sim_ranks, in_exec = world_rank == 0 || !in_sim;
  MPI_Comm sim, exec;
  MPI_Comm_split(MPI_COMM_WORLD, in_sim ? 0 : MPI_UNDEFINED, world_rank, &sim);
  MPI_Comm_split(MPI_COMM_WORLD, in_exec ? 0 : MPI_UNDEFINED, world_rank, &exec);

  int status = 0;
  {
    // Every rank of `exec` starts the session; on rank 0 it returns at once, on the
    // analysis ranks it serves tasks until rank 0 finishes it.
    std::optional<parsl::Session> session;
    if (in_exec) session.emplace(exec, parsl::Config::from_args(argc, argv));
    if (in_sim) {
      const char* args[] = {"lammps", "-log", "none", "-screen", "none", "-nocite"};
      void* lmp = lammps_open(6, const_cast<char**>(args), sim, nullptr);
      const std::string n = std::to_string(cells);
      lammps_commands_string(lmp, ("units lj\natom_style atomic\nlattice fcc 0.8442\n"
                                   "region box block 0 " + n + " 0 " + n + " 0 " + n + "\n"
                                   "create_box 1 box\ncreate_atoms 1 box\nmass 1 1.0\n"
                                   "velocity all create 3.0 87287 loop geom\npair_style lj/cut 2.5\n"
                                   "pair_coeff 1 1 1.0 1.0 2.5\nneighbor 0.3 bin\nfix 1 all nve\n"
                                   "thermo_style custom step temp pe\n").c_str());
      const int atoms = static_cast<int>(lammps_get_natoms(lmp));
      std::vector<parsl::AppFuture<std::pair<int, double>>> analyses;
      std::vector<double> reported;  // LAMMPS's own temperature at each snapshot
      std::vector<double> v(3 * static_cast<std::size_t>(atoms));
      for (int step = every; step <= steps; step += every) {
        lammps_command(lmp, ("run " + std::to_string(every) + " post no").c_str());
        lammps_gather_atoms(lmp, const_cast<char*>("v"), 1, 3, v.data());  // collective over `sim`
        if (world_rank == 0) {
          reported.push_back(lammps_get_thermo(lmp, "temp"));
          analyses.push_back(temperature(step, v));  // returns at once; LAMMPS goes on
        }
      }
      lammps_close(lmp);
      if (world_rank == 0) {
        double worst = 0;
        for (std::size_t i = 0; i < analyses.size(); ++i) {
          const auto [step, t] = analyses[i].get();
          const double rel = std::abs(t - reported[i]) / reported[i];
          worst = std::max(worst, rel);
          std::printf("step %5d: temperature %.12f (LAMMPS %.12f)\n", step, t, reported[i]);
        }
        std::printf("%zu snapshots of %d atoms analysed on %d ranks while LAMMPS ran on %d; largest relative "
                    "difference from LAMMPS %.1e\n",
                    analyses.size(), atoms, world_size - sim_ranks, sim_ranks, worst);
        if (worst > 1e-12) status = 1;
      }
    }
    if (session) {
      const int s = session->finish();
      if (s != 0) status = s;
    }
  }
  if (sim != MPI_COMM_NULL) MPI_Comm_free(&sim);
  if (exec != MPI_COMM_NULL) MPI_Comm_free(&exec);
  MPI_Finalize();
  return status;
}
