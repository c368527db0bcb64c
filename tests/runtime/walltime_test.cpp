#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

std::atomic<int> g_runs{0};
const auto sleepy = parsl::app(
    "walltime_test.sleepy",
    [](int ms) {
      g_runs.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      return ms;
    },
    parsl::AppOptions{.walltime = 0.05s});

TEST(Walltime, ExpiredTryFailsTheFutureWithAppTimeout) {
  g_runs = 0;
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto start = std::chrono::steady_clock::now();
  auto f = sleepy(2000);
  try {
    f.get();
    FAIL() << "must time out";
  } catch (const parsl::AppTimeout& e) {
    EXPECT_NE(std::string(e.what()).find("exceeded its walltime"), std::string::npos) << e.what();
  }
  // The future failed at the walltime (0.05 s), long before the code finished (2 s).
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  EXPECT_EQ(f.state(), parsl::TaskState::failed);
}

TEST(Walltime, FastTasksAreUnaffectedAndPerCallOverride) {
  g_runs = 0;
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  EXPECT_EQ(sleepy(1).get(), 1);
  EXPECT_EQ(sleepy.with({.walltime = 5s})(100).get(), 100);
}

TEST(Walltime, TimeoutsAreRetried) {
  g_runs = 0;
  parsl::Config c = parsl::test::thread_config(3);
  c.retries = 1;
  parsl::DataFlowKernel dfk(c);
  EXPECT_THROW(sleepy(300).get(), parsl::AppTimeout);
  EXPECT_EQ(g_runs.load(), 2);
}

// 1e10 s overflowed the clock: the deadline lay in the past and every try failed at once.
TEST(Walltime, OutOfRangeWalltimesAreRefusedAtSubmission) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const double inf = std::numeric_limits<double>::infinity();
  for (double bad : {1e10, inf, -1.0, 0.0, std::nan("")}) {
    try {
      (void)sleepy.with({.walltime = std::chrono::duration<double>(bad)})(1);
      ADD_FAILURE() << "walltime " << bad << " was accepted";
    } catch (const parsl::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("at most 31622400 s"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(sleepy.with({.walltime = std::chrono::duration<double>(parsl::kMaxWalltime)})(1).get(), 1);
}

}  // namespace
