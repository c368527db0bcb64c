// The MPI campaign of the kill -9 test: N cacheable tasks run on worker ranks with task_exit
// checkpoints; each run loads every earlier run's checkpoints. Side effects, appended to LOG
// one line each (O_APPEND, so lines from several ranks never interleave):
//   "loaded R I"   task I was in a checkpoint loaded at the start of run R (rank 0)
//   "started R"    run R has loaded its checkpoints and submits its tasks (rank 0)
//   "done R I"     task I ran to success in run R (on a worker rank)
//   "durable R I"  run R reported task I's result as checkpointed (rank 0, on_checkpoint)
// At the end rank 0 prints "total S", the sum of all results.
//   mpirun -np K checkpoint_campaign_mpi BASE LOG RUN N [--parsl-...]
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <parsl/parsl.hpp>
#include "../../runtime/programs/campaign_log.hpp"

inline const auto work = parsl::app("kill9_mpi.work", [](int i) {
  ::usleep(2000);
  campaign_log::line("done", i);
  return static_cast<long>(i) * i;
}, parsl::AppOptions{.cache = true});

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: checkpoint_campaign_mpi BASE LOG RUN N [--parsl-...]\n");
    return 2;
  }
  const std::filesystem::path base = argv[1];
  if (!campaign_log::open(argv[2], argv[3])) {
    std::perror(argv[2]);
    return 2;
  }
  const int n = std::atoi(argv[4]);
  parsl::Config c;
  try {
    c = parsl::Config::from_args(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  c.run_dir = base;
  c.log_level = parsl::LogLevel::warning;
  c.checkpoint_mode = parsl::CheckpointMode::task_exit;
  // Task ids count from 1 in submission order; the workflow checks that id == i + 1.
  c.on_checkpoint = [](const parsl::CheckpointReport& r) {
    for (std::uint64_t id : r.task_ids) campaign_log::line("durable", static_cast<long>(id) - 1);
  };
  if (parsl::launcher_rank() <= 0) c.checkpoint_files = parsl::get_all_checkpoints(base);
  const auto files = c.checkpoint_files;
  return parsl::run(argc, argv, std::move(c), [&] {
    campaign_log::loaded(files);
    campaign_log::line("started");
    std::vector<parsl::AppFuture<long>> fs;
    for (int i = 0; i < n; ++i) {
      fs.push_back(work(i));
      if (fs.back().task_id() != static_cast<std::uint64_t>(i) + 1)
        throw std::logic_error("task ids are not 1..N in submission order");
    }
    long total = 0;
    for (auto& f : fs) total += f.get();
    std::printf("total %ld\n", total);
  });
}
