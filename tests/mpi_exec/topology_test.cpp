#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "parsl/mpi_exec/topology.hpp"
#include "parsl/runtime/errors.hpp"
#include "topology_reference.hpp"

namespace {

using parsl::mpi::Role;
using parsl::mpi::Topology;

std::vector<int> nodes_of(int ranks, int per_node) {
  std::vector<int> v;
  for (int r = 0; r < ranks; ++r) v.push_back(r / per_node);
  return v;
}

// Every rank but the root is listed once, by its parent; depths, worker count and
// capacities add up. O(ranks): places are computed, so only sub-masters' are asked for.
void check_consistent(const Topology& t, int prefetch) {
  int workers = 0;
  std::vector<char> listed(static_cast<std::size_t>(t.size()), 0);
  for (int r = 0; r < t.size(); ++r) {
    if (t.role(r) == Role::worker) {
      ++workers;
      EXPECT_EQ(t.capacity(r), 1 + prefetch);
      continue;
    }
    const auto p = t.place(r);
    std::int64_t cap = 0;
    for (int c : p.children) {
      ASSERT_EQ(t.parent(c), r) << "rank " << c;
      EXPECT_EQ(t.depth_of(c), p.depth + 1);
      EXPECT_EQ(listed[static_cast<std::size_t>(c)]++, 0) << "rank " << c << " listed twice";
      cap += t.capacity(c);
    }
    EXPECT_EQ(cap, p.capacity) << "rank " << r;
  }
  EXPECT_EQ(std::count(listed.begin(), listed.end(), 1), t.size() - 1);
  EXPECT_EQ(workers, t.workers());
  EXPECT_EQ(t.place(0).capacity, static_cast<std::int64_t>(workers) * (1 + prefetch));
}

TEST(Topology, OneNodeIsAFlatTree) {
  // The root serves the workers of its own node itself: no rank is spent on a sub-master.
  auto t = Topology::build(std::vector<int>(8, 0), 64, 4);
  check_consistent(t, 4);
  for (int r = 1; r < 8; ++r) EXPECT_EQ(t.place(r).role, Role::worker) << "rank " << r;
  EXPECT_EQ(t.place(0).children.size(), 7u);
  EXPECT_EQ(t.workers(), 7);
  EXPECT_EQ(t.depth(), 1);
}

TEST(Topology, OtherNodesGetASubMasterEach) {
  auto t = Topology::build(nodes_of(12, 4), 64, 0);  // nodes {0..3} {4..7} {8..11}
  check_consistent(t, 0);
  EXPECT_EQ(t.place(4).role, Role::submaster);
  EXPECT_EQ(t.place(8).role, Role::submaster);
  EXPECT_EQ(t.place(4).children, (std::vector<int>{5, 6, 7}));
  EXPECT_EQ(t.place(1).parent, 0);  // rank 0's node: workers under the root
  EXPECT_EQ(t.workers(), 3 + 3 + 3);
  EXPECT_EQ(t.depth(), 2);
}

TEST(Topology, TwoRanksIsRootAndOneWorker) {
  auto t = Topology::build({0, 0}, 64, 0);
  check_consistent(t, 0);
  EXPECT_EQ(t.place(1).role, Role::worker);
  EXPECT_EQ(t.depth(), 1);
}

TEST(Topology, SmallFanOutGivesDeeperTrees) {
  auto t = Topology::build(nodes_of(8, 2), 2, 1);  // nodes {0,1} {2,3} {4,5} {6,7}
  check_consistent(t, 1);
  EXPECT_EQ(t.depth(), 3);
  EXPECT_LE(t.place(0).children.size(), 2u + 1u);  // fan-out, plus the worker of its node
  auto t5 = Topology::build(nodes_of(5, 2), 2, 1);
  check_consistent(t5, 1);
  EXPECT_EQ(t5.depth(), 2);  // root -> 2 -> 3, root -> 4, root -> 1
}

std::size_t most_children(const Topology& t) {
  std::size_t widest = 0;
  for (int r = 0; r < t.size(); ++r)
    if (t.role(r) != Role::worker) widest = std::max(widest, t.place(r).children.size());
  return widest;
}

TEST(Topology, ScalesTo8192NodesWithBoundedFanOut) {
  // The Parsl paper's largest run: 8,192 nodes of 32 ranks (262,144 ranks).
  auto t = Topology::build(nodes_of(8192 * 32, 32), 64, 0);
  check_consistent(t, 0);
  const std::size_t widest = most_children(t);
  // A head leads a group at each level it rises: own node's workers + (fanout-1) per level.
  EXPECT_LE(widest, 31u + 2u * 63u);
  EXPECT_EQ(t.workers(), 8191 * 31 + 31);
  EXPECT_EQ(t.depth(), 4);
}

TEST(Topology, AMillionWorkersKeepsTheTreeShallowAndNarrow) {
  // 32,768 nodes of 32 ranks: 1,048,576 ranks, 1,015,808 workers.
  auto t = Topology::build(nodes_of(32768 * 32, 32), 64, 0);
  check_consistent(t, 0);
  const std::size_t widest = most_children(t);
  // 32,768 heads in groups of 64 under 512 leads, those under 8, those under the root: a
  // head rises at most three levels, and a worker is 4 hops from the root, as at 8,192 nodes
  // (2 leads under the root there).
  EXPECT_LE(widest, 31u + 3u * 63u);
  EXPECT_EQ(t.workers(), 32767 * 31 + 31);
  EXPECT_EQ(t.depth(), 4);
  EXPECT_EQ(t.place(0).children.size(), 31u + 8u);  // its node's workers and 8 group leads
}

TEST(Topology, TheEmulatedPaperTreeOf8192NodesOf32WorkersEach) {
  // --parsl-mpi-emulate=8192x32: each node a head and 32 workers (262,144 workers), as
  // benchmarks/scaling/paper.sh runs it. Rank 0's node: the root and 32 workers.
  auto t = Topology::build(nodes_of(8192 * 33, 33), 64, 0);
  check_consistent(t, 0);
  EXPECT_EQ(t.workers(), 8192 * 32);
  EXPECT_EQ(t.depth(), 4);
  EXPECT_EQ(t.place(0).children.size(), 32u + 2u);  // its workers and 2 group leads
  EXPECT_EQ(most_children(t), 32u + 2u * 63u);     // a lead of two levels: 158
}

TEST(Topology, AMillionEmulatedWorkersAt32PerNode) {
  // 32,768 nodes x 32 workers (1,048,576), as docs/scaling.md's model takes it.
  auto t = Topology::build(nodes_of(32768 * 33, 33), 64, 0);
  check_consistent(t, 0);
  EXPECT_EQ(t.workers(), 32768 * 32);
  EXPECT_EQ(t.depth(), 4);
  EXPECT_LE(most_children(t), 32u + 3u * 63u);
}

TEST(Topology, BadParametersAreNamed) {
  EXPECT_THROW(Topology::build({0, 0}, 1, 0), parsl::ConfigError);
  EXPECT_THROW(Topology::build({0, 0}, 4, -1), parsl::ConfigError);
  EXPECT_THROW(Topology::build({}, 4, 0), parsl::ConfigError);
}

}  // namespace

namespace {
// The compact tree against the one that stored every place (topology_reference.hpp), rank by
// rank, for layouts of every kind: consecutive nodes or not, nodes of one rank (lone workers,
// some promoted to lead a group), several fan-outs and prefetches.
void expect_same_as_reference(const std::vector<int>& node_of, int fanout, int prefetch) {
  const auto t = Topology::build(node_of, fanout, prefetch);
  const auto ref = topology_reference::reference_build(node_of, fanout, prefetch);
  ASSERT_EQ(t.size(), static_cast<int>(node_of.size()));
  EXPECT_EQ(t.workers(), ref.workers);
  EXPECT_EQ(t.depth(), ref.depth);
  for (int r = 0; r < t.size(); ++r) {
    const auto& want = ref.places_[static_cast<std::size_t>(r)];
    const auto got = t.place(r);
    SCOPED_TRACE("rank " + std::to_string(r) + " of " + std::to_string(t.size()) + ", fan-out " +
                 std::to_string(fanout));
    EXPECT_EQ(got.role, want.role);
    EXPECT_EQ(got.parent, want.parent);
    EXPECT_EQ(got.children, want.children);
    EXPECT_EQ(got.depth, want.depth);
    EXPECT_EQ(got.capacity, want.capacity);
    EXPECT_EQ(got.node, want.node);
    EXPECT_EQ(got.local_worker, want.local_worker);
    EXPECT_EQ(got.node_workers, want.node_workers);
    EXPECT_EQ(t.role(r), want.role);
    EXPECT_EQ(t.parent(r), want.parent);
    EXPECT_EQ(t.depth_of(r), want.depth);
    EXPECT_EQ(t.capacity(r), want.capacity);
    EXPECT_EQ(t.node_of(r), want.node);
    // The subtree, counted from the stored places.
    std::int64_t ranks = 0;
    std::vector<int> stack{r};
    while (!stack.empty()) {
      const int v = stack.back();
      stack.pop_back();
      ++ranks;
      for (int c : ref.places_[static_cast<std::size_t>(v)].children) stack.push_back(c);
    }
    EXPECT_EQ(t.subtree_ranks(r), ranks);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(Topology, ComputedPlacesAreThoseOfTheStoredTree) {
  std::mt19937 rng(12345);
  for (int fanout : {2, 3, 4, 64})
    for (int ranks : {1, 2, 3, 7, 20, 61, 200}) {
      for (int per : {1, 2, 3, 5}) expect_same_as_reference(nodes_of(ranks, per), fanout, per % 3);
      // Nodes of uneven sizes, some of one rank, in runs.
      std::vector<int> runs;
      for (int node = 0; static_cast<int>(runs.size()) < ranks; ++node)
        for (int k = 1 + static_cast<int>(rng() % 4); k > 0 && static_cast<int>(runs.size()) < ranks; --k) runs.push_back(node);
      expect_same_as_reference(runs, fanout, 1);
      // Round-robin placement (--map-by node), and nodes named by any integers in any order.
      std::vector<int> scattered(static_cast<std::size_t>(ranks));
      for (int r = 0; r < ranks; ++r) scattered[static_cast<std::size_t>(r)] = 1000 - 7 * static_cast<int>(rng() % 9);
      expect_same_as_reference(scattered, fanout, 0);
      std::vector<int> cyclic(static_cast<std::size_t>(ranks));
      for (int r = 0; r < ranks; ++r) cyclic[static_cast<std::size_t>(r)] = r % 6;
      expect_same_as_reference(cyclic, fanout, 2);
      if (HasFailure()) return;
    }
}

TEST(Topology, HoldsOnlyWhatGrowsWithTheNodesNotWithTheWorkers) {
  // What rank 0 keeps of the tree: per node and per level entry, never per rank, when each
  // node's ranks are consecutive (emulation, and launchers' default placement).
  const auto narrow = Topology::build_consecutive(std::vector<int>(8192, 5), 64, 0);
  const auto wide = Topology::build_consecutive(std::vector<int>(8192, 129), 64, 0);
  EXPECT_EQ(wide.workers(), 8192 * 128);
  EXPECT_LT(wide.bytes(), 1u << 20);        // under 1 MiB for 1,048,576 workers
  EXPECT_EQ(wide.bytes(), narrow.bytes());  // the same for 4 or 128 workers per node
  const auto built = Topology::build(nodes_of(8192 * 129, 129), 64, 0);
  EXPECT_EQ(built.bytes(), wide.bytes());   // from a rank's node list, the same
  // Ranks scattered over the nodes: 12 bytes per rank more (the node of each, and back).
  std::vector<int> cyclic(1000);
  for (int r = 0; r < 1000; ++r) cyclic[static_cast<std::size_t>(r)] = r % 10;
  EXPECT_GE(Topology::build(cyclic, 64, 0).bytes(), 12u * 1000u);
}

TEST(Topology, ARankOutsideTheTreeIsAnError) {
  const auto t = Topology::build(nodes_of(12, 4), 4, 0);
  EXPECT_THROW((void)t.place(12), std::out_of_range);
  EXPECT_THROW((void)t.parent(-1), std::out_of_range);
  EXPECT_THROW(Topology::build_consecutive({4, 0, 4}, 4, 0), parsl::ConfigError);
}
}  // namespace
