#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>
#include <sstream>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const auto shell = parsl::bash_app("bash_test.shell", [](const std::string& cmd) { return cmd; });
const auto exit_with = parsl::bash_app("bash_test.exit_with", [](int code) { return "exit " + std::to_string(code); });

TEST(BashApp, ExitZeroIsSuccessOthersFailWithTheCode) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  EXPECT_EQ(shell("true").get(), 0);
  try {
    exit_with(15).get();
    FAIL();
  } catch (const parsl::BashExitFailure& e) {
    EXPECT_EQ(e.exit_code(), 15);
    EXPECT_EQ(std::string(e.what()).rfind("bash app bash_test.exit_with failed with exit code 15", 0), 0u) << e.what();
  }
  try {
    shell("no_such_command_xyz").get();
    FAIL();
  } catch (const parsl::BashExitFailure& e) {
    EXPECT_EQ(e.exit_code(), 127);
    EXPECT_NE(std::string(e.what()).find("command not found"), std::string::npos) << e.what();
  }
}

TEST(BashApp, RedirectsAppendTruncateAndEchoTheCommand) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto dir = parsl::test::scratch_dir() / "redirects";
  const std::string out = (dir / "out.txt").string(), err = (dir / "err.txt").string();
  shell.with({.out = out, .err = err})("echo one; echo oops >&2").get();
  shell.with({.out = out, .err = err})("echo two").get();
  EXPECT_EQ(slurp(out), "one\ntwo\n");
  const std::string e = slurp(err);
  EXPECT_NE(e.find("$ echo one; echo oops >&2\n"), std::string::npos) << e;
  EXPECT_NE(e.find("oops\n"), std::string::npos) << e;
  shell.with({.out = parsl::Redirect::truncate(out)})("echo three").get();
  EXPECT_EQ(slurp(out), "three\n");
}

TEST(BashApp, AutomaticLogsGoUnderTheRunDirectory) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  auto f = shell.with({.out = parsl::Redirect::automatic(), .err = parsl::Redirect::automatic()})("echo hello");
  f.get();
  const auto expected = parsl::detail::log_path(parsl::Redirect::automatic(),
                                                std::filesystem::absolute(dfk.run_dir()).string(), f.task_id(),
                                                "bash_test.shell", "stdout");
  EXPECT_NE(expected.find("task_logs"), std::string::npos);
  EXPECT_EQ(slurp(expected), "hello\n");
}

TEST(BashApp, UnopenableRedirectIsAClearError) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  try {
    shell.with({.out = "/proc/no/such/dir/out.txt"})("true").get();
    FAIL();
  } catch (const parsl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open its stdout file /proc/no/such/dir/out.txt"), std::string::npos)
        << e.what();
  }
}

TEST(BashApp, EnvironmentNamesTheTask) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto file = (parsl::test::scratch_dir() / "env.txt").string();
  auto f = shell.with({.out = parsl::Redirect::truncate(file)})("echo $PARSL_TASK_ID $PARSL_TRY $PARSL_WORKER_RANK");
  f.get();
  EXPECT_EQ(slurp(file), std::to_string(f.task_id()) + " 1 0\n");
}

TEST(BashApp, WalltimeKillsTheWholeProcessGroup) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto pidfile = (parsl::test::scratch_dir() / "child.pid").string();
  const auto start = std::chrono::steady_clock::now();
  auto f = shell.with({.walltime = 0.3s})("sleep 30 & echo $! > " + pidfile + "; wait");
  EXPECT_THROW(f.get(), parsl::AppTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  // The background sleep was in the group: it must be gone too.
  dfk.wait_for_current_tasks();
  const pid_t child = std::stoi(slurp(pidfile));
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = ::kill(child, 0) != 0;
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(gone) << "process " << child << " is still running";
}

TEST(BashApp, FailuresAreRetried) {
  parsl::Config c = parsl::test::thread_config();
  c.retries = 2;
  parsl::DataFlowKernel dfk(c);
  const auto counter = (parsl::test::scratch_dir() / "tries.txt").string();
  // Fails twice, then succeeds: the third try finds two lines in the file.
  auto f = shell("echo x >> " + counter + "; test $(wc -l < " + counter + ") -ge 3");
  EXPECT_EQ(f.get(), 0);
  EXPECT_EQ(slurp(counter), "x\nx\nx\n");
}

}  // namespace

namespace {
std::atomic<int> g_cached_runs{0};
const auto cached_echo = parsl::bash_app("bash_test.cached_echo", [](int x) {
  g_cached_runs.fetch_add(1);
  return "echo " + std::to_string(x);
}, parsl::AppOptions{.cache = true});

TEST(BashApp, MemoKeysDoNotDependOnTheRunDirectoryOrRedirects) {
  const auto base = parsl::test::scratch_dir() / "bash-memo";
  g_cached_runs = 0;
  std::vector<std::filesystem::path> ckpt;
  {
    parsl::Config c = parsl::test::thread_config();
    c.run_dir = base;
    c.checkpoint_mode = parsl::CheckpointMode::task_exit;
    parsl::DataFlowKernel dfk(c);
    cached_echo(1).get();
    // Same call, other redirect: still the same memo key.
    auto again = cached_echo.with({.out = parsl::Redirect::automatic()})(1);
    again.get();
    EXPECT_EQ(again.state(), parsl::TaskState::memo_done);
  }
  parsl::Config c = parsl::test::thread_config();
  c.run_dir = base;  // a new run directory (001)
  c.checkpoint_files = parsl::get_all_checkpoints(base);
  parsl::DataFlowKernel dfk(c);
  auto f = cached_echo(1);
  f.get();
  EXPECT_EQ(f.state(), parsl::TaskState::memo_done);
  EXPECT_EQ(g_cached_runs.load(), 1);
}

std::atomic<int> g_named_runs{0};
const auto named_echo = parsl::bash_app("bash_test.named_echo", [](int x, const std::string& /*tag*/, int y) {
  g_named_runs.fetch_add(1);
  return "echo " + std::to_string(x + y);
}, parsl::AppOptions{.cache = true, .arg_names = {"x", "tag", "y"}, .ignore_for_cache = {"tag", 2}});

TEST(BashApp, IgnoreForCacheByNameAndPositionCountsTheUsersParameters) {
  g_named_runs = 0;
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  named_echo(1, "a", 5).get();
  auto same = named_echo(1, "b", 6);  // tag (by name) and y (position 2) are left out
  same.get();
  EXPECT_EQ(same.state(), parsl::TaskState::memo_done);
  auto other = named_echo(2, "a", 5);
  other.get();
  EXPECT_EQ(other.state(), parsl::TaskState::exec_done);
  EXPECT_EQ(g_named_runs.load(), 2);
}
}  // namespace
