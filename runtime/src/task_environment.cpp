#include "task_environment.hpp"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace parsl::detail {

namespace {

bool starts(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

bool is_launcher_variable(std::string_view entry) noexcept {
  const std::string_view name = entry.substr(0, entry.find('='));
  // PMIx and PMI (Open MPI, Slurm's pmix/pmi2, Hydra, Cray PMI), and their Slurm plugins.
  if (starts(name, "PMIX_") || starts(name, "PMI_") || starts(name, "SLURM_PMIX")) return true;
  // Open MPI's runtime (orte/prrte) and the rank's identity; not the user's own MCA settings.
  if (starts(name, "OMPI_")) {
    if (starts(name, "OMPI_ALLOW_RUN_AS_ROOT")) return false;
    if (!starts(name, "OMPI_MCA_")) return true;  // OMPI_COMM_WORLD_*, OMPI_FILE_LOCATION, ...
    const std::string_view mca = name.substr(9);
    for (std::string_view p : {"orte_", "ess", "pmix", "prte_", "initial_wdir", "shmem_RUNTIME_QUERY_hint",
                               "mpi_oversubscribe", "rmaps_base_oversubscribe", "plm_", "ras_"})
      if (starts(mca, p)) return true;
    return false;
  }
  if (starts(name, "PRTE_") || starts(name, "ORTE_") || (starts(name, "OPAL_") && name != "OPAL_PREFIX"))
    return true;
  // Hydra (MPICH, Intel MPI), ALPS (aprun), PALS (Cray mpiexec), jsrun.
  if (starts(name, "HYDRA_") || starts(name, "HYDI_") || name == "MPI_LOCALRANKID" || name == "MPI_LOCALNRANKS" ||
      starts(name, "ALPS_APP_") || starts(name, "PALS_") || starts(name, "JSM_NAMESPACE_"))
    return true;
  // The Slurm job step of the pilot (a task's srun must make a step of its own); the job's
  // SLURM_JOB_* stay, so that `srun --overlap` finds the allocation.
  if (starts(name, "SLURM_STEP") || name == "SLURM_PROCID" || name == "SLURM_LOCALID" || name == "SLURM_GTIDS" ||
      name == "SLURM_TASK_PID" || starts(name, "SLURM_SRUN_COMM_") || name == "SLURM_MPI_TYPE" ||
      starts(name, "SLURM_CPU_BIND") || name == "SLURM_LAUNCH_NODE_IPADDR" || name == "SLURM_NODEID")
    return true;
  return false;
}

void scrub_launcher_environment() noexcept {
  try {
    std::vector<std::string> names;
    for (char** e = environ; *e != nullptr; ++e)
      if (is_launcher_variable(*e)) names.emplace_back(*e, std::strcspn(*e, "="));
    for (const auto& n : names) ::unsetenv(n.c_str());
  } catch (...) {
  }
}

}  // namespace parsl::detail
