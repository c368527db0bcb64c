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

const auto echo = parsl::bash_app("lifecycle_test.echo", [](int x) { return "echo " + std::to_string(x); });

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

// An embedding program can have no run folder: nothing is written in the working
// directory, a bash app's default logs go to the temporary folder, and what needs a folder
// (checkpoints, monitoring) says so.
TEST(KernelLifecycle, NoRunFolderWritesNothingThereAndWhatNeedsOneSaysSo) {
  const auto cwd = std::filesystem::current_path();
  const auto dir = parsl::test::scratch_dir() / "cwd";
  std::filesystem::create_directories(dir);
  std::filesystem::current_path(dir);
  const char* args[] = {"prog", "--parsl-run-dir=none"};
  parsl::Config c = parsl::Config::from_args(2, args);
  EXPECT_TRUE(c.run_dir.empty());
  c.executors.push_back(std::make_shared<parsl::ThreadPoolExecutor>(2));
  {
    parsl::DataFlowKernel dfk(c);
    EXPECT_TRUE(dfk.run_dir().empty());
    EXPECT_EQ(twice(4).get(), 8);
    EXPECT_EQ(echo(3).get(), 0);
  }
  std::filesystem::current_path(cwd);
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "something was written in the working directory";
  for (auto mode : {0, 1}) {
    parsl::Config bad = c;
    if (mode == 0) bad.monitoring = true;
    if (mode == 1) bad.checkpoint_mode = parsl::CheckpointMode::task_exit;
    try {
      parsl::DataFlowKernel dfk(bad);
      ADD_FAILURE() << "a kernel without a run folder accepted " << (mode == 0 ? "monitoring" : "checkpoints");
    } catch (const parsl::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("no run folder"), std::string::npos) << e.what();
    }
  }
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
