#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <atomic>
#include <fstream>
#include <limits>

#include "parsl/serial/checkpoint_file.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
std::atomic<int> g_runs{0};
const auto costly = parsl::app("checkpoint_test.costly", [](int x) {
  g_runs.fetch_add(1);
  return x * x;
}, parsl::AppOptions{.cache = true});
std::atomic<int> g_fail_runs{0};
const auto fails_first = parsl::app("checkpoint_test.fails_first", [](int x) -> int {
  if (g_fail_runs.fetch_add(1) == 0) throw std::runtime_error("first run fails");
  return x;
}, parsl::AppOptions{.cache = true});

parsl::Config config_in(const fs::path& base, parsl::CheckpointMode mode) {
  parsl::Config c = parsl::test::thread_config();
  c.run_dir = base;
  c.checkpoint_mode = mode;
  return c;
}

std::size_t segments_in(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) n += e.path().extension() == ".h5";
  return n;
}

TEST(Checkpoint, TaskExitThenANewRunSkipsWhatFinished) {
  const auto base = parsl::test::scratch_dir() / "ckpt-task-exit";
  g_runs = 0;
  {
    parsl::DataFlowKernel dfk(config_in(base, parsl::CheckpointMode::task_exit));
    for (int i = 0; i < 50; ++i) costly(i);
  }
  EXPECT_EQ(g_runs.load(), 50);
  const auto last = parsl::get_last_checkpoint(base);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_GE(segments_in(last[0]), 1u);

  parsl::Config c = config_in(base, parsl::CheckpointMode::task_exit);
  c.checkpoint_files = last;
  parsl::DataFlowKernel dfk(c);
  EXPECT_EQ(dfk.memo_size(), 50u);
  std::vector<parsl::AppFuture<int>> again;
  for (int i = 0; i < 60; ++i) again.push_back(costly(i));
  for (int i = 0; i < 60; ++i) EXPECT_EQ(again[static_cast<std::size_t>(i)].get(), i * i);
  EXPECT_EQ(again[0].state(), parsl::TaskState::memo_done);
  EXPECT_EQ(g_runs.load(), 60);  // only the 10 new calls ran
  EXPECT_EQ(dfk.task_state_counts()[parsl::TaskState::memo_done], 50);
}

TEST(Checkpoint, FailedTasksAreNotCheckpointed) {
  const auto base = parsl::test::scratch_dir() / "ckpt-failed";
  g_fail_runs = 0;
  {
    parsl::DataFlowKernel dfk(config_in(base, parsl::CheckpointMode::task_exit));
    EXPECT_THROW(fails_first(7).get(), std::runtime_error);
  }
  parsl::Config c = config_in(base, parsl::CheckpointMode::none);
  c.checkpoint_files = parsl::get_all_checkpoints(base);
  parsl::DataFlowKernel dfk(c);
  EXPECT_EQ(dfk.memo_size(), 0u);
  EXPECT_EQ(fails_first(7).get(), 7);  // it runs again
  EXPECT_EQ(g_fail_runs.load(), 2);
}

TEST(Checkpoint, ManualDfkExitAndPeriodicModes) {
  const auto base = parsl::test::scratch_dir() / "ckpt-modes";
  {
    parsl::DataFlowKernel dfk(config_in(base, parsl::CheckpointMode::manual));
    costly(100).get();
    costly(101).get();
    EXPECT_EQ(dfk.checkpoint(), 2u);
    EXPECT_EQ(segments_in(dfk.run_dir() / "checkpoint"), 1u);
    EXPECT_EQ(dfk.checkpoint(), 0u);  // nothing new
  }
  fs::path dir;
  {
    parsl::DataFlowKernel dfk(config_in(base, parsl::CheckpointMode::dfk_exit));
    dir = dfk.run_dir() / "checkpoint";
    costly(102).get();
    EXPECT_EQ(segments_in(dir), 0u);  // not before the kernel exits
  }
  EXPECT_EQ(segments_in(dir), 1u);
  {
    parsl::Config c = config_in(base, parsl::CheckpointMode::periodic);
    c.checkpoint_period = std::chrono::milliseconds(100);
    parsl::DataFlowKernel dfk(c);
    costly(103).get();
    for (int i = 0; i < 100 && segments_in(dfk.run_dir() / "checkpoint") == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(segments_in(dfk.run_dir() / "checkpoint"), 1u);  // written while the kernel runs
  }
  EXPECT_EQ(parsl::get_all_checkpoints(base).size(), 3u);
}

TEST(Checkpoint, OnCheckpointReportsEachDurableTaskOnce) {
  const auto base = parsl::test::scratch_dir() / "ckpt-report";
  std::mutex m;
  std::vector<std::uint64_t> reported;
  std::vector<fs::path> segments;
  parsl::Config c = config_in(base, parsl::CheckpointMode::task_exit);
  c.on_checkpoint = [&](const parsl::CheckpointReport& r) {
    EXPECT_TRUE(fs::exists(r.segment)) << r.segment;  // durable before it is reported
    std::lock_guard lock(m);
    reported.insert(reported.end(), r.task_ids.begin(), r.task_ids.end());
    segments.push_back(r.segment);
  };
  std::vector<std::uint64_t> ids;
  {
    parsl::DataFlowKernel dfk(c);
    for (int i = 0; i < 200; ++i) ids.push_back(costly(1000 + i).task_id());
    g_fail_runs = 0;
    fails_first(5).exception();  // fails: never checkpointed, never reported
  }
  std::sort(reported.begin(), reported.end());
  EXPECT_EQ(reported, ids);
  std::size_t entries = 0;
  for (const auto& s : segments) entries += parsl::serial::read_checkpoint_segment(s).size();
  EXPECT_EQ(entries, ids.size());
}

TEST(Checkpoint, AFailedWriteKeepsTheResultsForTheNextOne) {
  const auto base = parsl::test::scratch_dir() / "ckpt-write-fails";
  parsl::DataFlowKernel dfk(config_in(base, parsl::CheckpointMode::manual));
  costly(2000).get();
  costly(2001).get();
  const fs::path dir = dfk.run_dir() / "checkpoint";
  fs::remove_all(dir);
  std::ofstream(dir) << "not a folder";  // the segment cannot be written
  EXPECT_THROW(dfk.checkpoint(), parsl::CheckpointError);
  fs::remove(dir);
  fs::create_directories(dir);
  costly(2002).get();
  EXPECT_EQ(dfk.checkpoint(), 3u);  // the two from the failed write and the new one
}

TEST(Checkpoint, ABadCheckpointStopsTheStartAndNamesTheFile) {
  const auto bad = parsl::test::scratch_dir() / "bad-segment.h5";
  std::ofstream(bad) << "definitely not HDF5";
  parsl::Config c = parsl::test::thread_config();
  c.checkpoint_files = {bad};
  try {
    parsl::DataFlowKernel dfk(c);
    FAIL();
  } catch (const parsl::CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find(bad.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Move that file aside"), std::string::npos) << e.what();
  }
  parsl::DataFlowKernel after(parsl::test::thread_config());  // nothing was left half-started
  EXPECT_EQ(costly(3).get(), 9);
}

TEST(Checkpoint, APeriodOutsideZeroToAYearIsAConfigError) {
  for (double bad : {0.0, -1.0, 1e12, std::numeric_limits<double>::infinity()}) {
    parsl::Config c = parsl::test::thread_config();
    c.checkpoint_mode = parsl::CheckpointMode::periodic;
    c.checkpoint_period = std::chrono::duration<double>(bad);
    EXPECT_THROW(parsl::DataFlowKernel dfk(c), parsl::ConfigError) << bad;
  }
}

TEST(Checkpoint, AMissingCheckpointFileIsNamedWithTheRightAdvice) {
  parsl::Config c = parsl::test::thread_config();
  c.checkpoint_files = {parsl::test::scratch_dir() / "no-such-segment.h5"};
  try {
    parsl::DataFlowKernel dfk(c);
    FAIL();
  } catch (const parsl::CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-segment.h5: does not exist"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("give the right path"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("Move that file aside"), std::string::npos) << e.what();
  }
}

// The defect this guards against: one changed byte inside a segment's stored values was
// accepted, and the next run served the altered value as memo_done.
TEST(Checkpoint, AnAlteredResultIsNeverServed) {
  const auto base = parsl::test::scratch_dir() / "ckpt-altered";
  fs::remove_all(base);
  {
    parsl::DataFlowKernel dfk(config_in(base, parsl::CheckpointMode::dfk_exit));
    EXPECT_EQ(costly(12).get(), 144);
  }
  const auto dir = parsl::get_last_checkpoint(base);
  ASSERT_EQ(dir.size(), 1u);
  const auto segs = parsl::serial::checkpoint_segments(dir[0]);
  ASSERT_EQ(segs.size(), 1u);
  // Find the encoded 144 (an int) in the file and change it to 145.
  std::string bytes;
  {
    std::ifstream in(segs[0], std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const int value = 144;
  const auto at = bytes.rfind(std::string(reinterpret_cast<const char*>(&value), sizeof value));
  ASSERT_NE(at, std::string::npos);
  bytes[at] = static_cast<char>(145);
  std::ofstream(segs[0], std::ios::binary | std::ios::trunc) << bytes;

  g_runs = 0;
  parsl::Config c = config_in(base, parsl::CheckpointMode::none);
  c.checkpoint_files = dir;
  try {
    parsl::DataFlowKernel dfk(c);
    ADD_FAILURE() << "the altered segment was accepted; 12 now gives " << costly(12).get();
  } catch (const parsl::CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find(segs[0].string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fails its checksum"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nothing was run"), std::string::npos) << e.what();
  }
  EXPECT_EQ(g_runs.load(), 0);
}

}  // namespace
