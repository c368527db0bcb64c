// The emulated tree (--parsl-mpi-emulate) at a small size that still has depth 3 or more and
// every message kind: tasks down and events up (start reports, results, failures), tasks
// handed back behind long ones, cancels down a task's path, placements sent directly, shared
// values and their release, the stop and every rank's bye. Exit 0 when:
//   - every task completes exactly once with its own value (the emulated workers finished as
//     many tries as there were tasks to run, and each future got the value of its argument);
//   - the tree has depth 3 or more, every virtual rank said bye, and the ranks at each depth
//     are those of the topology built independently here;
//   - tasks were handed back, all 40 cancels took effect, and the placed tasks returned
//     their values;
//   - an app without an emulation fails with an error that says so.
// Run with --parsl-mpi-emulate=40x3 --parsl-mpi-fanout=4 --parsl-mpi-prefetch=2.
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <parsl/mpi_exec/emulation.hpp>
#include <parsl/mpi_exec/topology.hpp>
#include <parsl/parsl.hpp>

inline const auto work = parsl::app("emulated_tree.work", [](double seconds, int x) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  return x;
});
inline const auto wide = parsl::app("emulated_tree.wide", [](int x) { return x; }, {.cores = 2});
inline const auto unknown = parsl::app("emulated_tree.unknown", [](int x) { return x; });

int main(int argc, char** argv) {
  // What the emulated workers do instead: hold `seconds`, return x.
  parsl::mpi::emulate_app("emulated_tree.work", [](std::string_view args) {
    const auto [seconds, x] = parsl::serial::decode<std::tuple<double, int>>(args);
    return parsl::mpi::EmulatedTask{seconds, parsl::serial::encode(x), {}};
  });
  parsl::mpi::emulate_app("emulated_tree.wide", [](std::string_view args) {
    return parsl::mpi::EmulatedTask{0.001, parsl::serial::encode(std::get<0>(parsl::serial::decode<std::tuple<int>>(args))),
                                    {}};
  });
  int bad = 0;
  auto fail = [&](const std::string& what) {
    ++bad;
    std::printf("FAILED: %s\n", what.c_str());
  };
  long expected_done = 0;
  const int status = parsl::run(argc, argv, [&] {
    {
      // A shared value and its release: ShareMsg down the whole tree, both ways.
      const auto ref = parsl::share(std::vector<int>(1000, 7));
    }
    // Short and long tasks mixed: the short raise the workers' prefetch, the long (20 ms)
    // are reported started and send back what waits behind them.
    std::vector<parsl::AppFuture<int>> fs;
    for (int i = 0; i < 3000; ++i) fs.push_back(work(i % 10 == 0 ? 0.02 : 0.0, i));
    // Placed tasks (2 cores): direct from rank 0 to the workers of one node, with a go.
    std::vector<parsl::AppFuture<int>> placed;
    const int nplaced = 6;
    for (int i = 0; i < nplaced; ++i) placed.push_back(wide(1000 + i));
    // Long tasks, cancelled: the cancel follows each down its path.
    std::vector<parsl::AppFuture<int>> doomed;
    for (int i = 0; i < 40; ++i) doomed.push_back(work(30.0, -1));
    for (int i = 0; i < 3000; ++i)
      if (fs[static_cast<std::size_t>(i)].get() != i) fail("task " + std::to_string(i) + " returned the wrong value");
    for (int i = 0; i < nplaced; ++i)
      if (placed[static_cast<std::size_t>(i)].get() != 1000 + i) fail("placed task " + std::to_string(i));
    int refused = 0;
    for (auto& d : doomed) refused += !d.cancel();
    if (refused) fail(std::to_string(refused) + " of 40 cancels refused");
    int cancelled = 0;
    for (auto& d : doomed) try {
        d.get();
      } catch (const parsl::TaskCancelled&) {
        ++cancelled;
      }
    if (cancelled != 40) fail(std::to_string(cancelled) + " of 40 long tasks were cancelled");
    try {
      unknown(1).get();
      fail("an app with no emulation returned a value");
    } catch (const std::exception& e) {
      if (!std::strstr(e.what(), "has no emulation")) fail(std::string("unexpected error: ") + e.what());
    }
    expected_done = 3000 + 6;
  });
  if (status != 0) return status;
  if (parsl::launcher_rank() > 0) return 0;  // the summary is rank 0's
  const auto s = parsl::mpi::last_emulation();
  if (!s) {
    std::printf("FAILED: no emulation summary\n");
    return 1;
  }
  // Exactly once: the 3006 tasks that succeeded, and nothing else (the cancelled long
  // tasks and the unknown app's try fail).
  if (s->tasks_done != expected_done)
    fail("emulated workers finished " + std::to_string(s->tasks_done) + " tries, expected " +
         std::to_string(expected_done));
  if (s->tasks_failed < 1) fail("no failed try counted");
  if (s->depth < 3) fail("depth " + std::to_string(s->depth));
  if (s->handed_back == 0) fail("no task was handed back behind a long one");
  // The same tree built here: ranks per depth.
  std::vector<int> node_of;
  for (long n = 0; n < s->nodes; ++n)
    for (long w = 0; w <= s->workers_per_node; ++w) node_of.push_back(static_cast<int>(n));
  const auto topo = parsl::mpi::Topology::build(node_of, 4, 2);
  std::map<int, long> per_depth;
  for (int v = 0; v < topo.size(); ++v) per_depth[topo.place(v).depth] += 1;
  if (topo.depth() != s->depth) fail("depth differs from the topology's");
  for (int d = 0; d <= s->depth; ++d) {
    if (s->ranks[d] != per_depth[d]) fail("ranks at depth " + std::to_string(d));
    if (d > 0 && s->byes[d] != per_depth[d])
      fail(std::to_string(s->byes[d]) + " byes at depth " + std::to_string(d) + ", expected " +
           std::to_string(per_depth[d]));
    if (s->sent[d] == 0) fail("nothing sent at depth " + std::to_string(d));
  }
  std::printf("emulated tree: %lld workers, depth %lld, %lld tries done, %lld handed back, every rank said bye: %s\n",
              static_cast<long long>(s->workers), static_cast<long long>(s->depth),
              static_cast<long long>(s->tasks_done), static_cast<long long>(s->handed_back), bad ? "FAILED" : "ok");
  return bad ? 1 : 0;
}
