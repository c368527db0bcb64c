// N no-op tasks through the InlineExecutor, for instruction counts that do not depend on
// machine noise:
//   valgrind --tool=callgrind build/benchmarks/kernel_inline_loop 200000
// Compare with N=0 to subtract start-up; (total(N) - total(0)) / N = instructions per task.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <parsl/runtime.hpp>

const auto noop = parsl::app("inline_loop.noop", [](int x) { return x; });

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 200000;
  parsl::Config c;
  c.executors.push_back(std::make_shared<parsl::InlineExecutor>());
  c.run_dir = std::filesystem::temp_directory_path() / "parsl-bench-runinfo";
  c.log_level = parsl::LogLevel::warning;
  parsl::DataFlowKernel dfk(c);
  for (long i = 0; i < n; ++i) (void)noop(static_cast<int>(i));
  return 0;
}
