#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "test_support.hpp"

namespace {

std::string thread_tag() {
  std::ostringstream s;
  s << std::this_thread::get_id();
  return s.str();
}

const auto where = parsl::app("executor_test.where", [](int) { return thread_tag(); });
const auto only_b = parsl::app("executor_test.only_b", [](int) { return thread_tag(); },
                               parsl::AppOptions{.executors = {"b"}});
const auto unknown = parsl::app("executor_test.unknown", [](int x) { return x; },
                                parsl::AppOptions{.executors = {"gpu"}});

TEST(Executors, AppsChooseByLabel) {
  parsl::Config c;
  c.run_dir = parsl::test::scratch_dir() / "runinfo";
  c.executors.push_back(std::make_shared<parsl::InlineExecutor>("a"));
  c.executors.push_back(std::make_shared<parsl::ThreadPoolExecutor>(1, "b"));
  parsl::DataFlowKernel dfk(c);
  const std::string main_thread = thread_tag();
  for (int i = 0; i < 10; ++i) EXPECT_NE(only_b(i).get(), main_thread);
  // Without labels, tasks spread over both executors.
  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) seen.insert(where(i).get());
  EXPECT_EQ(seen.count(main_thread), 1u);
  EXPECT_EQ(seen.size(), 2u);
}

TEST(Executors, UnknownLabelIsAClearErrorAtTheCall) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  try {
    (void)unknown(1);
    FAIL();
  } catch (const parsl::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'gpu'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("threads"), std::string::npos) << e.what();
  }
  EXPECT_EQ(dfk.outstanding(), 0);
}

TEST(Executors, BadLabelsAreRejectedAtStart) {
  parsl::Config c = parsl::test::thread_config();
  c.executors.push_back(std::make_shared<parsl::ThreadPoolExecutor>(1));  // second "threads"
  EXPECT_THROW(parsl::DataFlowKernel{c}, parsl::ConfigError);
  parsl::Config d = parsl::test::thread_config();
  d.executors.push_back(std::make_shared<parsl::ThreadPoolExecutor>(1, "_parsl_mine"));
  EXPECT_THROW(parsl::DataFlowKernel{d}, parsl::ConfigError);
  parsl::Config e = parsl::test::thread_config();
  e.executors.push_back(nullptr);
  EXPECT_THROW(parsl::DataFlowKernel{e}, parsl::ConfigError);
}

TEST(Executors, ThreadPoolRunsTasksConcurrently) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config(2));
  // Each task waits (up to 10 s) until both are inside: only concurrency lets both see 2.
  std::atomic<int> inside{0};
  const auto meet = parsl::app("executor_test.meet", [&](int) {
    inside.fetch_add(1);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (inside.load() < 2 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return inside.load();
  });
  auto a = meet(1), b = meet(2);
  EXPECT_EQ(a.get(), 2);
  EXPECT_EQ(b.get(), 2);
}

std::atomic<int> g_sequence{0};
std::atomic<bool> g_holding{false};
const auto hold = parsl::app("executor_test.hold", [](int ms) {
  g_holding = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return g_sequence.fetch_add(1);
});
const auto stamp = parsl::app("executor_test.stamp", [](int) { return g_sequence.fetch_add(1); });

TEST(Executors, ThreadPoolStartsQueuedTasksByPriorityThenInOrder) {
  parsl::Config c;
  c.run_dir = parsl::test::scratch_dir() / "runinfo";
  c.executors.push_back(std::make_shared<parsl::ThreadPoolExecutor>(1, "one"));
  parsl::DataFlowKernel dfk(c);
  g_sequence = 0;
  g_holding = false;
  auto first = hold(200);  // occupies the one thread while the rest queue up
  while (!g_holding) std::this_thread::yield();  // (else the most urgent would go first)
  const int priorities[] = {5, 1, 3, 1, 0, 5, -2, 0, 3, 1};
  std::vector<parsl::AppFuture<int>> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back(stamp.with({.priority = priorities[i]})(i));
  EXPECT_EQ(first.get(), 0);
  std::vector<std::pair<int, int>> order;  // (sequence, submission index)
  for (int i = 0; i < 10; ++i) order.emplace_back(tasks[static_cast<std::size_t>(i)].get(), i);
  std::sort(order.begin(), order.end());
  std::vector<int> ran;
  for (auto& [seq, i] : order) ran.push_back(i);
  // Lower priority first; equal priorities in submission order.
  EXPECT_EQ(ran, (std::vector<int>{6, 4, 7, 1, 3, 9, 2, 8, 0, 5}));
}

std::array<std::atomic<int>, 2000> g_runs_of{};
const auto count_run = parsl::app("executor_test.count_run", [](int i) {
  return g_runs_of[static_cast<std::size_t>(i)].fetch_add(1) + 1;
});

TEST(Executors, ThreadPoolWithManyDistinctPrioritiesRunsEachTaskOnce) {
  // 97 priorities in turn: the per-priority queues come and go (more than 8 are pruned).
  parsl::Config c;
  c.run_dir = parsl::test::scratch_dir() / "runinfo";
  c.executors.push_back(std::make_shared<parsl::ThreadPoolExecutor>(2, "two"));
  parsl::DataFlowKernel dfk(c);
  for (auto& r : g_runs_of) r = 0;
  std::vector<parsl::AppFuture<int>> tasks;
  for (int i = 0; i < 2000; ++i) tasks.push_back(count_run.with({.priority = i % 97 - 48})(i));
  for (auto& f : tasks) EXPECT_EQ(f.get(), 1);  // its own first and only run
  for (std::size_t i = 0; i < g_runs_of.size(); ++i) EXPECT_EQ(g_runs_of[i].load(), 1) << "task " << i;
}

}  // namespace
