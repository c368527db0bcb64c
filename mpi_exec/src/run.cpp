#include "parsl/mpi_exec/run.hpp"

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "job.hpp"
#include "loops.hpp"
#include "parsl/runtime/run.hpp"

namespace parsl {

namespace {

// The workflow on a second thread of rank 0 while this one drives MPI; the other ranks
// serve tasks.
int run_on(MPI_Comm comm, Config config, const std::function<void()>& workflow, OnFailure on_failure, bool embedded,
           std::string* error = nullptr) {
  mpi::detail::Job job;
  job.comm = comm;
  job.on_failure = on_failure;
  // Placement's defaults (pinning off, inside the launcher's binding) are for a host code:
  // ranks outside `comm`. A communicator of the whole job is all parsl's.
  int whole = MPI_UNEQUAL;
  MPI_Comm_compare(comm, MPI_COMM_WORLD, &whole);
  job.embedded = embedded && whole != MPI_IDENT && whole != MPI_CONGRUENT;
  const int started = mpi::detail::start_job(job, config, false);
  struct Report {  // the error text for the caller, however this returns
    std::string* to;
    const std::string& from;
    ~Report() {
      if (to) *to = from;
    }
  } report{error, job.error};
  if (started == mpi::detail::kOneRank) {
    mpi::detail::make_local(config, embedded);
    return run_local(0, nullptr, std::move(config), workflow);
  }
  if (started != 0) return job.outcome(started);
  if (job.rank != 0) return mpi::detail::serve(job);

  std::atomic<bool> failed{false};
  std::unique_ptr<DataFlowKernel> dfk = mpi::detail::start_kernel(job, std::move(config));
  if (!dfk) failed = true;
  std::thread workflow_thread;
  if (dfk)
    workflow_thread = std::thread([&] {
      // Record a failure before cleanup(): cleanup stops the tree, with an error or not.
      if (!detail::call_workflow(*dfk, workflow, &job.error)) failed = true;
      if (!detail::shutdown_kernel(*dfk, &job.error)) failed = true;
      if (job.exec) job.exec->wake();
    });
  try {
    mpi::detail::root_loop(job.link(), job.topo, dfk ? job.exec : nullptr, dfk ? &dfk->logger() : nullptr,
                           [&] { return failed.load(); });
  } catch (const std::exception& e) {
    job.abort(e);
  }
  if (workflow_thread.joinable()) workflow_thread.join();
  return mpi::detail::settle(job, failed ? 1 : 0);
}

}  // namespace

int launcher_rank() noexcept {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"})
    if (const char* r = std::getenv(name)) return std::atoi(r);
  return -1;
}

int launcher_size() noexcept {
  // Not SLURM_NTASKS: a batch script that runs the program without srun sees the whole
  // allocation's task count there, and one rank is then what the user asked for.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* s = std::getenv(name)) return std::atoi(s);
  return -1;
}

int run(MPI_Comm comm, Config config, const std::function<void()>& workflow, OnFailure on_failure,
        std::string* error) {
  return run_on(comm, std::move(config), workflow, on_failure, true, error);
}

int run(int argc, char** argv, Config config, const std::function<void()>& workflow) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  }
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int status = 0;
  const int expected = launcher_size();
  if (size == 1 && expected > 1) {
    // A rank that lost its launcher (mpirun killed during start-up) or a program built
    // against another MPI than the launcher's comes up alone. Running the whole workflow
    // here would run every task a second time beside the real job: refuse.
    std::fprintf(stderr,
                 "parsl: the launcher started %d ranks, but this process is alone in MPI_COMM_WORLD "
                 "(its launcher is gone, or the program was built with a different MPI than the "
                 "launcher's); not running the workflow\n",
                 expected);
    status = 3;
  } else if (Config::help_requested(argc, argv)) {
    if (rank == 0) std::fputs(Config::options_help().c_str(), stdout);
  } else {
    // The whole job runs parsl: every rank returns the status, and the program ends.
    status = run_on(MPI_COMM_WORLD, std::move(config), workflow, OnFailure::return_error, false);
  }
  if (!initialized) MPI_Finalize();
  return status;
}

int run(int argc, char** argv, const std::function<void()>& workflow) {
  Config config;
  try {
    config = Config::from_args(argc, argv);
  } catch (const std::exception& e) {
    // Every rank sees the same command line; report once, before MPI is even started.
    if (!Config::help_requested(argc, argv)) {
      if (launcher_rank() <= 0) std::fprintf(stderr, "parsl: %s\n", e.what());
      return 2;
    }
  }
  return run(argc, argv, std::move(config), workflow);
}

}  // namespace parsl
