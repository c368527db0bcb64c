#pragma once
/// @file
/// `parsl::run`: the entry point of a workflow program launched with mpirun (or srun...).

#include <mpi.h>

#include <functional>
#include <string>

#include "parsl/runtime/config.hpp"

namespace parsl {

/// Collective over MPI_COMM_WORLD. Initializes MPI if the program has not (and then
/// finalizes it). Rank 0 starts a DataFlowKernel with `config` and runs `workflow` on a
/// second thread while its main thread drives MPI; every other rank becomes a sub-master
/// or a worker and serves tasks until the workflow is done. Returns the exit status, the
/// same on every rank: 0 on success, 1 when the workflow threw (rank 0 prints the error
/// once) or the kernel could not start, 2 for a bad command line, 3 when the launcher
/// started more ranks than MPI_COMM_WORLD holds (an orphaned rank; nothing runs).
///
/// With one rank, tasks run on a local thread pool (a note on stderr says so).
/// The workflow must not make MPI calls itself unless MPI was initialized with
/// MPI_THREAD_MULTIPLE.
int run(int argc, char** argv, Config config, const std::function<void()>& workflow);

/// As above, with the configuration read from the command line (Config::from_args).
int run(int argc, char** argv, const std::function<void()>& workflow);

/// This process's rank as the launcher (mpirun, mpiexec, srun) set it in the environment,
/// readable before MPI starts (to print a command-line error once); -1 when not launched so.
int launcher_rank() noexcept;
/// The job's size as the launcher set it in the environment (OMPI_COMM_WORLD_SIZE,
/// PMI_SIZE); -1 when not launched so. `run(argc, argv, ...)` refuses to run when MPI
/// reports one rank but this says more.
int launcher_size() noexcept;

/// What an embedded run does when it fails (a workflow that throws, a kernel that cannot
/// start, a configuration that differs between ranks, a bad option, too low an MPI thread
/// level). Rank 0 of the communicator prints the error once in both cases.
enum class OnFailure {
  /// End the whole job with MPI_Abort (the default): the program's other ranks, waiting in
  /// their next collective for ranks that will never come, would otherwise hang.
  abort_job,
  /// Return the same non-zero status on every rank of the communicator (as the overloads
  /// above do), for a program that handles the failure itself.
  return_error,
};

/// Embedding: collective over `comm`, a communicator of an MPI program that has already
/// initialized MPI (this call neither initializes nor finalizes it). Rank 0 of `comm` runs
/// `workflow` (on a second thread: initialize MPI with MPI_THREAD_MULTIPLE if the workflow
/// makes MPI calls of its own); the other ranks of `comm` serve tasks. Ranks outside `comm`
/// are untouched. Returns as the overload above, or aborts the job on failure (`on_failure`).
///
/// Before anything collective, every rank of `comm` sends its settings to rank 0 (point to
/// point, tag 32123 on `comm`): options that differ between ranks, a bad option on some
/// ranks, or MPI below MPI_THREAD_FUNNELED (MPI_THREAD_SERIALIZED when called from another
/// thread than the one that initialized MPI) fail the start on every rank with one message
/// naming the ranks. A rank that has not called this within --parsl-mpi-start-timeout
/// seconds (default 120) ends the job with a message naming it.
///
/// `error`, when given, receives why the start or the run failed ("" on success). With
/// OnFailure::return_error it is the same text on every rank of `comm`.
int run(MPI_Comm comm, Config config, const std::function<void()>& workflow,
        OnFailure on_failure = OnFailure::abort_job, std::string* error = nullptr);

}  // namespace parsl
