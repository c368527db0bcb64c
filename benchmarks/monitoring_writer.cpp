// The monitoring writer alone: the records of TASKS no-op tasks of an executor that runs
// tasks elsewhere (what an MPI run's kernel pushes: the task, its launch, the worker's
// report, its end), pushed as fast as one thread can, then the time until the database is
// complete (the writer's flush and its indexes). Prints records pushed per second, tasks
// written per second and microseconds per task, as the median of RUNS runs.
//   build/benchmarks/monitoring_writer [TASKS=200000] [RUNS=3]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include <parsl/runtime.hpp>
#include "../runtime/src/monitoring.hpp"

namespace {

struct RemoteExecutor final : parsl::Executor {
  RemoteExecutor() : Executor("mpi") {}
  void submit(parsl::TaskHandle) override {}
  void shutdown() override {}
  bool runs_in_process() const noexcept override { return false; }
};

struct Times {
  double push, total;
};

Times run(const std::filesystem::path& file, int tasks) {
  using parsl::TaskState;
  const RemoteExecutor mpi;
  const auto t0 = std::chrono::steady_clock::now();
  double push = 0;
  {
    parsl::detail::MonitoringDb db(file, "bench", "bench", file.parent_path().string());
    const std::int64_t start =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    for (int i = 1; i <= tasks; ++i) {
      const auto id = static_cast<std::uint64_t>(i);
      db.task(id, "bench.noop", false, "");
      db.state_changed(id, 1, TaskState::pending, TaskState::launched, &mpi, "", 0);
      db.try_worker(id, 1, 1 + i % 64, "node0", "3", start + i * 2, start + i * 2 + 1);
      db.state_changed(id, 1, TaskState::launched, TaskState::exec_done, &mpi, "", 0);
    }
    push = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return {push, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

}  // namespace

int main(int argc, char** argv) {
  const int tasks = argc > 1 ? std::atoi(argv[1]) : 200000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  if (tasks <= 0 || runs <= 0) {
    std::fprintf(stderr, "usage: monitoring_writer [TASKS>0] [RUNS>0]\n");
    return 2;
  }
  const auto dir = std::filesystem::temp_directory_path() / ("monitoring_writer." + std::to_string(::getpid()));
  std::vector<double> push, total;
  std::uintmax_t bytes = 0;
  for (int r = 0; r < runs; ++r) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const Times t = run(dir / "monitoring.db", tasks);
    push.push_back(t.push);
    total.push_back(t.total);
    bytes = std::filesystem::file_size(dir / "monitoring.db");
  }
  std::filesystem::remove_all(dir);
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double p = median(push), t = median(total);
  std::printf("%d tasks, median of %d: pushed in %.3f s (%.0f tasks/s); database complete in %.3f s: %.0f tasks/s, "
              "%.2f us per task, %ju bytes per task\n",
              tasks, runs, p, tasks / p, t, tasks / t, 1e6 * t / tasks, bytes / static_cast<std::uintmax_t>(tasks));
}
