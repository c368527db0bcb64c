// Priorities (lower first, first-in first-out among equals) with a single worker, whose
// queue (prefetch 16) or the root's (prefetch 0) decides the order.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "mpi_test_support.hpp"

namespace {

std::atomic<int> g_sequence{0};  // per worker process: the order tasks ran in
const auto blocker = parsl::app("priority_test.blocker", [](int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return g_sequence.fetch_add(1);
});
const auto stamp = parsl::app("priority_test.stamp", [](int) { return g_sequence.fetch_add(1); });

void check_order(const char* prefetch) {
  parsl::Config c = parsl::test::mpi_config();
  c.mpi_options["prefetch"] = prefetch;
  const int status = parsl::run(MPI_COMM_WORLD, c, [] {
    auto first = blocker(300);  // occupies the one worker while the rest queue up
    const int priorities[] = {5, 1, 3, 1, 0, 5, 2, 0, 3, 1};
    std::vector<std::pair<int, parsl::AppFuture<int>>> tasks;
    for (int i = 0; i < 10; ++i) tasks.emplace_back(priorities[i], stamp.with({.priority = priorities[i]})(i));
    first.get();
    std::vector<std::pair<int, int>> ran;  // (sequence, priority)
    for (auto& [p, f] : tasks) ran.emplace_back(f.get(), p);
    std::sort(ran.begin(), ran.end());
    for (std::size_t i = 1; i < ran.size(); ++i)
      EXPECT_LE(ran[i - 1].second, ran[i].second) << "task of priority " << ran[i].second << " ran before one of "
                                                   << ran[i - 1].second;
    // FIFO among equals: within a priority, submission order (task ids increase).
    std::vector<std::pair<int, std::uint64_t>> by_seq;
    for (auto& [p, f] : tasks) by_seq.emplace_back(f.get(), f.task_id());
    std::sort(by_seq.begin(), by_seq.end());
    for (std::size_t i = 1; i < by_seq.size(); ++i) {
      const int pa = tasks[by_seq[i - 1].second - 2].first, pb = tasks[by_seq[i].second - 2].first;
      if (pa == pb) {
        EXPECT_LT(by_seq[i - 1].second, by_seq[i].second);
      }
    }
  });
  EXPECT_EQ(status, 0);
}

TEST(Priorities, OrderedInTheWorkersQueue) { check_order("16"); }
TEST(Priorities, OrderedInTheRootsQueue) { check_order("0"); }

}  // namespace
