// Dispatch under mpirun: walltimes of plain function apps, cancellation wherever a task is,
// and long tasks after short ones spread over the workers. Rank 0 runs the workflow and its
// assertions; the other ranks serve tasks.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "mpi_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int rank_here() { return std::atoi(std::getenv("PARSL_WORKER_RANK")); }

const auto nap_ms = parsl::app("dispatch_test.nap_ms", [](int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return rank_here();
});
const auto noop = parsl::app("dispatch_test.noop", [](int x) { return x; });
const auto worker_count = parsl::app("dispatch_test.worker_count", [](int) {
  std::this_thread::sleep_for(20ms);
  return std::atoi(std::getenv("PARSL_WORKER_COUNT"));
});
// Leaves a file behind if it ever runs.
const auto mark = parsl::app("dispatch_test.mark", [](std::string path, int) {
  std::ofstream(path) << rank_here() << "\n";
  return 0;
});
const auto bash_hold = parsl::bash_app("dispatch_test.bash_hold", [](std::string pid_file) {
  return "echo $$ > " + pid_file + "; sleep 60";
});

int run(const std::function<void()>& wf, parsl::Config c = parsl::test::mpi_config()) {
  return parsl::run(MPI_COMM_WORLD, std::move(c), wf, parsl::OnFailure::return_error);  // tests check the status
}

using parsl::test::process_gone;
using parsl::test::wait_for_pid;

TEST(Dispatch, AFunctionAppsWalltimeFailsItsFutureAtTheDeadline) {
  const int status = run([] {
    const auto t0 = Clock::now();
    auto f = nap_ms.with({.walltime = std::chrono::duration<double>(0.2)})(2000);
    EXPECT_THROW(f.get(), parsl::AppTimeout);
    // At the deadline, not when the body ends (2 s): the worker reports the start while the
    // task runs.
    EXPECT_LT(Clock::now() - t0, 1500ms);
    EXPECT_GE(Clock::now() - t0, 200ms);
  });
  EXPECT_EQ(status, 0);
}

TEST(Dispatch, CancelledTasksNeverRunWhereverTheyWaitAndRunningCommandsAreKilled) {
  const int status = run([] {
    const int workers = worker_count(0).get();
    const auto dir = parsl::test::scratch_dir() / "cancel";
    std::filesystem::create_directories(dir);
    // Every worker busy with a command that would run for a minute.
    std::vector<parsl::AppFuture<int>> running;
    std::vector<pid_t> pids;
    for (int i = 0; i < workers; ++i) running.push_back(bash_hold((dir / ("hold" + std::to_string(i))).string()));
    for (int i = 0; i < workers; ++i) pids.push_back(wait_for_pid(dir / ("hold" + std::to_string(i))));
    // Tasks that wait behind them (at the root, or handed back there), and one that waits
    // for a running task.
    std::vector<parsl::AppFuture<int>> waiting;
    for (int i = 0; i < 3 * workers; ++i) waiting.push_back(mark((dir / ("ran" + std::to_string(i))).string(), i));
    auto pending = mark((dir / "pending").string(), 0);
    auto dependent = nap_ms(running[0]);  // pending on a running task
    for (auto& f : waiting) EXPECT_TRUE(f.cancel());
    EXPECT_TRUE(dependent.cancel());
    EXPECT_FALSE(dependent.cancel());
    const auto t0 = Clock::now();
    for (auto& f : running) EXPECT_TRUE(f.cancel());
    for (auto& f : running) EXPECT_THROW(f.get(), parsl::TaskCancelled);
    for (pid_t pid : pids) EXPECT_TRUE(pid > 0 && process_gone(pid)) << "command " << pid << " still runs";
    EXPECT_LT(Clock::now() - t0, 10s);
    for (auto& f : waiting) EXPECT_THROW(f.get(), parsl::TaskCancelled);
    EXPECT_THROW(dependent.get(), parsl::TaskCancelled);
    EXPECT_EQ(pending.get(), 0);  // not cancelled: runs once a worker is free
    // The workers serve on; nothing cancelled ever ran.
    std::vector<parsl::AppFuture<int>> after;
    for (int i = 0; i < 4 * workers; ++i) after.push_back(noop(i));
    for (int i = 0; i < 4 * workers; ++i) EXPECT_EQ(after[static_cast<std::size_t>(i)].get(), i);
    parsl::DataFlowKernel::current().wait_for_current_tasks();
    for (int i = 0; i < 3 * workers; ++i)
      EXPECT_FALSE(std::filesystem::exists(dir / ("ran" + std::to_string(i)))) << "cancelled task " << i << " ran";
    EXPECT_FALSE(running[0].cancel());  // final: false, nothing changes
  });
  EXPECT_EQ(status, 0);
}

TEST(Dispatch, LongTasksAfterManyShortOnesAreSpreadOverTheWorkers) {
  const int status = run([] {
    const int workers = worker_count(0).get();
    // Thousands of no-ops teach every worker to prefetch deeply, so the long tasks submitted
    // right behind them land many to a worker (whichever has credit as they come), which
    // must give back what it cannot start.
    std::vector<parsl::AppFuture<int>> warm;
    for (int i = 0; i < 3000; ++i) warm.push_back(noop(i));
    const int n = 3 * workers;
    std::vector<parsl::AppFuture<int>> long_tasks;
    for (int i = 0; i < n; ++i) long_tasks.push_back(nap_ms(150));
    std::map<int, int> per_rank;
    for (auto& f : long_tasks) ++per_rank[f.get()];
    for (auto& f : warm) f.wait();
    EXPECT_EQ(static_cast<int>(per_rank.size()), workers) << "some worker ran none of the long tasks";
    for (const auto& [rank, count] : per_rank) EXPECT_LE(count, 4) << "rank " << rank << " ran " << count << " of " << n;
  });
  EXPECT_EQ(status, 0);
}

}  // namespace
