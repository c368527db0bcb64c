#pragma once
/// @file
/// `parsl::Session`: parsl-mpi embedded in a program that keeps its own main loop.

#include <mpi.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "parsl/mpi_exec/run.hpp"
#include "parsl/runtime/config.hpp"
#include "parsl/runtime/data_flow_kernel.hpp"

namespace parsl {

namespace mpi::detail {
struct Job;
}

/// A DataFlowKernel and its MPI tree over a communicator, started and finished collectively,
/// that does not keep the caller:
///
///     parsl::Session session(exec_comm, config);   // every rank of exec_comm
///     if (session.submits()) {                      // rank 0 of exec_comm: back at once
///       for (int step = 0; step < steps; ++step) {
///         simulate_one_step();                      // the program's own MPI calls go on
///         if (step % 10 == 0) results.push_back(analyse(snapshot()));  // apps return futures
///       }
///     }                                             // the other ranks served tasks until here
///     int status = session.finish();                // every rank: 0, or the failure
///
/// Rank 0 of `comm` starts the kernel, drives the tree's MPI traffic on a thread of its own
/// and returns at once; it needs MPI_THREAD_MULTIPLE, since the program goes on making MPI
/// calls beside that thread. The other ranks of `comm` serve tasks inside the constructor
/// and return from it when rank 0 finishes (the constructor needs MPI_THREAD_FUNNELED there,
/// SERIALIZED from another thread than MPI's main). With one rank, tasks run on a local
/// thread pool. The start is checked as parsl::run's is: every rank must start the session
/// within --parsl-mpi-start-timeout seconds with the same options.
///
/// On failure (a start that fails, a kernel that cannot start, an exception that leaves the
/// session's scope on rank 0 before finish()), OnFailure::abort_job (the default) ends the
/// whole job with the error printed once; OnFailure::return_error has finish() return the
/// same non-zero status on every rank of `comm`.
class Session {
 public:
  Session(MPI_Comm comm, Config config, OnFailure on_failure = OnFailure::abort_job);
  /// Finishes the session if finish() was not called. On rank 0 during an exception's
  /// unwinding this is a failure (the job is aborted, or every rank gets status 1). Never
  /// throws.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// True on the rank that submits tasks (rank 0 of `comm`) while the session runs.
  bool submits() const noexcept { return dfk_ != nullptr; }
  /// Rank 0: the session's kernel (apps called on any thread of this process use it).
  DataFlowKernel& kernel() const;

  /// Collective over `comm`. Rank 0 waits for every submitted task, stops the tree and the
  /// kernel. Returns the status, the same on every rank: 0 on success, 1 when the run failed,
  /// 2 when the start failed; with OnFailure::abort_job a failure does not return. Calling it
  /// again returns the same status.
  int finish();
  /// Why the start or the run failed, "" if it did not. With OnFailure::return_error, after
  /// finish() it is the same text on every rank of the communicator.
  const std::string& error() const noexcept;

 private:
  std::unique_ptr<mpi::detail::Job> job_;
  std::unique_ptr<DataFlowKernel> dfk_;
  std::thread mpi_thread_;
  std::atomic<bool> failed_{false};
  bool finished_ = false;
  int status_ = 0;
  int unwinding_at_start_ = 0;
};

}  // namespace parsl
