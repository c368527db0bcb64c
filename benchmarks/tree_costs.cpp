// Per-message and per-task CPU costs of the tree's levels, without MPI: the constants of the
// model in docs/scaling.md. Each benchmark moves batches of B tasks; the time per batch is
// fitted as (per message) + B x (per task) by benchmarks/scaling/model.sh.
//
//   BM_SubMaster/B: a sub-master of 64 children takes one message of B tasks from its parent
//     (decode, queue), hands them to its children (dispatch, encode one message per child
//     that gets tasks), takes their results (decode, match), and sends one message up
//     (encode): everything a sub-master does for B tasks but the MPI calls.
//   BM_Worker/B: a worker's protocol side for B tasks: the message down decoded and queued,
//     each task started and completed (no task code), one message up encoded.
//   BM_Encode*/B: encoding and decoding alone, for comparison.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "parsl/mpi_exec/dispatcher.hpp"
#include "parsl/mpi_exec/protocol.hpp"
#include "parsl/mpi_exec/worker_core.hpp"
#include "parsl/serial/codec.hpp"

namespace {

using namespace parsl::mpi;
using parsl::EncodedOutcome;

// A no-op task as parsl-perf sends it: app name and an encoded int.
TaskMsg noop_task(std::uint64_t id) { return TaskMsg{id, 1, 0, "parsl_perf.noop", parsl::serial::encode(std::tuple<int>(7))}; }

std::string down_bytes(int b) {
  DownMsg m;
  for (int i = 0; i < b; ++i) m.tasks.push_back(noop_task(static_cast<std::uint64_t>(i) + 1));
  return encode(m);
}

void BM_SubMaster(benchmark::State& state) {
  const int b = static_cast<int>(state.range(0));
  constexpr int kChildren = 64;
  std::vector<int> children;
  for (int c = 0; c < kChildren; ++c) children.push_back(c + 1);
  Dispatcher d(children, 512);
  for (int c : children) d.on_up(c, UpMsg{.credit = 1 << 20});  // plenty: dispatch is never short
  (void)d.take_credit();
  const std::string down = down_bytes(b);
  // The children's results for the batch, as they would come: one message per child that got
  // tasks (dispatch gives each a fair share).
  std::vector<std::pair<int, std::string>> ups;
  {
    Dispatcher probe(children, 512);
    for (int c : children) probe.on_up(c, UpMsg{.credit = 1 << 20});
    DownMsg m = decode_down(down, 0);
    probe.push_tasks(std::move(m.tasks));
    for (auto& [child, msg] : probe.dispatch()) {
      UpMsg u;
      u.credit = static_cast<std::int64_t>(msg.tasks.size());
      for (const auto& t : msg.tasks)
        u.events.push_back(Event{t.id, t.attempt, EventKind::succeeded, child, parsl::serial::encode(7), 0.0, 0});
      ups.emplace_back(child, encode(u));
    }
  }
  std::size_t bytes = 0;
  for (auto _ : state) {
    DownMsg m = decode_down(down, 0);
    d.push_tasks(std::move(m.tasks));
    for (auto& [child, msg] : d.dispatch()) bytes += encode(msg).size();
    for (const auto& [child, u] : ups) d.on_up(child, decode_up(u, child));
    UpMsg up;
    up.credit = d.take_credit();
    up.events = d.take_events();
    bytes += encode(up).size();
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations() * b);
}
BENCHMARK(BM_SubMaster)->Arg(1)->Arg(8)->Arg(64)->Arg(512);

void BM_Worker(benchmark::State& state) {
  const int b = static_cast<int>(state.range(0));
  WorkerCore core(1, b, b, [](const TaskMsg&) -> EncodedOutcome { return {}; });
  (void)core.take_up();
  const std::string down = down_bytes(b);
  const std::string value = parsl::serial::encode(7);
  std::size_t bytes = 0;
  for (auto _ : state) {
    core.on_down(decode_down(down, 0));
    while (auto t = core.start_next()) core.complete(*t, EncodedOutcome(value), 1e-6);
    bytes += encode(core.take_up()).size();
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations() * b);
}
BENCHMARK(BM_Worker)->Arg(1)->Arg(8)->Arg(64)->Arg(512);

void BM_EncodeDecodeDown(benchmark::State& state) {
  const int b = static_cast<int>(state.range(0));
  const std::string bytes = down_bytes(b);
  for (auto _ : state) {
    DownMsg m = decode_down(bytes, 0);
    benchmark::DoNotOptimize(encode(m));
  }
  state.SetItemsProcessed(state.iterations() * b);
}
BENCHMARK(BM_EncodeDecodeDown)->Arg(1)->Arg(64)->Arg(512);

}  // namespace

BENCHMARK_MAIN();
