// The dataflow kernel's own cost per task, and no-op task throughput and round-trip latency
// through the ThreadPoolExecutor. Baselines in the same run: a direct call through
// std::function (the floor for "submit, resolve, complete") and std::async (what a user
// would write without a task runtime).
//
//   build/benchmarks/kernel_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <vector>

#include <parsl/runtime.hpp>

namespace {

const auto noop = parsl::app("bench.noop", [](int x) { return x; });
const auto sum = parsl::app("bench.sum", [](const std::vector<int>& v) {
  long s = 0;
  for (int x : v) s += x;
  return static_cast<int>(s);
});

parsl::Config bench_config(std::shared_ptr<parsl::Executor> e) {
  parsl::Config c;
  c.executors.push_back(std::move(e));
  c.run_dir = std::filesystem::temp_directory_path() / "parsl-bench-runinfo";
  c.log_level = parsl::LogLevel::warning;
  return c;
}

// Submit + resolve + run inline + complete, per no-op task, future dropped at once.
void BM_KernelCostPerTask_Inline(benchmark::State& state) {
  parsl::DataFlowKernel dfk(bench_config(std::make_shared<parsl::InlineExecutor>()));
  int i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(noop(i++));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KernelCostPerTask_Inline);

// The same with a dependency edge: each task takes the previous future.
void BM_KernelCostPerTask_InlineChain(benchmark::State& state) {
  parsl::DataFlowKernel dfk(bench_config(std::make_shared<parsl::InlineExecutor>()));
  parsl::AppFuture<int> f = noop(0);
  for (auto _ : state) f = noop(f);
  benchmark::DoNotOptimize(f.get());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KernelCostPerTask_InlineChain);

void BM_Baseline_StdFunctionCall(benchmark::State& state) {
  std::function<int(int)> fn = [](int x) { return x; };
  int i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(fn(i++));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_StdFunctionCall);

// 100,000 no-op tasks submitted back to back, then waited for: tasks per second.
void BM_ThreadPoolThroughput(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  parsl::DataFlowKernel dfk(bench_config(std::make_shared<parsl::ThreadPoolExecutor>(2)));
  std::vector<parsl::AppFuture<int>> fs;
  fs.reserve(static_cast<std::size_t>(n));
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) fs.push_back(noop(i));
    dfk.wait_for_current_tasks();
    fs.clear();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_ThreadPoolThroughput)->Arg(100'000)->Unit(benchmark::kMillisecond)->UseRealTime();

// Fan-out/fan-in: n independent tasks and one that takes all their futures.
void BM_ThreadPoolFanOutFanIn(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  parsl::DataFlowKernel dfk(bench_config(std::make_shared<parsl::ThreadPoolExecutor>(2)));
  for (auto _ : state) {
    std::vector<parsl::AppFuture<int>> fs;
    fs.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) fs.push_back(noop(1));
    benchmark::DoNotOptimize(sum(fs).get());
  }
  state.SetItemsProcessed(state.iterations() * (n + 1));
}
BENCHMARK(BM_ThreadPoolFanOutFanIn)->Arg(10'000)->Unit(benchmark::kMillisecond)->UseRealTime();

template <class Fn>
void record_latencies(benchmark::State& state, Fn&& one_round_trip) {
  std::vector<double> us;
  us.reserve(1 << 16);
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    one_round_trip();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[us.size() * 99 / 100];
}

// One no-op task from submit to get(), on an otherwise idle pool of 2 threads.
void BM_ThreadPoolRoundTrip(benchmark::State& state) {
  parsl::DataFlowKernel dfk(bench_config(std::make_shared<parsl::ThreadPoolExecutor>(2)));
  int i = 0;
  record_latencies(state, [&] { benchmark::DoNotOptimize(noop(i++).get()); });
}
BENCHMARK(BM_ThreadPoolRoundTrip)->UseRealTime();

void BM_Baseline_StdAsyncRoundTrip(benchmark::State& state) {
  int i = 0;
  record_latencies(state, [&] {
    benchmark::DoNotOptimize(std::async(std::launch::async, [](int x) { return x; }, i++).get());
  });
}
BENCHMARK(BM_Baseline_StdAsyncRoundTrip)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
