// A campaign for the kill -9 test: N cacheable tasks with task_exit checkpoints; each run
// loads every earlier run's checkpoint. Side effects, appended to LOG one line each:
//   "loaded R I"  task I was found in a checkpoint at the start of run R
//   "ran R I"     task I executed in run R
// At the end it prints "total S" (the sum of all results).
//   checkpoint_campaign BASE LOG RUN N
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <parsl/runtime.hpp>
#include "campaign_log.hpp"

inline const auto work = parsl::app("kill9.work", [](int i) {
  campaign_log::line("ran", i);
  ::usleep(500);
  return static_cast<long>(i) * i;
}, parsl::AppOptions{.cache = true});

int main(int argc, char** argv) {
  if (argc != 5 || !campaign_log::open(argv[2], argv[3])) return 2;
  const std::filesystem::path base = argv[1];
  const int n = std::atoi(argv[4]);
  parsl::Config c;
  c.executors.push_back(std::make_shared<parsl::ThreadPoolExecutor>(2));
  c.run_dir = base;
  c.log_level = parsl::LogLevel::warning;
  c.checkpoint_mode = parsl::CheckpointMode::task_exit;
  c.checkpoint_files = parsl::get_all_checkpoints(base);
  campaign_log::loaded(c.checkpoint_files);
  parsl::DataFlowKernel dfk(c);
  std::vector<parsl::AppFuture<long>> fs;
  for (int i = 0; i < n; ++i) fs.push_back(work(i));
  long total = 0;
  for (auto& f : fs) total += f.get();
  std::printf("total %ld\n", total);
  return 0;
}
