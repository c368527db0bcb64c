// What a large argument costs on its way to a worker, against a plain memcpy of the same
// size; and data every task needs, shared once (parsl::share) against sent with each task.
//   mpirun -np 2 build/benchmarks/embedding_data [--reps=5]
// For each size: the submit time (the app call, until it returns its future: the arguments
// are copied and encoded), the time until the task starts on the worker (steady clocks of
// one machine agree across processes), and memcpy's time. Medians of --reps runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <parsl/parsl.hpp>

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

}  // namespace

inline const auto arrive = parsl::app("embedding_data.arrive", [](const std::vector<char>& data) {
  return std::make_pair(now_ns(), data.size());
});
inline const auto with_copy = parsl::app("embedding_data.with_copy", [](const std::vector<char>& ref, int i) {
  return static_cast<long>(ref.size()) + i;
});
inline const auto with_share = parsl::app("embedding_data.with_share",
                                          [](const parsl::Shared<std::vector<char>>& ref, int i) {
                                            return static_cast<long>(ref->size()) + i;
                                          });

int main(int argc, char** argv) {
  int reps = 5;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--reps=", 7) == 0) reps = std::max(1, std::atoi(argv[i] + 7));
  return parsl::run(argc, argv, [&] {
    (void)arrive(std::vector<char>(16)).get();  // warm up the tree
    std::printf("%-10s %14s %16s %14s %18s\n", "size", "submit (us)", "to worker (us)", "memcpy (us)",
                "to worker / memcpy");
    for (std::size_t size : {std::size_t{1} << 10, std::size_t{1} << 20, std::size_t{100} << 20}) {
      std::vector<double> submit, travel, copy;
      for (int r = 0; r < reps; ++r) {
        std::vector<char> data(size, 'x');
        std::vector<char> target(size);
        const auto c0 = Clock::now();
        std::memcpy(target.data(), data.data(), size);
        copy.push_back(std::chrono::duration<double, std::micro>(Clock::now() - c0).count());
        const std::int64_t t0 = now_ns();
        auto f = arrive(std::move(data));
        submit.push_back((now_ns() - t0) / 1e3);
        travel.push_back((f.get().first - t0) / 1e3);
      }
      std::printf("%-10s %14.1f %16.1f %14.1f %18.1f\n",
                  size < (1 << 20) ? "1 KiB" : size < (100 << 20) ? "1 MiB" : "100 MiB", median(submit),
                  median(travel), median(copy), median(travel) / std::max(1e-6, median(copy)));
    }
    // Data every task needs: 10 MiB, 50 tasks.
    const std::vector<char> reference(std::size_t{10} << 20, 'r');
    std::vector<double> sent, shared;
    for (int r = 0; r < reps; ++r) {
      auto t0 = Clock::now();
      {
        std::vector<parsl::AppFuture<long>> fs;
        for (int i = 0; i < 50; ++i) fs.push_back(with_copy(reference, i));
        for (auto& f : fs) (void)f.get();
      }
      sent.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      t0 = Clock::now();
      {
        const auto ref = parsl::share(reference);
        std::vector<parsl::AppFuture<long>> fs;
        for (int i = 0; i < 50; ++i) fs.push_back(with_share(ref, i));
        for (auto& f : fs) (void)f.get();
      }
      shared.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::printf("10 MiB every task needs, 50 tasks: sent with each %.1f ms, shared once %.1f ms (%.1fx)\n",
                median(sent), median(shared), median(sent) / std::max(1e-6, median(shared)));
  });
}
