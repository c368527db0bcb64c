#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>
#include <thread>
#include <vector>
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
const auto leaves_daemon = parsl::bash_app("bash_test.leaves_daemon", [](const std::string& cmd) { return cmd; },
                                           parsl::AppOptions{.keep_background_processes = true});

std::vector<pid_t> pids_in(const std::filesystem::path& p) {
  std::vector<pid_t> out;
  std::ifstream in(p);
  for (long pid; in >> pid;) out.push_back(static_cast<pid_t>(pid));
  return out;
}

// Running or sleeping (not a zombie, not gone)?
bool alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z' && line[close + 2] != 'X';
}

// Killed processes take a moment to leave; a live one stays.
bool gone_within(pid_t pid, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (alive(pid) && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(5ms);
  return !alive(pid);
}

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
TEST(BashApp, BackgroundChildrenEndWithTheirTask) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto file = parsl::test::scratch_dir() / "background.pids";
  std::filesystem::remove(file);
  EXPECT_EQ(shell("sleep 300 & echo $! > " + file.string() + "; nohup sleep 301 >/dev/null 2>&1 & echo $! >> " +
                  file.string())
                .get(),
            0);
  const auto pids = pids_in(file);
  ASSERT_EQ(pids.size(), 2u);
  for (pid_t pid : pids) {
    EXPECT_TRUE(gone_within(pid, 2000ms)) << "background process " << pid << " outlived its task";
    if (alive(pid)) ::kill(pid, SIGKILL);
  }
}

TEST(BashApp, AnAppCanKeepItsDaemonUntilTheProcessEnds) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto file = parsl::test::scratch_dir() / "daemon.pids";
  std::filesystem::remove(file);
  EXPECT_EQ(leaves_daemon("sleep 300 & echo $! > " + file.string()).get(), 0);
  const auto pids = pids_in(file);
  ASSERT_EQ(pids.size(), 1u);
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(alive(pids[0])) << "the kept daemon was killed with its task";
  ::kill(pids[0], SIGKILL);  // (the process end that would kill it is tested by parsl_run.keep_background)
}

// The future fails with AppTimeout only once the command is dead: the kernel's own timer
// used to fail it at the deadline while the command ran on for milliseconds.
TEST(BashApp, WalltimeKillsTheGroupBeforeTheFutureFails) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto file = parsl::test::scratch_dir() / "walltime.pids";
  for (int round = 0; round < 5; ++round) {
    std::filesystem::remove(file);
    auto f = shell.with({.walltime = 0.3s})("echo $$ > " + file.string() + "; sleep 30 & echo $! >> " + file.string() +
                                            "; wait");
    try {
      f.get();
      FAIL() << "no timeout";
    } catch (const parsl::AppTimeout& e) {
      EXPECT_NE(std::string(e.what()).find("its process group was killed"), std::string::npos) << e.what();
    }
    const auto pids = pids_in(file);
    ASSERT_EQ(pids.size(), 2u);
    EXPECT_FALSE(alive(pids[0])) << "round " << round << ": bash still ran when its future failed";
    EXPECT_TRUE(gone_within(pids[1], 1000ms)) << "round " << round;
  }
}

}  // namespace
