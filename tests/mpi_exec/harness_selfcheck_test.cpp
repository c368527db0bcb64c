// The MPI test main itself: an assertion that fails on one rank other than 0 must be printed
// with that rank and make the whole test program exit non-zero, promptly (it once deadlocked
// inside GoogleTest). Run by two ctest checks: `mpi_test_main.reports_failure_on_rank_2` sets
// PARSL_SELFCHECK_FAIL_RANK and expects the failure; `mpi_test_main.passes_when_nothing_fails`
// leaves it unset and expects a pass (the control: the harness must not invent failures).
#include <mpi.h>

#include <gtest/gtest.h>

#include <cstdlib>

TEST(HarnessSelfCheck, AssertionFailsOnTheChosenRankOnly) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const char* chosen = std::getenv("PARSL_SELFCHECK_FAIL_RANK");
  const int fail_rank = chosen != nullptr ? std::atoi(chosen) : -1;
  EXPECT_NE(rank, fail_rank) << "deliberate failure on rank " << rank;
  MPI_Barrier(MPI_COMM_WORLD);  // the failing rank must get here too, not hang
}
