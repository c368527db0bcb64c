// Built against an installed parsl-mpi with find_package(parsl).
#include <parsl/runtime.hpp>

#include <cstdio>
#include <vector>

inline const auto square = parsl::app("square", [](int x) { return x * x; });
inline const auto total = parsl::app("total", [](const std::vector<int>& v) {
  int s = 0;
  for (int x : v) s += x;
  return s;
});

int main(int argc, char** argv) {
  return parsl::run_local(argc, argv, [] {
    std::vector<parsl::AppFuture<int>> parts;
    for (int i = 1; i <= 5; ++i) parts.push_back(square(i));
    std::printf("sum=%d\n", total(parts).get());
  });
}
