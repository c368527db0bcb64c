#pragma once
/// @file
/// `parsl::run_local`: a workflow program in one process, without MPI.

#include <functional>
#include <string>

#include "parsl/runtime/config.hpp"

namespace parsl {

/// Starts a DataFlowKernel with `config`, runs `workflow`, waits for every task, shuts the
/// kernel down and returns the process exit status: 0 on success; 1 when the workflow
/// threw (the error is printed to stderr and logged) or the kernel could not start.
/// `--parsl-help` on the command line prints the options and returns 0 without running.
///
/// `parsl::run` (parsl/mpi_exec/run.hpp, included by <parsl/parsl.hpp>) is the same for
/// programs launched with mpirun; this one needs no MPI at all.
///
/// @code
///   int main(int argc, char** argv) {
///     return parsl::run_local(argc, argv, parsl::Config::from_args(argc, argv), [] { ... });
///   }
/// @endcode
int run_local(int argc, char** argv, Config config, const std::function<void()>& workflow);

/// As above, with the configuration read from the command line by Config::from_args. A bad
/// option is reported on stderr and gives exit status 2.
int run_local(int argc, char** argv, const std::function<void()>& workflow);

class DataFlowKernel;
namespace detail {
/// Runs `workflow`; when it throws, prints the error once to stderr, logs it and returns
/// false. Shared by run_local and the MPI run, which must record a failure *before* calling
/// shutdown_kernel (the MPI tree learns at shutdown whether to stop with an error).
/// `error`, when given, receives the message.
bool call_workflow(DataFlowKernel& dfk, const std::function<void()>& workflow, std::string* error = nullptr);
/// dfk.cleanup(); on failure prints the reason and returns false (`error`: as above).
bool shutdown_kernel(DataFlowKernel& dfk, std::string* error = nullptr);
}  // namespace detail

}  // namespace parsl
