#include <gtest/gtest.h>

#include <algorithm>

#include "parsl/mpi_exec/topology.hpp"
#include "parsl/runtime/errors.hpp"

namespace {

using parsl::mpi::Role;
using parsl::mpi::Topology;

std::vector<int> nodes_of(int ranks, int per_node) {
  std::vector<int> v;
  for (int r = 0; r < ranks; ++r) v.push_back(r / per_node);
  return v;
}

// Every rank but the root has a parent that lists it; worker count and capacities add up.
void check_consistent(const Topology& t, int prefetch) {
  int workers = 0;
  for (int r = 1; r < t.size(); ++r) {
    const auto& p = t.place(r);
    ASSERT_GE(p.parent, 0);
    const auto& kids = t.place(p.parent).children;
    EXPECT_EQ(std::count(kids.begin(), kids.end(), r), 1) << "rank " << r;
    EXPECT_EQ(p.depth, t.place(p.parent).depth + 1);
    if (p.role == Role::worker) {
      ++workers;
      EXPECT_EQ(p.capacity, 1 + prefetch);
      EXPECT_TRUE(p.children.empty());
    }
  }
  EXPECT_EQ(workers, t.workers());
  std::int64_t cap = 0;
  for (int c : t.place(0).children) cap += t.place(c).capacity;
  EXPECT_EQ(cap, t.place(0).capacity);
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
  for (int r = 0; r < t.size(); ++r) widest = std::max(widest, t.place(r).children.size());
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
TEST(Topology, KeepOnlyLeavesARankItsOwnPlaceAndTheRoots) {
  auto t = Topology::build(nodes_of(64, 4), 4, 1);
  const int rank = 37;
  const parsl::mpi::RankPlace before = t.place(rank);
  const auto root_capacity = t.place(0).capacity;
  const int size = t.size(), workers = t.workers(), depth = t.depth();
  t.keep_only(rank);
  EXPECT_EQ(t.place(rank).parent, before.parent);
  EXPECT_EQ(t.place(rank).children, before.children);
  EXPECT_EQ(t.place(rank).capacity, before.capacity);
  EXPECT_EQ(t.place(0).capacity, root_capacity);
  EXPECT_EQ(t.size(), size);
  EXPECT_EQ(t.workers(), workers);
  EXPECT_EQ(t.depth(), depth);
  EXPECT_THROW((void)t.place(5), std::out_of_range);
  EXPECT_NE(t.describe().find("rank 37:"), std::string::npos);
}
}  // namespace
