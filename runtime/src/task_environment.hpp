#pragma once
// What a task's process must not inherit from the pilot: the variables by which an MPI
// launcher (mpirun/orted, srun, Hydra, ALPS, jsrun, PALS) tells a rank who it is. A task that
// starts an MPI program with them believes it is its worker rank, and under srun/PMIx one
// such program took down every rank of the job step (slurm-local.md, section 5).
#include <string_view>

namespace parsl::detail {

/// True when `entry` ("NAME=value", or a bare name) is one of the pilot's launcher or PMI
/// variables. Kept: the job's own (SLURM_JOB_*, PBS_*, LSB_*, COBALT_*), the user's MCA
/// settings (OMPI_MCA_* other than the launcher's), OMPI_ALLOW_RUN_AS_ROOT*, OPAL_PREFIX.
bool is_launcher_variable(std::string_view entry) noexcept;

/// Removes every launcher variable from this process's environment. For a child process
/// between fork and exec (or the isolated child, which runs one task and exits).
void scrub_launcher_environment() noexcept;

}  // namespace parsl::detail
