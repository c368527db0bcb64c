#pragma once
/// @file
/// Launchers: how a job script starts N ranks of a program across its nodes (srun, aprun,
/// jsrun, mpiexec/mpirun, simple). A separate choice from the provider, as in Parsl.
#include <memory>
#include <string>
#include <vector>

namespace parsl::launch {

/// The ranks to start: `nodes` × `ranks_per_node`, each with `cores_per_rank` cores and
/// `gpus_per_rank` GPUs.
struct LaunchShape {
  int nodes = 1;
  int ranks_per_node = 1;
  int cores_per_rank = 1;
  int gpus_per_rank = 0;
  int ranks() const noexcept { return nodes * ranks_per_node; }
};

/// Wraps a command so that it starts as an MPI job of `shape` inside an allocation.
/// Stateless and thread-safe.
class Launcher {
 public:
  virtual ~Launcher() = default;
  /// "srun", "aprun", ...
  virtual std::string name() const = 0;
  /// Lines of bash that the job script runs before the launch (e.g. writing a host file).
  virtual std::string setup(const LaunchShape& /*shape*/) const { return {}; }
  /// The command line that starts `command` (already quoted for bash) as `shape`.
  virtual std::string wrap(const std::string& command, const LaunchShape& shape) const = 0;
  /// The prefix a task uses to start an MPI program of `ranks` ranks with `cores` cores each
  /// on `hosts` (one entry per rank) inside the running pilot ($PARSL_MPI_PREFIX).
  virtual std::string task_prefix(int ranks, int cores, const std::vector<std::string>& hosts) const = 0;
};

/// The launcher called `name`: srun, aprun, jsrun, mpiexec (MPICH/Intel MPI Hydra flags),
/// mpirun (Open MPI flags), pals (Cray PALS mpiexec, PBS Pro machines), simple (the command
/// as it is: it starts its own ranks, or is not MPI). `extra` flags go right after the
/// launcher's own. Throws LaunchError naming the unknown launcher and the known ones.
std::unique_ptr<Launcher> make_launcher(const std::string& name, const std::string& extra = {});

/// The known launcher names, for messages and --help.
std::vector<std::string> launcher_names();

}  // namespace parsl::launch
