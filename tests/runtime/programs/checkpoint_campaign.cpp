// A campaign for the kill -9 test: N cacheable tasks with task_exit checkpoints; each run
// loads every earlier run's checkpoint. Side effects, appended to LOG one line each:
//   "loaded R I"  task I was found in a checkpoint at the start of run R
//   "ran R I"     task I executed in run R
// At the end it prints "total S" (the sum of all results).
//   checkpoint_campaign BASE LOG RUN N
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <parsl/runtime.hpp>
#include "parsl/serial/checkpoint_file.hpp"

namespace {
int g_log = -1;
std::string g_run;
void log_line(const std::string& line) {
  const std::string l = line + "\n";
  if (::write(g_log, l.data(), l.size()) < 0) std::abort();  // O_APPEND: one whole line each
}
}  // namespace

inline const auto work = parsl::app("kill9.work", [](int i) {
  log_line("ran " + g_run + " " + std::to_string(i));
  ::usleep(500);
  return static_cast<long>(i) * i;
}, parsl::AppOptions{.cache = true});

int main(int argc, char** argv) {
  if (argc != 5) return 2;
  const std::filesystem::path base = argv[1];
  g_log = ::open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
  g_run = argv[3];
  const int n = std::atoi(argv[4]);
  parsl::Config c;
  c.executors.push_back(std::make_shared<parsl::ThreadPoolExecutor>(2));
  c.run_dir = base;
  c.log_level = parsl::LogLevel::warning;
  c.checkpoint_mode = parsl::CheckpointMode::task_exit;
  c.checkpoint_files = parsl::get_all_checkpoints(base);
  // What this run will skip: the values in the checkpoints are the task ids' squares.
  for (const auto& dir : c.checkpoint_files)
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".h5")
        for (const auto& entry : parsl::serial::read_checkpoint_segment(e.path())) {
          const long sq = parsl::serial::decode<long>(entry.value);
          long i = 0;
          while (i * i < sq) ++i;
          log_line("loaded " + g_run + " " + std::to_string(i));
        }
  parsl::DataFlowKernel dfk(c);
  std::vector<parsl::AppFuture<long>> fs;
  for (int i = 0; i < n; ++i) fs.push_back(work(i));
  long total = 0;
  for (auto& f : fs) total += f.get();
  std::printf("total %ld\n", total);
  return 0;
}
