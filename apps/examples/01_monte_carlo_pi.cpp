// Parsl's first example in C++: estimate pi by Monte Carlo in several independent tasks,
// then average the estimates in a task that depends on all of them.
//
//   ./01_monte_carlo_pi [--points=N] [--tasks=K] [--parsl-threads=T] ...
#include <parsl/parsl.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

// Apps are declared at namespace scope so every process of the binary knows them by name.
inline const auto estimate_pi = parsl::app("estimate_pi", [](std::int64_t points, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::int64_t inside = 0;
  for (std::int64_t i = 0; i < points; ++i) {
    const double x = u(rng), y = u(rng);
    inside += (x * x + y * y <= 1.0) ? 1 : 0;
  }
  return 4.0 * static_cast<double>(inside) / static_cast<double>(points);
});

inline const auto mean = parsl::app("mean", [](const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
});

int main(int argc, char** argv) {
  std::int64_t points = 2'000'000;
  int tasks = 8;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    try {
      if (a.rfind("--points=", 0) == 0) points = std::stoll(a.substr(9));
      else if (a.rfind("--tasks=", 0) == 0) tasks = std::stoi(a.substr(8));
    } catch (const std::exception&) {
      std::fprintf(stderr, "bad value in %s: expected a whole number\n", a.c_str());
      return 2;
    }
  }
  if (points <= 0 || tasks <= 0) {
    std::fprintf(stderr, "--points and --tasks must be positive\n");
    return 2;
  }
  return parsl::run(argc, argv, [&] {
    std::vector<parsl::AppFuture<double>> estimates;
    for (int i = 0; i < tasks; ++i) estimates.push_back(estimate_pi(points, static_cast<std::uint64_t>(i + 1)));
    auto average = mean(estimates);  // a vector of futures: one edge per estimate
    for (int i = 0; i < tasks; ++i)
      std::printf("task %llu: pi ~ %.6f\n", static_cast<unsigned long long>(estimates[i].task_id()),
                  estimates[i].get());
    std::printf("mean of %d estimates (%lld points each): pi ~ %.6f\n", tasks,
                static_cast<long long>(points), average.get());
  });
}
