// Placement of tasks with resources and MPI tasks in the protocol classes, driven by hand
// (no MPI): Machine's arithmetic and errors, the Placer's reservation, ready/go, release,
// priorities, GPUs, memory and cancellation, WorkerCore holding a Placement, and RootCore
// routing placed tasks past the tree.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "parsl/mpi_exec/placer.hpp"
#include "parsl/mpi_exec/root_core.hpp"
#include "parsl/mpi_exec/worker_core.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/serial/codec.hpp"
#include "parsl/serial/remote_error.hpp"

namespace {

using namespace parsl::mpi;
using parsl::Resources;

// Nodes of the given worker counts; ranks numbered from 1, node by node.
Machine machine(const std::vector<int>& workers, int cores_per_node, int gpus = 0, std::uint64_t memory = 0) {
  std::vector<int> node_of_rank{0};  // rank 0 on node 0 with the first node's workers
  for (std::size_t n = 0; n < workers.size(); ++n)
    for (int w = 0; w < workers[n] + (n == 0 ? 0 : 1); ++w) node_of_rank.push_back(static_cast<int>(n));
  // Nodes after the first have a sub-master (their lowest rank) besides their workers.
  const Topology topo = Topology::build(node_of_rank, 64, 0);
  std::vector<NodeHardware> hw(workers.size(), NodeHardware{cores_per_node, 1, gpus, memory});
  return Machine::from(topo, hw);
}

TaskMsg task(std::uint64_t id, Resources res, bool mpi = false, int priority = 0) {
  TaskMsg t{id, 1, priority, "app", "args"};
  t.res = res;
  t.mpi = mpi;
  return t;
}

struct Sent {
  std::map<int, DownMsg> to;  // merged per worker
};
Sent take(Placer& p) {
  Sent s;
  for (auto& [rank, msg] : p.take_direct()) {
    DownMsg& m = s.to[rank];
    for (auto& x : msg.placed) m.placed.push_back(std::move(x));
    m.go.insert(m.go.end(), msg.go.begin(), msg.go.end());
    m.release.insert(m.release.end(), msg.release.begin(), msg.release.end());
    m.cancel.insert(m.cancel.end(), msg.cancel.begin(), msg.cancel.end());
  }
  return s;
}

Event ev(std::uint64_t id, EventKind kind, int worker, std::string payload = {}) {
  return Event{id, 1, kind, worker, std::move(payload), 0.0};
}

std::string failure(const std::string& what, int rank) {
  return parsl::serial::encode(
      parsl::serial::RemoteError::from_exception(std::make_exception_ptr(std::runtime_error(what)), rank));
}

TEST(Machine, CountsWorkersPerRankAndNamesWhatIsMissing) {
  const Machine m = machine({4, 4}, 8, 0, 16ULL << 30);  // 4 workers of 2 cores per node
  ASSERT_EQ(m.nodes().size(), 2U);
  EXPECT_EQ(m.workers(), 8U);
  EXPECT_EQ(m.nodes()[0].share, 2);
  EXPECT_EQ(m.workers_per_rank(0, 5), 3);
  EXPECT_EQ(Machine::core_block(1, 4, 8), (std::vector<int>{2, 3}));
  EXPECT_EQ(Machine::core_block(3, 7, 2), (std::vector<int>{1}));  // oversubscribed: shared cores
  EXPECT_NO_THROW(m.check("a", Resources{8, 0, 0, 2}));
  try {
    m.check("big", Resources{9, 0, 0, 1});
    ADD_FAILURE();
  } catch (const parsl::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("app 'big' asks for 9 cores"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("4 workers of 2 cores"), std::string::npos) << e.what();
  }
  try {
    m.check("gpu", Resources{1, 1, 0, 1});
    ADD_FAILURE();
  } catch (const parsl::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no node of this job has a GPU"), std::string::npos) << e.what();
  }
  EXPECT_THROW(m.check("mem", Resources{1, 0, 17ULL << 30, 1}), parsl::ConfigError);
  EXPECT_THROW(m.check("mpi", Resources{8, 0, 0, 3}), parsl::ConfigError);  // 2 per node
}

// Where a worker binds (Machine::worker_block): inside its launcher's binding, shared with
// the workers bound to the same cores; over every rank of the node when a host code has
// ranks there; else the node divided among the workers. And the Machine takes the blocks
// the workers chose.
TEST(Machine, WorkersKeepInsideTheirLaunchersBindingAndCountTheHostCodesRanks) {
  Machine::Seat s;
  s.node_cores = 8;
  s.local_worker = 1;
  s.node_workers = 4;
  EXPECT_EQ(Machine::worker_block(s), (std::vector<int>{2, 3}));  // unbound: the node's cores by workers
  s.allowed = {0, 1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(Machine::worker_block(s), (std::vector<int>{2, 3}));  // bound to all of them: the same
  s.allowed = {4, 5, 6, 7};  // bound to a socket with another worker
  s.index = 1;
  s.same = 2;
  EXPECT_EQ(Machine::worker_block(s), (std::vector<int>{6, 7}));
  s.allowed = {5};  // bound to one core, which three workers share
  s.index = 2;
  s.same = 3;
  EXPECT_EQ(Machine::worker_block(s), (std::vector<int>{5}));
  s.allowed.clear();  // unbound, 6 ranks on the node, 2 of them parsl's: all 6 counted
  s.launcher_local = 5;
  s.launcher_ranks = 6;
  s.node_ranks = 2;
  EXPECT_EQ(Machine::worker_block(s), (std::vector<int>{5}));
  s.node_ranks = 6;  // every rank of the node is parsl's: the workers divide the node
  EXPECT_EQ(Machine::worker_block(s), (std::vector<int>{2, 3}));

  std::vector<int> node_of_rank{0, 0, 0};
  const Topology topo = Topology::build(node_of_rank, 64, 0);
  const Machine m = Machine::from(topo, {NodeHardware{4, 1, 0, 0}}, {{1, {1}}, {2, {2, 3}}});
  ASSERT_EQ(m.nodes().size(), 1U);
  EXPECT_EQ(m.nodes()[0].blocks, (std::vector<std::vector<int>>{{1}, {2, 3}}));
  EXPECT_EQ(m.nodes()[0].share, 1);  // the smallest block
  // Only one worker's own block: the other gets core_block's.
  const Machine one = Machine::from(topo, {NodeHardware{4, 1, 0, 0}}, {{2, {3}}});
  EXPECT_EQ(one.nodes()[0].blocks, (std::vector<std::vector<int>>{{0, 1}, {3}}));
  EXPECT_EQ(one.nodes()[0].share, 1);
}

TEST(Machine, StandardBlocksAreComputedAndKeptPerNodeNotPerWorker) {
  // 3 nodes of 9 ranks on 8 cores, then a node of 17 ranks (oversubscribed: 16 workers on
  // 8 cores), consecutive: the Machine keeps each node's cores and its first worker.
  std::vector<int> node_of_rank;
  for (int n = 0; n < 3; ++n) node_of_rank.insert(node_of_rank.end(), 9, n);
  node_of_rank.insert(node_of_rank.end(), 17, 3);
  const Topology topo = Topology::build(node_of_rank, 64, 0);
  const std::vector<NodeHardware> hw(4, NodeHardware{8, 1, 0, 0});
  const Machine m = Machine::from(topo, hw);
  ASSERT_EQ(m.nodes().size(), 4U);
  for (std::size_t n = 0; n < 4; ++n) {
    const auto& node = m.nodes()[n];
    const int W = static_cast<int>(node.workers.size());
    EXPECT_EQ(W, n == 0 ? 8 : n < 3 ? 8 : 16);
    for (int l = 0; l < W; ++l) {
      const auto got = node.blocks[static_cast<std::size_t>(l)];
      EXPECT_EQ(std::vector<int>(got.begin(), got.end()), Machine::core_block(l, W, 8)) << "node " << n << " worker " << l;
      EXPECT_EQ(node.workers[static_cast<std::size_t>(l)], n == 0 ? 1 + l : 9 * static_cast<int>(n) + 1 + l);
    }
    EXPECT_EQ(node.share, W > 8 ? 1 : 8 / W);
    EXPECT_EQ(node.blocks.bytes(), 0u);  // computed, not a block per worker
  }
  // Ranks of a node that are not consecutive are kept as a list, in order.
  const Topology scattered = Topology::build({0, 1, 0, 1, 0}, 64, 0);
  const Machine s = Machine::from(scattered, {NodeHardware{2, 1, 0, 0}, NodeHardware{2, 1, 0, 0}});
  EXPECT_EQ(s.nodes()[0].workers, (std::vector<int>{2, 4}));
  EXPECT_EQ(s.nodes()[1].workers, (std::vector<int>{3}));
}

TEST(Placer, AnMpiTaskGoesToTheFewestNodesAndStartsWhenAllItsWorkersAreReady) {
  Placer p(machine({2, 3}, 16));  // node 0: ranks 1-2; node 1: sub-master 3, workers 4-6
  p.submit(task(7, Resources{1, 0, 0, 3}, true));
  Sent s = take(p);
  ASSERT_EQ(s.to.size(), 3U);
  std::vector<std::int32_t> members;
  for (auto& [rank, msg] : s.to) {
    EXPECT_GE(rank, 4);  // all three on the node with three free workers
    ASSERT_EQ(msg.placed.size(), 1U);
    EXPECT_TRUE(msg.placed[0].wait_for_go);
    members = msg.placed[0].members;
  }
  ASSERT_EQ(members.size(), 3U);
  EXPECT_EQ(p.reserved_workers(), 3U);
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(p.on_event(ev(7, EventKind::ready, members[static_cast<std::size_t>(i)])));
  EXPECT_TRUE(take(p).to.empty());  // one member is still busy: no go yet
  p.on_event(ev(7, EventKind::ready, members[2]));
  s = take(p);
  ASSERT_EQ(s.to.size(), 3U);
  for (auto& [rank, msg] : s.to) EXPECT_EQ(msg.go, (std::vector<std::uint64_t>{7}));
  // The value is member 0's, once all have reported.
  p.on_event(ev(7, EventKind::succeeded, members[1], "v1"));
  p.on_event(ev(7, EventKind::succeeded, members[0], "v0"));
  EXPECT_TRUE(p.take_outcomes().empty());
  EXPECT_EQ(p.in_flight(), 1U);
  p.on_event(ev(7, EventKind::succeeded, members[2], "v2"));
  auto out = p.take_outcomes();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].event.kind, EventKind::succeeded);
  EXPECT_EQ(out[0].event.payload, "v0");
  EXPECT_EQ(p.in_flight(), 0U);
  EXPECT_EQ(p.reserved_workers(), 0U);
}

TEST(Placer, TheFirstFailureOfAnyRankFailsTheTaskAtOnce) {
  Placer p(machine({3}, 3));
  p.submit(task(1, Resources{1, 0, 0, 3}, true));
  Sent s = take(p);
  const auto members = s.to.begin()->second.placed[0].members;
  for (int r : members) p.on_event(ev(1, EventKind::ready, r));
  take(p);
  p.on_event(ev(1, EventKind::failed, members[2], failure("rank 2 broke", members[2])));
  auto out = p.take_outcomes();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].event.kind, EventKind::failed);
  EXPECT_EQ(p.in_flight(), 0U);            // reported
  EXPECT_EQ(p.reserved_workers(), 2U);     // the others are still in their part
  p.on_event(ev(1, EventKind::succeeded, members[0], "v"));
  p.on_event(ev(1, EventKind::succeeded, members[1], "v"));
  EXPECT_TRUE(p.take_outcomes().empty());  // one outcome per try
  EXPECT_EQ(p.reserved_workers(), 0U);
}

TEST(Placer, ACoreRequestTakesNeighbouringWorkersAsHelpersWhoAreReleasedAtTheEnd) {
  Placer p(machine({4}, 4));  // one node, four workers of one core: ranks 1-4
  p.submit(task(5, Resources{3, 0, 0, 1}));
  Sent s = take(p);
  ASSERT_EQ(s.to.size(), 3U);
  int member = -1;
  std::vector<int> helpers;
  for (auto& [rank, msg] : s.to) {
    const Placement& pl = msg.placed.at(0);
    if (pl.member == 0) {
      member = rank;
      EXPECT_EQ(pl.cores, (std::vector<std::int32_t>{0, 1, 2}));  // contiguous, one NUMA domain
      EXPECT_EQ(pl.task.app, "app");
    } else {
      EXPECT_EQ(pl.member, -1);
      EXPECT_TRUE(pl.task.app.empty());  // helpers run nothing
      helpers.push_back(rank);
    }
  }
  ASSERT_EQ(member, 1);
  EXPECT_EQ(helpers, (std::vector<int>{2, 3}));
  // A second 3-core task waits; a 1-core task behind it does not overtake it, though a
  // worker is free.
  p.submit(task(6, Resources{3, 0, 0, 1}));
  p.submit(task(8, Resources{1, 0, 1, 1}));
  EXPECT_TRUE(take(p).to.empty());
  EXPECT_EQ(p.waiting(), 2U);
  for (int r : {1, 2, 3}) p.on_event(ev(5, EventKind::ready, r));
  take(p);
  p.on_event(ev(5, EventKind::succeeded, 1, "x"));
  ASSERT_EQ(p.take_outcomes().size(), 1U);
  s = take(p);  // helpers released, and task 6 placed on the workers now free
  EXPECT_EQ(s.to[2].release, (std::vector<std::uint64_t>{5}));
  EXPECT_EQ(s.to[3].release, (std::vector<std::uint64_t>{5}));
  int placed6 = 0;
  for (auto& [rank, msg] : s.to)
    for (auto& pl : msg.placed) placed6 += pl.task.id == 6;
  EXPECT_EQ(placed6, 3);
  // Task 8 (one core) now fits beside it.
  EXPECT_EQ(p.waiting(), 0U);
}

TEST(Placer, PriorityOrdersWaitingTasksAndGpusAndMemoryAreCountedPerNode) {
  Placer p(machine({4}, 4, 2, 10ULL << 30));
  p.submit(task(1, Resources{1, 1, 6ULL << 30, 1}));
  p.submit(task(2, Resources{1, 1, 6ULL << 30, 1}, false, 5));  // memory: waits
  p.submit(task(3, Resources{1, 1, 0, 1}, false, 1));           // before 2 by priority
  Sent s = take(p);
  std::map<std::uint64_t, std::vector<std::int32_t>> gpus;
  for (auto& [rank, msg] : s.to)
    for (auto& pl : msg.placed) gpus[pl.task.id] = pl.gpus;
  ASSERT_EQ(gpus.size(), 2U);
  EXPECT_EQ(gpus[1], (std::vector<std::int32_t>{0}));
  EXPECT_EQ(gpus[3], (std::vector<std::int32_t>{1}));
  EXPECT_EQ(p.waiting(), 1U);
  int rank1 = 0;
  for (auto& [rank, msg] : s.to)
    if (msg.placed[0].task.id == 1) rank1 = rank;
  p.on_event(ev(1, EventKind::succeeded, rank1, "x"));
  s = take(p);
  ASSERT_EQ(s.to.size(), 1U);
  EXPECT_EQ(s.to.begin()->second.placed.at(0).task.id, 2U);
  EXPECT_EQ(s.to.begin()->second.placed.at(0).gpus, (std::vector<std::int32_t>{0}));  // GPU 0 again
}

TEST(Placer, CancellingDropsAWaitingTaskAndCancelsAPlacedOnesMembersAndReleasesItsHelpers) {
  Placer p(machine({4}, 4));
  p.submit(task(1, Resources{2, 0, 0, 2}, true));  // members 1 and 3, helpers 2 and 4
  p.submit(task(2, Resources{1, 0, 0, 2}, true));  // waits
  Sent s = take(p);
  EXPECT_EQ(p.reserved_workers(), 4U);
  p.cancel(2);
  EXPECT_EQ(p.waiting(), 0U);
  p.cancel(1);
  s = take(p);
  EXPECT_EQ(s.to[1].cancel, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(s.to[3].cancel, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(s.to[2].release, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(s.to[4].release, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(p.in_flight(), 0U);
  EXPECT_EQ(p.reserved_workers(), 2U);  // members stay reserved until they report
  p.on_event(ev(1, EventKind::failed, 1, failure("cancelled", 1)));
  p.on_event(ev(1, EventKind::failed, 3, failure("cancelled", 3)));
  EXPECT_TRUE(p.take_outcomes().empty());  // the future has already failed
  EXPECT_EQ(p.reserved_workers(), 0U);
}

TEST(Placer, ATaskTheMachineCanNeverHoldFailsInsteadOfWaiting) {
  Placer p(machine({2}, 2));
  p.submit(task(1, Resources{1, 0, 0, 3}, true));
  auto out = p.take_outcomes();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].event.kind, EventKind::failed);
  EXPECT_EQ(p.in_flight(), 0U);
}

TEST(WorkerCorePlacement, AMemberHandsBackItsQueueReportsReadyAndRunsBoundOnGo) {
  std::vector<std::uint64_t> ran;
  WorkerCore core(4, 0, 64, [&](const TaskMsg& t) {
    ran.push_back(t.id);
    return std::string("r");
  });
  std::vector<std::string> binds;
  core.set_binder([&](const Placement* pl) { binds.push_back(pl ? "bind " + std::to_string(pl->cores.size()) : "unbind"); });
  DownMsg d;
  d.tasks = {task(1, {}), task(2, {})};
  core.on_down(std::move(d));
  Placement pl;
  pl.task = task(9, Resources{2, 0, 0, 1});
  pl.members = {4};
  pl.member = 0;
  pl.cores = {0, 1};
  DownMsg place;
  place.placed = {pl};
  core.on_down(std::move(place));
  core.check_running(WorkerCore::Clock::now());
  UpMsg up = core.take_up();
  EXPECT_EQ(up.credit, 0);  // reserved: asks for nothing
  EXPECT_EQ(up.returned.size(), 2U);
  ASSERT_EQ(up.events.size(), 1U);
  EXPECT_EQ(up.events[0].kind, EventKind::ready);
  EXPECT_FALSE(core.has_work());  // waits for go
  DownMsg go;
  go.go = {9};
  core.on_down(std::move(go));
  ASSERT_TRUE(core.has_work());
  core.run_one();
  EXPECT_EQ(ran, (std::vector<std::uint64_t>{9}));
  EXPECT_EQ(binds, (std::vector<std::string>{"bind 2", "unbind"}));
  EXPECT_FALSE(core.placed());  // its part is done: takes work again
  up = core.take_up();
  EXPECT_GT(up.credit, 0);
  ASSERT_EQ(up.events.size(), 1U);
  EXPECT_EQ(up.events[0].kind, EventKind::succeeded);
}

TEST(WorkerCorePlacement, HelpersWaitForReleaseAndACancelBeforeGoFreesAMember) {
  WorkerCore helper(5, 0, 64, [](const TaskMsg&) { return std::string(); });
  Placement h;
  h.task.id = 9;
  h.task.attempt = 1;
  h.members = {4};
  DownMsg place;
  place.placed = {h};
  helper.on_down(std::move(place));
  DownMsg go;
  go.go = {9};
  helper.on_down(std::move(go));
  EXPECT_FALSE(helper.has_work());  // a helper runs nothing
  EXPECT_TRUE(helper.placed());
  DownMsg release;
  release.release = {9};
  helper.on_down(std::move(release));
  EXPECT_FALSE(helper.placed());

  WorkerCore member(4, 0, 64, [](const TaskMsg&) { return std::string(); });
  Placement m;
  m.task = task(9, Resources{1, 0, 0, 2}, true);
  m.members = {4, 6};
  m.member = 0;
  DownMsg p2;
  p2.placed = {m};
  member.on_down(std::move(p2));
  DownMsg cancel;
  cancel.cancel = {9};
  member.on_down(std::move(cancel));
  EXPECT_FALSE(member.placed());
  UpMsg up = member.take_up();
  ASSERT_EQ(up.events.size(), 1U);
  EXPECT_EQ(up.events[0].kind, EventKind::failed);  // so rank 0 frees the worker
}

TEST(PlacementMessages, APlacementThatNamesNoSuchMemberOrANegativeCoreIsAProtocolError) {
  auto bytes_with = [](Placement pl) {
    DownMsg d;
    d.placed = {std::move(pl)};
    return encode(d);
  };
  Placement good;
  good.task = task(3, Resources{2, 0, 0, 1});
  good.members = {5};
  good.member = 0;
  good.cores = {0, 1};
  EXPECT_EQ(decode_down(bytes_with(good), 0).placed.at(0).cores, good.cores);
  Placement bad = good;
  bad.member = 1;
  EXPECT_THROW(decode_down(bytes_with(bad), 0), ProtocolError);
  bad = good;
  bad.cores = {-1};
  EXPECT_THROW(decode_down(bytes_with(bad), 0), ProtocolError);
  bad = good;
  bad.task.res.cores = 0;
  EXPECT_THROW(decode_down(bytes_with(bad), 0), ProtocolError);
  bad = good;
  bad.members.clear();
  EXPECT_THROW(decode_down(bytes_with(bad), 0), ProtocolError);
}

TEST(RootCorePlacement, PlacedTasksGoDirectlyToWorkersAndTheirOutcomeReachesTheHandle) {
  std::vector<Event> applied;
  RootCore root({1, 2, 3}, 512, [&](const Event& e, const parsl::TaskHandle&) { applied.push_back(e); },
                machine({3}, 3));
  root.submit(task(1, Resources{1, 0, 0, 2}, true), {});
  root.submit(task(2, {}), {});  // plain: the tree
  EXPECT_EQ(root.in_flight(), 2U);
  auto direct = root.direct();
  ASSERT_EQ(direct.size(), 2U);
  for (auto& [rank, msg] : direct) EXPECT_EQ(msg.placed.size(), 1U);
  UpMsg up;
  up.credit = 1;
  for (auto& [rank, msg] : direct) up.events.push_back(ev(1, EventKind::succeeded, rank, "v" + std::to_string(rank)));
  root.on_up(direct[0].first, std::move(up));
  ASSERT_EQ(applied.size(), 1U);
  EXPECT_EQ(applied[0].payload, "v" + std::to_string(direct[0].first));
  EXPECT_EQ(root.in_flight(), 1U);  // the plain task
}

}  // namespace
