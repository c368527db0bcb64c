// AppFuture::cancel() in one process: pending, queued, running (function, bash, isolated),
// finished, and what dependents see.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::atomic<int> g_runs{0};
parsl::test::Gate* g_gate = nullptr;

const auto counted = parsl::app("cancel_test.counted", [](int x) {
  g_runs.fetch_add(1);
  return x;
});
const auto blocker = parsl::app("cancel_test.blocker", [](int x) {
  g_gate->wait();
  return x;
});
const auto after = parsl::app("cancel_test.after", [](int x, int) {
  g_runs.fetch_add(1);
  return x;
});
const auto sleeper = parsl::app("cancel_test.sleeper", [](int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
});
// Writes its pid, then sleeps: the test checks that the process is gone after cancel().
const auto bash_sleep = parsl::bash_app("cancel_test.bash_sleep", [](std::string pid_file) {
  return "echo $$ > " + pid_file + "; sleep 30";
});
const auto isolated_sleep = parsl::app(
    "cancel_test.isolated_sleep",
    [](std::string pid_file) {
      std::ofstream(pid_file) << ::getpid() << "\n";
      std::this_thread::sleep_for(30s);
      return 0;
    },
    parsl::AppOptions{.isolate = true});

template <class F>
void expect_cancelled(const F& f) {
  try {
    f.get();
    FAIL() << "a cancelled task must fail";
  } catch (const parsl::TaskCancelled& e) {
    EXPECT_NE(std::string(e.what()).find("cancelled"), std::string::npos) << e.what();
  }
}

using parsl::test::process_gone;
using parsl::test::wait_for_pid;

TEST(Cancel, APendingTaskNeverRunsAndItsDependentsFail) {
  g_runs = 0;
  parsl::test::Gate gate;
  g_gate = &gate;
  parsl::DataFlowKernel dfk(parsl::test::thread_config(2));
  auto root = blocker(1);
  auto pending = after(2, root);  // waits for root
  auto dependent = after(3, pending);
  EXPECT_TRUE(pending.cancel());
  EXPECT_TRUE(pending.done());
  expect_cancelled(pending);
  EXPECT_FALSE(pending.cancel());  // already final: nothing changes
  try {
    dependent.get();
    FAIL() << "the dependent of a cancelled task must fail";
  } catch (const parsl::DependencyError& e) {
    EXPECT_EQ(e.root_task_id(), pending.task_id());
  }
  gate.release();
  EXPECT_EQ(root.get(), 1);
  dfk.wait_for_current_tasks();
  EXPECT_EQ(g_runs.load(), 0);  // neither ran, even once its input was ready
}

TEST(Cancel, AQueuedTaskNeverRuns) {
  g_runs = 0;
  parsl::test::Gate gate;
  g_gate = &gate;
  parsl::DataFlowKernel dfk(parsl::test::thread_config(1));
  auto busy = blocker(1);  // holds the only thread
  std::vector<parsl::AppFuture<int>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(counted(i));
  EXPECT_TRUE(queued[1].cancel());
  EXPECT_TRUE(queued[3].cancel());
  gate.release();
  EXPECT_EQ(queued[0].get(), 0);
  EXPECT_EQ(queued[2].get(), 2);
  EXPECT_EQ(queued[4].get(), 4);
  expect_cancelled(queued[1]);
  expect_cancelled(queued[3]);
  dfk.wait_for_current_tasks();
  EXPECT_EQ(g_runs.load(), 3);
}

TEST(Cancel, ARunningFunctionAppFailsAtOnceWhileItsThreadRunsOn) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config(1));
  auto f = sleeper(800);
  while (f.state() != parsl::TaskState::running) std::this_thread::sleep_for(1ms);
  const auto t0 = Clock::now();
  EXPECT_TRUE(f.cancel());
  expect_cancelled(f);
  EXPECT_LT(Clock::now() - t0, 300ms);
  EXPECT_EQ(sleeper(1).get(), 1);  // runs once the abandoned body has ended
}

TEST(Cancel, ARunningBashTaskIsKilled) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config(1));
  const auto pid_file = parsl::test::scratch_dir() / "cancel_bash.pid";
  auto f = bash_sleep(pid_file.string());
  const pid_t pid = wait_for_pid(pid_file);
  ASSERT_GT(pid, 0);
  const auto t0 = Clock::now();
  EXPECT_TRUE(f.cancel());
  expect_cancelled(f);
  EXPECT_TRUE(process_gone(pid)) << "the command must be killed, not left running";
  dfk.wait_for_current_tasks();
  EXPECT_LT(Clock::now() - t0, 5s);
}

TEST(Cancel, ARunningIsolatedTaskIsKilled) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config(1));
  const auto pid_file = parsl::test::scratch_dir() / "cancel_isolated.pid";
  auto f = isolated_sleep(pid_file.string());
  const pid_t pid = wait_for_pid(pid_file);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(f.cancel());
  expect_cancelled(f);
  EXPECT_TRUE(process_gone(pid));
}

TEST(Cancel, AFinishedTaskIsNotCancelled) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config(1));
  auto f = counted(7);
  EXPECT_EQ(f.get(), 7);
  EXPECT_FALSE(f.cancel());
  EXPECT_EQ(f.get(), 7);
  EXPECT_EQ(f.state(), parsl::TaskState::exec_done);
}

TEST(Cancel, ManyCancelsRacingWithExecutionLeaveEveryTaskFinalOnce) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config(2));
  std::vector<parsl::AppFuture<int>> fs;
  for (int i = 0; i < 2000; ++i) fs.push_back(counted(i));
  int cancelled = 0;
  for (std::size_t i = 0; i < fs.size(); i += 2) cancelled += fs[i].cancel() ? 1 : 0;
  int failed = 0, ok = 0;
  for (auto& f : fs) {
    try {
      (void)f.get();
      ++ok;
    } catch (const parsl::TaskCancelled&) {
      ++failed;
    }
  }
  EXPECT_EQ(failed, cancelled);  // cancel() said true exactly for the tasks that failed so
  EXPECT_EQ(ok + failed, 2000);
  dfk.wait_for_current_tasks();
  const auto counts = dfk.task_state_counts();
  EXPECT_EQ(counts[parsl::TaskState::failed] + counts[parsl::TaskState::exec_done], 2000);
}

}  // namespace
