// parsl::share with executors that run tasks in this process: tasks read the value itself
// (an isolated task, in a forked child, finds it by its id), the last handle releases it,
// and sharing needs a kernel.
#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

const auto total = parsl::app("shared_test.total", [](const parsl::Shared<std::vector<int>>& v, int add) {
  return std::accumulate(v->begin(), v->end(), 0) + add;
});
const auto total_isolated = parsl::app(
    "shared_test.total_isolated",
    [](const parsl::Shared<std::vector<int>>& v) { return std::accumulate(v->begin(), v->end(), 0); },
    parsl::AppOptions{.isolate = true});

TEST(Shared, TasksReadTheValueAndTheLastHandleReleasesIt) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const std::size_t before = parsl::detail::SharedStore::instance().size();
  {
    const auto v = parsl::share(std::vector<int>{1, 2, 3, 4});
    EXPECT_EQ(v->size(), 4U);
    EXPECT_EQ(parsl::detail::SharedStore::instance().size(), before + 1);
    std::vector<parsl::AppFuture<int>> fs;
    for (int i = 0; i < 20; ++i) fs.push_back(total(v, i));
    for (int i = 0; i < 20; ++i) EXPECT_EQ(fs[static_cast<std::size_t>(i)].get(), 10 + i);
    EXPECT_EQ(total_isolated(v).get(), 10);  // decoded from its id in the child
  }
  dfk.wait_for_current_tasks();
  EXPECT_EQ(parsl::detail::SharedStore::instance().size(), before);
}

// A handle's id comes from its value's content: two shares of equal values are one value
// (one copy on each worker) and one memo key, in this run and the next; different values two.
const auto cached_total = parsl::app(
    "shared_test.cached_total",
    [](const parsl::Shared<std::vector<int>>& v) { return std::accumulate(v->begin(), v->end(), 0); },
    parsl::AppOptions{.cache = true});

TEST(Shared, MemoKeysFollowTheValueNotTheHandle) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto a = parsl::share(std::vector<int>{1, 2, 3});
  const auto b = parsl::share(std::vector<int>{1, 2, 3});
  const auto c = parsl::share(std::vector<int>{4, 5, 6});
  EXPECT_EQ(a.id(), b.id());
  EXPECT_NE(a.id(), c.id());
  EXPECT_EQ(cached_total(a).get(), 6);
  EXPECT_EQ(cached_total(b).get(), 6);
  EXPECT_EQ(cached_total(c).get(), 15);
  dfk.wait_for_current_tasks();
  const auto counts = dfk.task_state_counts();
  EXPECT_EQ(counts[parsl::TaskState::memo_done], 1);  // b's call: a's result
  EXPECT_EQ(counts[parsl::TaskState::exec_done], 2);
}

TEST(Shared, SharingNeedsAKernelAndAMissingValueIsNamed) {
  EXPECT_THROW((void)parsl::share(std::string("no kernel")), parsl::KernelError);
  // A handle decoded on a worker that never got its value.
  parsl::Shared<std::string> unknown;
  const std::string bytes = parsl::serial::encode(std::uint64_t{987654321}) + parsl::serial::encode(parsl::serial::ContentHash{});
  unknown = parsl::serial::decode<parsl::Shared<std::string>>(bytes);
  try {
    (void)parsl::detail::SharedStore::instance().get(
        987654321, typeid(std::string).name(), [](const std::string&) { return std::shared_ptr<const void>(); },
        std::chrono::milliseconds(50));
    ADD_FAILURE() << "a value that never arrived was found";
  } catch (const parsl::KernelError& e) {
    EXPECT_NE(std::string(e.what()).find("shared value 987654321 is not on this worker"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(unknown.id(), 987654321U);
  EXPECT_THROW((void)*parsl::Shared<int>(), parsl::KernelError);  // an empty handle
}

}  // namespace
