#include "parsl/mpi_exec/session.hpp"

#include <cstdio>
#include <exception>

#include "job.hpp"
#include "loops.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/run.hpp"

namespace parsl {

Session::Session(MPI_Comm comm, Config config, OnFailure on_failure)
    : job_(std::make_unique<mpi::detail::Job>()), unwinding_at_start_(std::uncaught_exceptions()) {
  job_->comm = comm;
  job_->on_failure = on_failure;
  job_->embedded = true;
  const int started = mpi::detail::start_job(*job_, config, true);
  if (started == mpi::detail::kOneRank) {
    mpi::detail::make_local(config, true);
    try {
      dfk_ = std::make_unique<DataFlowKernel>(std::move(config));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "parsl: cannot start the DataFlowKernel: %s\n", describe(std::current_exception()).c_str());
      finished_ = true;
      status_ = 1;
    }
    return;
  }
  if (started != 0) {
    finished_ = true;
    status_ = job_->outcome(started);
    return;
  }
  if (job_->rank != 0) {
    finished_ = true;
    status_ = mpi::detail::serve(*job_);  // until rank 0 finishes
    return;
  }
  dfk_ = mpi::detail::start_kernel(*job_, std::move(config));
  if (!dfk_) failed_ = true;
  // The tree's traffic on a thread of its own: without a kernel it only stops the tree.
  mpi_thread_ = std::thread([this, exec = dfk_ ? job_->exec : nullptr, log = dfk_ ? &dfk_->logger() : nullptr] {
    try {
      mpi::detail::root_loop(job_->link(), job_->topo, exec, log, [this] { return failed_.load(); });
    } catch (const std::exception& e) {
      job_->abort(e);
    }
  });
  if (!dfk_) {
    mpi_thread_.join();
    finished_ = true;
    status_ = mpi::detail::settle(*job_, 1);
  }
}

const std::string& Session::error() const noexcept { return job_->error; }

DataFlowKernel& Session::kernel() const {
  if (!dfk_) throw ConfigError("parsl::Session::kernel(): only rank 0 of the session's communicator has a kernel");
  return *dfk_;
}

int Session::finish() {
  if (finished_) return status_;
  finished_ = true;
  if (std::uncaught_exceptions() > unwinding_at_start_) {
    job_->error = "an exception left the scope of the parsl::Session before finish() was called";
    std::fprintf(stderr, "parsl: %s\n", job_->error.c_str());
    failed_ = true;
  }
  // Record a failure before the kernel's cleanup: it stops the tree, with an error or not.
  if (!detail::shutdown_kernel(*dfk_, &job_->error)) failed_ = true;
  if (job_->exec) job_->exec->wake();
  if (mpi_thread_.joinable()) mpi_thread_.join();
  dfk_.reset();
  status_ = failed_ ? 1 : 0;
  if (job_->size == 1) return status_;  // no tree: nothing to settle
  status_ = mpi::detail::settle(*job_, status_);
  return status_;
}

Session::~Session() {
  try {
    finish();
  } catch (...) {
    std::fprintf(stderr, "parsl: the parsl::Session could not finish cleanly\n");
  }
}

}  // namespace parsl
