#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "test_support.hpp"

namespace {

std::atomic<int> g_runs{0};
const auto always_fails = parsl::app("retry_test.always_fails", [](int) -> int {
  g_runs.fetch_add(1);
  throw std::runtime_error("nope");
});
std::atomic<int> g_flaky_runs{0};
const auto flaky = parsl::app("retry_test.flaky", [](int fail_times) {
  if (g_flaky_runs.fetch_add(1) < fail_times) throw std::runtime_error("transient");
  return 7;
});

TEST(Retries, NoRetriesByDefault) {
  g_runs = 0;
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  EXPECT_THROW(always_fails(0).get(), std::runtime_error);
  EXPECT_EQ(g_runs.load(), 1);
}

TEST(Retries, EachFailureCostsOneWithoutAHandler) {
  g_runs = 0;
  parsl::Config c = parsl::test::thread_config();
  c.retries = 2;
  parsl::DataFlowKernel dfk(c);
  EXPECT_THROW(always_fails(0).get(), std::runtime_error);
  EXPECT_EQ(g_runs.load(), 3);  // 1 + 2 retries
}

TEST(Retries, HandlerPricesEachFailure) {
  g_runs = 0;
  parsl::Config c = parsl::test::thread_config();
  c.retries = 2;
  std::vector<std::uint32_t> tries_seen;
  c.retry_handler = [&](const std::exception_ptr& e, const parsl::TaskInfo& t) {
    EXPECT_THROW(std::rethrow_exception(e), std::runtime_error);
    EXPECT_EQ(t.app_name, "retry_test.always_fails");
    tries_seen.push_back(t.tries);
    return 0.5;
  };
  parsl::DataFlowKernel dfk(c);
  auto f = always_fails(0);
  EXPECT_THROW(f.get(), std::runtime_error);
  EXPECT_EQ(g_runs.load(), 5);  // costs 0.5, 1.0, 1.5, 2.0 retry; 2.5 > 2 fails
  EXPECT_EQ(tries_seen, (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(f.state(), parsl::TaskState::failed);
}

TEST(Retries, HandlerThatThrowsEndsTheTaskWithItsError) {
  g_runs = 0;
  parsl::Config c = parsl::test::thread_config();
  c.retries = 10;
  c.retry_handler = [](const std::exception_ptr&, const parsl::TaskInfo&) -> double {
    throw std::logic_error("handler says stop");
  };
  parsl::DataFlowKernel dfk(c);
  auto f = always_fails(0);
  try {
    f.get();
    FAIL();
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "handler says stop");
  }
  EXPECT_EQ(g_runs.load(), 1);
}

TEST(Retries, AreInvisibleToTheFuture) {
  g_flaky_runs = 0;
  parsl::Config c = parsl::test::inline_config();
  c.retries = 3;
  parsl::DataFlowKernel dfk(c);
  auto f = flaky(2);
  EXPECT_EQ(f.get(), 7);
  EXPECT_EQ(f.state(), parsl::TaskState::exec_done);
  EXPECT_EQ(g_flaky_runs.load(), 3);
}

TEST(Retries, APerCallBudgetOverridesTheConfig) {
  g_runs = 0;
  parsl::DataFlowKernel dfk(parsl::test::thread_config());  // Config::retries = 0
  EXPECT_THROW(always_fails.with({.retries = 2})(0).get(), std::runtime_error);
  EXPECT_EQ(g_runs.load(), 3);
  EXPECT_THROW(always_fails(0).get(), std::runtime_error);  // other calls keep the config's
  EXPECT_EQ(g_runs.load(), 4);
}

TEST(Retries, ZeroCostFailuresRetryUntilSuccess) {
  g_flaky_runs = 0;
  parsl::Config c = parsl::test::thread_config();
  c.retries = 0;
  c.retry_handler = [](const std::exception_ptr&, const parsl::TaskInfo&) { return 0.0; };
  parsl::DataFlowKernel dfk(c);
  EXPECT_EQ(flaky(4).get(), 7);
  EXPECT_EQ(g_flaky_runs.load(), 5);
}

}  // namespace
