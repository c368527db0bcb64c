#include <gtest/gtest.h>

#include <fstream>
#include <numeric>

#include "test_support.hpp"

namespace {

const auto inc = parsl::app("scale_test.inc", [](std::int64_t x) { return x + 1; });
const auto noop = parsl::app("scale_test.noop", [](int) { return 0; });
const auto sum = parsl::app("scale_test.sum", [](const std::vector<std::int64_t>& v) {
  return std::accumulate(v.begin(), v.end(), std::int64_t{0});
});

constexpr int kDepth = 100'000;

long resident_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// Builds the whole chain while its head is blocked, so completion cascades through every
// link at once on one thread: the kernel must do that without recursion.
TEST(Scale, DeepChainCompletesInline) {
  parsl::Config c;
  c.run_dir = parsl::test::scratch_dir() / "runinfo";
  c.executors.push_back(std::make_shared<parsl::ThreadPoolExecutor>(1, "gate"));
  c.executors.push_back(std::make_shared<parsl::InlineExecutor>("inline"));
  parsl::DataFlowKernel dfk(c);
  parsl::test::Gate gate;
  const auto head = parsl::app("scale_test.head", [&gate](std::int64_t x) {
    gate.wait();
    return x;
  }, parsl::AppOptions{.executors = {"gate"}});
  const auto step = parsl::app("scale_test.step", [](std::int64_t x) { return x + 1; },
                               parsl::AppOptions{.executors = {"inline"}});
  parsl::AppFuture<std::int64_t> f = head(0);
  for (int i = 0; i < kDepth; ++i) f = step(f);
  gate.release();
  EXPECT_EQ(f.get(), kDepth);
}

TEST(Scale, DeepChainOnThreadPool) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config(2));
  parsl::AppFuture<std::int64_t> f = inc(0);
  for (int i = 1; i < kDepth; ++i) f = inc(f);
  EXPECT_EQ(f.get(), kDepth);
}

TEST(Scale, DeepDependencyFailureCascade) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config(2));
  parsl::test::Gate gate;
  const auto failing_head = parsl::app("scale_test.failing_head", [&gate](std::int64_t) -> std::int64_t {
    gate.wait();
    throw std::runtime_error("root failure");
  });
  auto h = failing_head(0);
  parsl::AppFuture<std::int64_t> f = h;
  for (int i = 0; i < kDepth; ++i) f = inc(f);
  gate.release();
  try {
    f.get();
    FAIL();
  } catch (const parsl::DependencyError& e) {
    EXPECT_EQ(e.root_task_id(), h.task_id());
    EXPECT_EQ(e.chain_length(), static_cast<std::uint64_t>(kDepth));
    EXPECT_EQ(e.chain().size(), parsl::DependencyError::kMaxChainShown);
    EXPECT_NE(std::string(e.what()).find("root failure"), std::string::npos);
  }
  EXPECT_EQ(dfk.task_state_counts()[parsl::TaskState::dep_fail], kDepth);
}

TEST(Scale, WideFanIn) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config(2));
  std::vector<parsl::AppFuture<std::int64_t>> parts;
  parts.reserve(kDepth);
  for (int i = 0; i < kDepth; ++i) parts.push_back(inc(i));
  EXPECT_EQ(sum(parts).get(), static_cast<std::int64_t>(kDepth) * (kDepth + 1) / 2);
}

// Ten million tasks: the kernel keeps no record of finished tasks, so resident memory
// after the first million stays flat.
TEST(Scale, TenMillionTasksInBoundedMemory) {
  parsl::DataFlowKernel dfk(parsl::test::inline_config());
  for (int i = 0; i < 1'000'000; ++i) (void)noop(i);
  const long after_first_million = resident_kib();
  for (int i = 0; i < 9'000'000; ++i) (void)noop(i);
  const long after_ten_million = resident_kib();
  EXPECT_EQ(dfk.task_state_counts()[parsl::TaskState::exec_done], 10'000'000);
  EXPECT_LT(after_ten_million - after_first_million, 8 * 1024)
      << "RSS grew from " << after_first_million << " KiB to " << after_ten_million << " KiB";
}

}  // namespace
