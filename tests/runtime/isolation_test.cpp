#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <stdexcept>

#include "test_support.hpp"

namespace {

const parsl::AppOptions isolated{.isolate = true};

const auto segfault = parsl::app("isolation_test.segfault", [](int x) {
  volatile int* p = nullptr;
  if (x >= 0) *p = x;  // a real invalid write
  return x;
}, isolated);
const auto aborts = parsl::app("isolation_test.aborts", [](int) -> int { std::abort(); }, isolated);
const auto exits = parsl::app("isolation_test.exits", [](int code) -> int { std::exit(code); }, isolated);
// The kernel's OOM killer sends SIGKILL; this is what the parent then sees.
const auto oom_killed = parsl::app("isolation_test.oom_killed", [](int) -> int {
  ::raise(SIGKILL);
  return 0;
}, isolated);
const auto fine = parsl::app("isolation_test.fine", [](std::string s) { return s + "!"; }, isolated);
const auto throws = parsl::app("isolation_test.throws", [](int) -> int { throw std::invalid_argument("bad seed"); }, isolated);
const auto pid_of = parsl::app("isolation_test.pid_of", [](int) { return static_cast<int>(::getpid()); }, isolated);
const auto plain_pid = parsl::app("isolation_test.plain_pid", [](int) { return static_cast<int>(::getpid()); });
const auto crash_logged = parsl::app("isolation_test.crash_logged", [](std::string file) -> int {
  std::ofstream(file, std::ios::app) << "try\n";
  std::abort();
}, isolated);

// Starts a background process the way C code in an app might, and returns at once.
const auto leaves_child = parsl::app("isolation_test.leaves_child", [](std::string pidfile) {
  return std::system(("sleep 300 & echo $! > " + pidfile).c_str());
}, isolated);

std::string message_of(const parsl::AppFuture<int>& f) {
  try {
    f.get();
  } catch (const parsl::WorkerLost& e) {
    return e.what();
  }
  return "no WorkerLost";
}

TEST(Isolation, CrashesFailOnlyTheirTaskAndNameTheCause) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  EXPECT_NE(message_of(segfault(1)).find("killed by signal 11 (SIGSEGV)"), std::string::npos);
  EXPECT_NE(message_of(aborts(1)).find("killed by signal 6 (SIGABRT)"), std::string::npos);
  EXPECT_NE(message_of(exits(3)).find("exited with status 3 before returning a result"), std::string::npos);
  const std::string oom = message_of(oom_killed(1));
  EXPECT_NE(oom.find("signal 9 (SIGKILL)"), std::string::npos) << oom;
  EXPECT_NE(oom.find("out of memory"), std::string::npos) << oom;
  // The kernel and this process go on; results and the app's own errors come back.
  EXPECT_EQ(fine("ok").get(), "ok!");
  EXPECT_THROW(throws(1).get(), std::invalid_argument);
  EXPECT_NE(pid_of(1).get(), static_cast<int>(::getpid()));
}

TEST(Isolation, RetriesApply) {
  parsl::Config c = parsl::test::thread_config();
  c.retries = 2;
  parsl::DataFlowKernel dfk(c);
  const auto file = (parsl::test::scratch_dir() / "isolated_tries.txt").string();
  EXPECT_THROW(crash_logged(file).get(), parsl::WorkerLost);
  std::ifstream in(file);
  int tries = 0;
  for (std::string line; std::getline(in, line);) ++tries;
  EXPECT_EQ(tries, 3);
}

const auto spins = parsl::app("isolation_test.spins", [](std::string pidfile) -> int {
  std::ofstream(pidfile) << ::getpid() << "\n";
  for (;;) {
  }
}, isolated);

TEST(Isolation, WalltimeKillsTheIsolatedProcess) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto pidfile = (parsl::test::scratch_dir() / "spinner.pid").string();
  auto f = spins.with({.walltime = std::chrono::duration<double>(0.3)})(pidfile);
  EXPECT_THROW(f.get(), parsl::AppTimeout);
  dfk.wait_for_current_tasks();
  dfk.cleanup();  // returns: the pool thread is not stuck in the endless loop
  std::ifstream in(pidfile);
  pid_t child = 0;
  in >> child;
  ASSERT_GT(child, 0);
  EXPECT_NE(::kill(child, 0), 0) << "the spinning child " << child << " is still running";
}

TEST(Isolation, ConfigTurnsItOnForEveryApp) {
  parsl::Config c = parsl::test::thread_config();
  c.isolate_tasks = true;
  parsl::DataFlowKernel dfk(c);
  EXPECT_NE(plain_pid(1).get(), static_cast<int>(::getpid()));
}

TEST(Isolation, WhatAnIsolatedTryStartsEndsWithIt) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto pidfile = parsl::test::scratch_dir() / "isolated-child.pid";
  std::filesystem::remove(pidfile);
  EXPECT_EQ(leaves_child(pidfile.string()).get(), 0);
  long pid = 0;
  std::ifstream(pidfile) >> pid;
  ASSERT_GT(pid, 0);
  // Gone, or a zombie waiting for init, within a moment; never still running.
  bool running = true;
  for (int i = 0; i < 200 && running; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    running = std::getline(stat, line) && line.find(") Z") == std::string::npos;
    if (running) ::usleep(10000);
  }
  EXPECT_FALSE(running) << "the isolated try's background process " << pid << " outlived it";
  if (running) ::kill(static_cast<pid_t>(pid), SIGKILL);
}

}  // namespace
