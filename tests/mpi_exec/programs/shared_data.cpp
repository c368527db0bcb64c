// parsl::share under MPI: a value placed on the workers once, read by many tasks by handle,
// and dropped by the workers when its last handle is gone. Exit 0 when:
//   - every task saw the shared value whole (its checksum) and its own argument;
//   - each worker decoded the value once: every task there read the same object;
//   - after the handle is gone, probes on every worker find no shared value left.
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <set>
#include <vector>

#include <parsl/parsl.hpp>

inline const auto use = parsl::app("shared_data.use", [](const parsl::Shared<std::vector<double>>& ref, int i) {
  const std::vector<double>& v = *ref;  // decoded once per worker
  return std::make_pair(std::accumulate(v.begin(), v.end(), 0.0) + i, reinterpret_cast<std::uintptr_t>(&v));
});
inline const auto held = parsl::app("shared_data.held", [](int) {
  const char* r = std::getenv("PARSL_WORKER_RANK");
  return std::make_pair(r ? std::atoi(r) : -1, parsl::detail::SharedStore::instance().size());
});

int main(int argc, char** argv) {
  int bad = 0;
  const int status = parsl::run(argc, argv, [&] {
    std::vector<double> big(1 << 20);  // 8 MB
    std::iota(big.begin(), big.end(), 0.0);
    const double sum = std::accumulate(big.begin(), big.end(), 0.0);
    {
      const auto ref = parsl::share(std::move(big));
      std::vector<parsl::AppFuture<std::pair<double, std::uintptr_t>>> fs;
      for (int i = 0; i < 200; ++i) fs.push_back(use(ref, i));
      std::set<std::uintptr_t> objects;
      for (int i = 0; i < 200; ++i) {
        objects.insert(fs[static_cast<std::size_t>(i)].get().second);
        const double got = fs[static_cast<std::size_t>(i)].get().first;
        if (got != sum + i) {
          ++bad;
          std::printf("task %d saw %.1f, not %.1f\n", i, got, sum + i);
        }
      }
      // One object per worker process (at most one per rank but rank 0).
      int size = 1;
      MPI_Comm_size(MPI_COMM_WORLD, &size);
      if (objects.size() > static_cast<std::size_t>(std::max(1, size - 1))) {
        ++bad;
        std::printf("the value was decoded %zu times on %d workers\n", objects.size(), size - 1);
      }
      std::printf("200 tasks read the shared value, decoded %zu times\n", objects.size());
    }  // the last handle on rank 0 is gone (the tasks' copies went when they finished)
    std::set<int> workers;
    std::size_t left = 0;
    for (int round = 0; round < 3; ++round) {
      std::vector<parsl::AppFuture<std::pair<int, std::size_t>>> probes;
      for (int i = 0; i < 64; ++i) probes.push_back(held(i));
      for (auto& p : probes) {
        const auto [rank, n] = p.get();
        workers.insert(rank);
        left += n;
      }
    }
    if (left != 0) {
      ++bad;
      std::printf("after the release, workers still held %zu shared values\n", left);
    }
    std::printf("released: %zu workers probed, %zu shared values left\n", workers.size(), left);
  });
  return status != 0 ? status : bad != 0 ? 1 : 0;
}
