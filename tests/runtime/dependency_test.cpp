#include <gtest/gtest.h>

#include <array>
#include <map>
#include <stdexcept>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "test_support.hpp"

namespace {

const auto value = parsl::app("dep_test.value", [](int x) { return x; });
const auto boom = parsl::app("dep_test.boom", [](int) -> int { throw std::runtime_error("boom"); });
const auto inc = parsl::app("dep_test.inc", [](int x) { return x + 1; });
const auto sum_vec = parsl::app("dep_test.sum_vec", [](const std::vector<int>& v) {
  int s = 0;
  for (int x : v) s += x;
  return s;
});
const auto sum_arr = parsl::app("dep_test.sum_arr", [](std::array<int, 3> a) { return a[0] + a[1] + a[2]; });
const auto sum_tuple = parsl::app("dep_test.sum_tuple", [](std::tuple<int, double, std::string> t) {
  return std::get<0>(t) + static_cast<int>(std::get<1>(t)) + static_cast<int>(std::get<2>(t).size());
});
const auto sum_pair = parsl::app("dep_test.sum_pair", [](std::pair<int, int> p) { return p.first * p.second; });
const auto sum_map = parsl::app("dep_test.sum_map", [](const std::map<std::string, int>& m) {
  int s = 0;
  for (const auto& [k, v] : m) s += v * static_cast<int>(k.size());
  return s;
});
const auto sum_umap = parsl::app("dep_test.sum_umap", [](const std::unordered_map<int, int>& m) {
  int s = 0;
  for (const auto& [k, v] : m) s += k * v;
  return s;
});
const auto to_double = parsl::app("dep_test.to_double", [](double d) { return d * 2; });

TEST(Dependencies, FutureArgumentsResolveToValues) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  auto a = value(1), b = value(2), c = value(3);
  EXPECT_EQ(sum_vec(std::vector<parsl::AppFuture<int>>{a, b, c}).get(), 6);
  EXPECT_EQ(sum_arr(std::array<parsl::AppFuture<int>, 3>{a, b, c}).get(), 6);
  EXPECT_EQ(sum_tuple(std::make_tuple(a, 2.0, std::string("xyz"))).get(), 1 + 2 + 3);
  EXPECT_EQ(sum_pair(std::make_pair(b, c)).get(), 6);
  std::map<std::string, parsl::AppFuture<int>> m{{"a", a}, {"bb", b}};
  EXPECT_EQ(sum_map(m).get(), 1 * 1 + 2 * 2);
  std::unordered_map<int, parsl::AppFuture<int>> um{{10, a}, {100, c}};
  EXPECT_EQ(sum_umap(um).get(), 10 + 300);
  EXPECT_DOUBLE_EQ(to_double(a).get(), 2.0);  // AppFuture<int> converts to a double parameter
}

TEST(Dependencies, TaskWaitsForItsInputs) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  parsl::test::Gate gate;
  const auto gated = parsl::app("dep_test.gated", [&gate](int x) {
    gate.wait();
    return x;
  });
  auto g = gated(41);
  auto next = inc(g);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(next.state(), parsl::TaskState::pending);
  gate.release();
  EXPECT_EQ(next.get(), 42);
}

TEST(Dependencies, FailureChainNamesAncestorsAndRootCause) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  auto t1 = boom(0);   // task 1
  auto t2 = inc(t1);   // task 2: dep_fail
  auto t3 = inc(t2);   // task 3: dep_fail
  t3.wait();
  EXPECT_EQ(t2.state(), parsl::TaskState::dep_fail);
  EXPECT_EQ(t3.state(), parsl::TaskState::dep_fail);
  try {
    t3.get();
    FAIL() << "must throw";
  } catch (const parsl::DependencyError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("Dependency failure for task 3: caused by task 2 <- task 1", 0), 0u)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("std::runtime_error: boom"), std::string::npos) << e.what();
    EXPECT_EQ(e.root_task_id(), 1u);
    EXPECT_EQ(e.failed_dependencies(), std::vector<std::uint64_t>{2});
    EXPECT_EQ(e.chain(), (std::vector<std::uint64_t>{2, 1}));
    EXPECT_THROW(std::rethrow_exception(e.root_cause()), std::runtime_error);
  }
  auto counts = dfk.task_state_counts();
  EXPECT_EQ(counts[parsl::TaskState::failed], 1);
  EXPECT_EQ(counts[parsl::TaskState::dep_fail], 2);
}

TEST(Dependencies, DependencyFailuresAreNeverRun) {
  parsl::Config config = parsl::test::thread_config();
  config.retries = 3;
  parsl::DataFlowKernel dfk(config);
  std::atomic<int> runs{0};
  const auto counted = parsl::app("dep_test.counted", [&runs](int x) {
    runs.fetch_add(1);
    return x;
  });
  auto f = counted(boom(0));
  EXPECT_THROW(f.get(), parsl::DependencyError);
  EXPECT_EQ(runs.load(), 0);
}

TEST(Dependencies, EmptyFutureArgumentIsAClearError) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  try {
    (void)inc(parsl::AppFuture<int>());
    FAIL();
  } catch (const parsl::KernelError& e) {
    EXPECT_NE(std::string(e.what()).find("empty AppFuture"), std::string::npos) << e.what();
  }
  std::vector<parsl::AppFuture<int>> holes(2);
  EXPECT_THROW((void)sum_vec(holes), parsl::KernelError);
  EXPECT_EQ(dfk.outstanding(), 0);
}

TEST(Dependencies, AllFailedInputsAreListed) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  auto ok = value(1);
  auto bad1 = boom(1), bad2 = boom(2);
  auto f = sum_vec(std::vector<parsl::AppFuture<int>>{ok, bad1, bad2});
  try {
    f.get();
    FAIL();
  } catch (const parsl::DependencyError& e) {
    EXPECT_EQ(e.failed_dependencies(), (std::vector<std::uint64_t>{bad1.task_id(), bad2.task_id()}));
  }
}

}  // namespace
