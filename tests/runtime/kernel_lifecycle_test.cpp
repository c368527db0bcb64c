#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_support.hpp"

namespace {

const auto twice = parsl::app("lifecycle_test.twice", [](int x) { return 2 * x; });
const auto slow = parsl::app("lifecycle_test.slow", [](int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
});

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(KernelLifecycle, RunDirectoriesAreNumberedWithALog) {
  parsl::Config c = parsl::test::thread_config();
  c.run_dir = parsl::test::scratch_dir() / "numbered";
  std::filesystem::path first, second;
  {
    parsl::DataFlowKernel dfk(c);
    first = dfk.run_dir();
    twice(1).get();
  }
  {
    parsl::DataFlowKernel dfk(c);
    second = dfk.run_dir();
  }
  EXPECT_EQ(first.filename(), "000");
  EXPECT_EQ(second.filename(), "001");
  const std::string log = read_file(first / "parsl.log");
  EXPECT_NE(log.find("DataFlowKernel starting"), std::string::npos) << log;
  EXPECT_NE(log.find("exec_done=1"), std::string::npos) << log;
}

TEST(KernelLifecycle, SecondKernelWhileOneRunsIsAnError) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  try {
    parsl::DataFlowKernel second(parsl::test::thread_config());
    FAIL();
  } catch (const parsl::KernelError& e) {
    EXPECT_NE(std::string(e.what()).find("already running"), std::string::npos) << e.what();
  }
  EXPECT_EQ(twice(2).get(), 4);  // the first one is unharmed
}

TEST(KernelLifecycle, SubmittingAfterShutdownIsAnError) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  dfk.cleanup();
  EXPECT_THROW((void)twice(1), parsl::KernelError);
  dfk.cleanup();  // idempotent
}

TEST(KernelLifecycle, NoKernelIsAnError) {
  try {
    (void)twice(1);
    FAIL();
  } catch (const parsl::KernelError& e) {
    EXPECT_NE(std::string(e.what()).find("no DataFlowKernel is running"), std::string::npos);
  }
}

TEST(KernelLifecycle, CleanupWaitsForRunningTasks) {
  parsl::AppFuture<int> f;
  {
    parsl::DataFlowKernel dfk(parsl::test::thread_config());
    f = slow(100);
  }  // destructor: cleanup
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.get(), 100);
}

TEST(KernelLifecycle, WaitForCurrentTasksAndCounts) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  std::vector<parsl::AppFuture<int>> fs;
  for (int i = 0; i < 50; ++i) fs.push_back(slow(1));
  dfk.wait_for_current_tasks();
  for (auto& f : fs) EXPECT_TRUE(f.done());
  auto c = dfk.task_state_counts();
  EXPECT_EQ(c[parsl::TaskState::exec_done], 50);
  EXPECT_EQ(c[parsl::TaskState::pending] + c[parsl::TaskState::launched] + c[parsl::TaskState::running], 0);
  EXPECT_EQ(dfk.outstanding(), 0);
}

TEST(KernelLifecycle, RunReturnsZeroOrOneAndPrintsTheError) {
  std::string dir = "--parsl-run-dir=" + (parsl::test::scratch_dir() / "run").string();
  std::vector<std::string> args = {"prog", dir, "--user-flag"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int got = 0;
  EXPECT_EQ(parsl::run_local(static_cast<int>(argv.size()), argv.data(), [&] { got = twice(21).get(); }), 0);
  EXPECT_EQ(got, 42);
  testing::internal::CaptureStderr();
  EXPECT_EQ(parsl::run_local(static_cast<int>(argv.size()), argv.data(), [] { throw std::runtime_error("workflow broke"); }), 1);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("std::runtime_error: workflow broke"), std::string::npos) << err;
  EXPECT_EQ(parsl::DataFlowKernel::current_or_null(), nullptr);
}

TEST(KernelLifecycle, BadCommandLineOptionsAreNamed) {
  const char* unknown[] = {"prog", "--parsl-thread=4"};
  try {
    (void)parsl::Config::from_args(2, unknown);
    FAIL();
  } catch (const parsl::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown option --parsl-thread"), std::string::npos) << e.what();
  }
  const char* bad_value[] = {"prog", "--parsl-threads=many"};
  EXPECT_THROW((void)parsl::Config::from_args(2, bad_value), parsl::ConfigError);
  const char* no_value[] = {"prog", "--parsl-retries"};
  EXPECT_THROW((void)parsl::Config::from_args(2, no_value), parsl::ConfigError);
  const char* good[] = {"prog", "--parsl-threads=3", "--parsl-retries=2.5", "--parsl-log-level=debug", "x"};
  auto c = parsl::Config::from_args(5, good);
  EXPECT_DOUBLE_EQ(c.retries, 2.5);
  EXPECT_EQ(c.log_level, parsl::LogLevel::debug);
  ASSERT_EQ(c.executors.size(), 1u);
  EXPECT_EQ(static_cast<parsl::ThreadPoolExecutor&>(*c.executors[0]).threads(), 3);
  std::string dir = "--parsl-run-dir=" + (parsl::test::scratch_dir() / "run").string();
  std::vector<std::string> args = {"prog", dir, "--parsl-threads=zero"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  testing::internal::CaptureStderr();
  EXPECT_EQ(parsl::run_local(3, argv.data(), [] {}), 2);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("--parsl-threads"), std::string::npos);
}

}  // namespace
