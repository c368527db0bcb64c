// Cost of task_exit checkpointing per task (100,000 cacheable no-op tasks, inline executor,
// against the same run without checkpoints), and the rate of loading 1,000,000 checkpointed
// results. Medians of 3 runs; both sides measured in the same process.
//   build/benchmarks/checkpoint_bench [TASKS=100000] [ENTRIES=1000000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include <parsl/runtime.hpp>
#include "parsl/serial/checkpoint_file.hpp"

namespace fs = std::filesystem;
const auto noop = parsl::app("checkpoint_bench.noop", [](int x) { return x; }, parsl::AppOptions{.cache = true});

double run_tasks(const fs::path& base, parsl::CheckpointMode mode, int n) {
  parsl::Config c;
  c.executors.push_back(std::make_shared<parsl::InlineExecutor>());
  c.run_dir = base;
  c.log_level = parsl::LogLevel::warning;
  c.checkpoint_mode = mode;
  const auto t0 = std::chrono::steady_clock::now();
  {
    parsl::DataFlowKernel dfk(c);
    for (int i = 0; i < n; ++i) (void)noop(i);
  }  // includes the final flush
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  const int tasks = argc > 1 ? std::atoi(argv[1]) : 100000;
  const long entries = argc > 2 ? std::atol(argv[2]) : 1000000;
  const fs::path base = fs::temp_directory_path() / "parsl-checkpoint-bench";
  fs::remove_all(base);
  std::vector<double> off, on;
  for (int rep = 0; rep < 3; ++rep) {
    off.push_back(run_tasks(base / "off", parsl::CheckpointMode::none, tasks));
    on.push_back(run_tasks(base / "on", parsl::CheckpointMode::task_exit, tasks));
  }
  const double a = median(off), b = median(on);
  std::printf("%d cacheable no-op tasks: %.3f s without checkpoints, %.3f s with task_exit: %.2f us added per task\n",
              tasks, a, b, (b - a) / tasks * 1e6);

  // One million entries in 10 segments, loaded by a kernel at start-up.
  const fs::path dir = base / "load";
  fs::create_directories(dir);
  const long per = entries / 10;
  for (int s = 0; s < 10; ++s) {
    std::vector<parsl::serial::CheckpointEntry> seg;
    seg.reserve(static_cast<std::size_t>(per));
    for (long i = 0; i < per; ++i)
      seg.push_back({parsl::serial::hash_bytes(std::to_string(s * per + i)), parsl::serial::encode(static_cast<int>(i))});
    char name[32];
    std::snprintf(name, sizeof name, "seg-%06d.h5", s);
    parsl::serial::write_checkpoint_segment(dir / name, seg);
  }
  std::vector<double> loads;
  for (int rep = 0; rep < 3; ++rep) {
    parsl::Config c;
    c.executors.push_back(std::make_shared<parsl::InlineExecutor>());
    c.run_dir = base / "loader";
    c.log_level = parsl::LogLevel::warning;
    c.checkpoint_files = {dir};
    const auto t0 = std::chrono::steady_clock::now();
    parsl::DataFlowKernel dfk(c);
    loads.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (dfk.memo_size() != static_cast<std::size_t>(per * 10)) {
      std::fprintf(stderr, "loaded %zu entries, expected %ld\n", dfk.memo_size(), per * 10);
      return 1;
    }
  }
  const double l = median(loads);
  std::printf("loading %ld checkpointed results: %.3f s, %.2f million entries/s\n", per * 10, l, per * 10 / l / 1e6);
  fs::remove_all(base);
  return 0;
}
