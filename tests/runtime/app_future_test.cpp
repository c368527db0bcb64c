#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

struct Vec3 {
  double x = 0, y = 0, z = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(x, y, z);
  }
};

const auto add = parsl::app("future_test.add", [](int a, int b) { return a + b; });
const auto fail = parsl::app("future_test.fail", [](int) -> int { throw std::out_of_range("index 9 of 3"); });
const auto nothing = parsl::app("future_test.nothing", [](int) {});
const auto scale = parsl::app("future_test.scale", [](Vec3 v, double k) { return Vec3{v.x * k, v.y * k, v.z * k}; });
const auto slow = parsl::app("future_test.slow", [](int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
});

TEST(AppFuture, GetReturnsTheValueAndTaskIdsCount) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  auto a = add(1, 2);
  auto b = add(3, 4);
  EXPECT_EQ(a.get(), 3);
  EXPECT_EQ(b.get(), 7);
  EXPECT_EQ(a.task_id(), 1u);
  EXPECT_EQ(b.task_id(), 2u);
  EXPECT_TRUE(a.done());
  EXPECT_EQ(a.state(), parsl::TaskState::exec_done);
  EXPECT_EQ(a.exception(), nullptr);
}

TEST(AppFuture, GetRethrowsTheTasksOwnExceptionType) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  auto f = fail(1);
  EXPECT_THROW(f.get(), std::out_of_range);
  EXPECT_EQ(f.state(), parsl::TaskState::failed);
  try {
    std::rethrow_exception(f.exception());
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "index 9 of 3");
  }
}

TEST(AppFuture, WaitForTimesOutThenSucceeds) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  auto f = slow(200);
  EXPECT_FALSE(f.wait_for(10ms));
  EXPECT_FALSE(f.done());
  EXPECT_TRUE(f.wait_for(10s));
  f.wait();
  EXPECT_EQ(f.get(), 200);
}

TEST(AppFuture, VoidAppsAndUserTypes) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  auto v = nothing(1);
  v.get();
  EXPECT_EQ(v.state(), parsl::TaskState::exec_done);
  Vec3 r = scale(Vec3{1, 2, 3}, 2.0).get();
  EXPECT_DOUBLE_EQ(r.z, 6.0);
}

TEST(AppFuture, DoneCallbackRunsOnceWithTheFuture) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  std::atomic<int> calls{0}, seen{0};
  auto f = slow(50);
  f.add_done_callback([&](const parsl::AppFuture<int>& g) {
    seen = g.get();
    calls.fetch_add(1);
  });
  dfk.wait_for_current_tasks();
  // A callback added after completion runs at once, on this thread.
  f.add_done_callback([&](const parsl::AppFuture<int>&) { calls.fetch_add(1); });
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(seen.load(), 50);
}

TEST(AppFuture, RvalueGetIsSafe) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const int& x = add(20, 22).get();  // returned by value on a temporary: no dangling
  EXPECT_EQ(x, 42);
}

TEST(AppFuture, EmptyFutureIsAClearError) {
  parsl::AppFuture<int> f;
  EXPECT_FALSE(f.valid());
  EXPECT_THROW((void)f.done(), parsl::KernelError);
}

}  // namespace
