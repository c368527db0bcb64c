#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "test_support.hpp"

namespace {

const auto square = parsl::app("join_test.square", [](int x) { return x * x; });
const auto boom = parsl::app("join_test.boom", [](int x) -> int { throw std::runtime_error("bad " + std::to_string(x)); });

const auto square_later = parsl::join_app("join_test.square_later", [](int x) { return square(x); });
const auto squares = parsl::join_app("join_test.squares", [](int n) {
  std::vector<parsl::AppFuture<int>> out;
  for (int i = 1; i <= n; ++i) out.push_back(square(i));
  return out;
});
const auto some_fail = parsl::join_app("join_test.some_fail", [](int n) {
  std::vector<parsl::AppFuture<int>> out;
  for (int i = 0; i < n; ++i) out.push_back(i % 2 == 0 ? square(i) : boom(i));
  return out;
});
const auto returns_empty = parsl::join_app("join_test.returns_empty", [](int) { return parsl::AppFuture<int>(); });
// Recursive join: fib(n) = fib(n-1) + fib(n-2), each level a join app.
const auto add = parsl::app("join_test.add", [](int a, int b) { return a + b; });
const auto value = parsl::app("join_test.value", [](int a) { return a; });
extern const parsl::JoinApp<parsl::AppFuture<int> (*)(int)> fib;
parsl::AppFuture<int> fib_body(int n) {
  if (n < 2) return value(n);
  return add(fib(n - 1), fib(n - 2));
}
const parsl::JoinApp<parsl::AppFuture<int> (*)(int)> fib = parsl::join_app("join_test.fib", &fib_body);

TEST(JoinApp, CompletesWithTheInnerValue) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  auto f = square_later(9);
  EXPECT_EQ(f.get(), 81);
  EXPECT_EQ(f.state(), parsl::TaskState::exec_done);
}

TEST(JoinApp, VectorOfFuturesBecomesVectorOfValues) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  EXPECT_EQ(squares(4).get(), (std::vector<int>{1, 4, 9, 16}));
  EXPECT_TRUE(squares(0).get().empty());
}

TEST(JoinApp, RecursiveJoinApps) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  EXPECT_EQ(fib(12).get(), 144);
}

TEST(JoinApp, InnerFailuresAreAllListed) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  auto f = some_fail(5);  // indices 1 and 3 fail
  try {
    f.get();
    FAIL();
  } catch (const parsl::JoinError& e) {
    ASSERT_EQ(e.failures().size(), 2u);
    EXPECT_NE(std::string(e.what()).find("bad 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bad 3"), std::string::npos) << e.what();
    EXPECT_EQ(e.task_id(), f.task_id());
  }
  EXPECT_EQ(f.state(), parsl::TaskState::failed);
}

TEST(JoinApp, EmptyFutureFailsClearly) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  try {
    returns_empty(1).get();
    FAIL();
  } catch (const parsl::JoinError& e) {
    EXPECT_NE(std::string(e.what()).find("returned an empty AppFuture"), std::string::npos) << e.what();
  }
}

TEST(JoinApp, StateIsJoiningWhileInnerTasksRun) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  parsl::test::Gate gate;
  const auto gated = parsl::app("join_test.gated", [&gate](int x) {
    gate.wait();
    return x;
  });
  const auto wrap = parsl::join_app("join_test.wrap", [&](int x) { return gated(x); });
  auto f = wrap(5);
  for (int i = 0; i < 1000 && f.state() != parsl::TaskState::joining; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(f.state(), parsl::TaskState::joining);
  EXPECT_EQ(dfk.task_state_counts()[parsl::TaskState::joining], 1);
  gate.release();
  EXPECT_EQ(f.get(), 5);
}

}  // namespace
