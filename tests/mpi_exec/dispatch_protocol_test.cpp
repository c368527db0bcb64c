// Hand-back, cancellation and the root's bookkeeping in the protocol classes, driven by hand
// (no MPI): WorkerCore with its runner on a thread of the test, Dispatcher as a sub-master,
// RootCore with a recorder instead of the kernel.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "parsl/mpi_exec/dispatcher.hpp"
#include "parsl/mpi_exec/root_core.hpp"
#include "parsl/mpi_exec/worker_core.hpp"

namespace {

using namespace parsl::mpi;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TaskMsg task(std::uint64_t id, int priority = 0, std::uint32_t attempt = 1) {
  return TaskMsg{id, attempt, priority, "app", "args"};
}

DownMsg down(std::vector<TaskMsg> tasks, std::vector<std::uint64_t> cancel = {}) {
  DownMsg d;
  d.tasks = std::move(tasks);
  d.cancel = std::move(cancel);
  return d;
}

std::vector<std::uint64_t> ids(const std::vector<TaskMsg>& ts) {
  std::vector<std::uint64_t> out;
  for (const auto& t : ts) out.push_back(t.id);
  return out;
}

// A worker whose runner thread blocks in task 1 until released.
struct BlockedWorker {
  std::atomic<bool> release{false};
  std::vector<std::uint64_t> ran;
  WorkerCore core{3, 0, 64, [this](const TaskMsg& t) {
                    ran.push_back(t.id);
                    if (t.id == 1)
                      while (!release.load()) std::this_thread::sleep_for(1ms);
                    return std::string("r") + std::to_string(t.id);
                  }};
  std::thread runner{[this] {
    while (auto t = core.wait_next()) core.execute(*t);
  }};
  ~BlockedWorker() {
    release = true;
    core.close();
    runner.join();
  }
  void wait_until_running() {
    while (!core.running()) std::this_thread::sleep_for(100us);
  }
};

TEST(WorkerCore, ReportsALongTasksStartAndHandsBackWhatWaitsBehindIt) {
  BlockedWorker w;
  (void)w.core.take_up();
  w.core.on_down(down({task(1)}));
  w.wait_until_running();
  w.core.on_down(down({task(2), task(3, -1)}));  // granted earlier, arriving behind task 1
  const auto now = Clock::now();
  w.core.check_running(now + 1ms);  // past kReportStartAfter: the start is reported
  ASSERT_TRUE(w.core.should_flush(now + 1ms, 1s));
  UpMsg up = w.core.take_up();
  ASSERT_EQ(up.events.size(), 1u);
  EXPECT_EQ(up.events[0].kind, EventKind::started);
  EXPECT_EQ(up.events[0].id, 1u);
  EXPECT_GE(up.events[0].seconds, 0.001);  // rank 0 starts the walltime clock that much earlier
  EXPECT_TRUE(up.returned.empty());        // not long yet

  w.core.check_running(now + 10ms);  // past kHandBackAfter
  up = w.core.take_up();
  EXPECT_EQ(ids(up.returned), (std::vector<std::uint64_t>{3, 2}));  // best first
  EXPECT_EQ(up.credit, 0);  // and it asks for nothing while the long task runs
  w.core.on_down(down({task(4)}));  // late arrivals go back too
  w.core.check_running(now + 11ms);
  EXPECT_EQ(ids(w.core.take_up().returned), (std::vector<std::uint64_t>{4}));

  w.release = true;
  while (!w.core.idle()) std::this_thread::sleep_for(100us);
  up = w.core.take_up();
  ASSERT_EQ(up.events.size(), 1u);
  EXPECT_EQ(up.events[0].kind, EventKind::succeeded);
  EXPECT_EQ(up.credit, 1);  // free again: one task at a time after a long one
  EXPECT_EQ(w.ran, (std::vector<std::uint64_t>{1}));  // nothing handed back ran here
}

TEST(WorkerCore, ACancelledQueuedTaskNeverRunsAndARunningOneIsFlagged) {
  BlockedWorker w;
  w.core.on_down(down({task(1), task(2), task(3)}));
  w.wait_until_running();
  EXPECT_FALSE(w.core.cancel_flag().load());
  w.core.on_down(down({}, {2, 1, 99}));  // 99: not here (finished or handed back): ignored
  EXPECT_TRUE(w.core.cancel_flag().load());  // bash and isolated tasks poll this and die
  w.release = true;
  while (!w.core.idle()) std::this_thread::sleep_for(100us);
  EXPECT_EQ(w.ran, (std::vector<std::uint64_t>{1, 3}));
}

TEST(Dispatcher, AHandedBackTaskGoesToAnotherChildAndACancelFollowsItsPath) {
  Dispatcher d({2, 3});
  d.on_up(2, UpMsg{.credit = 3});
  d.push_tasks({task(1), task(2), task(3)});
  auto out = d.dispatch();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, 2);
  // Child 2 starts a long task and gives back 2 and 3; child 3 then asks for work.
  UpMsg back;
  back.returned = {task(2), task(3)};
  d.on_up(2, std::move(back));
  d.on_up(3, UpMsg{.credit = 1});
  out = d.dispatch();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, 3);
  EXPECT_EQ(ids(out[0].second.tasks), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(d.queued(), 1u);
  // Cancels: 1 went down to child 2, 2 to child 3, 3 waits here.
  d.cancel(1);
  d.cancel(2);
  d.cancel(3);
  EXPECT_EQ(d.queued(), 0u);
  out = d.dispatch();
  ASSERT_EQ(out.size(), 2u);
  for (const auto& [child, msg] : out) {
    EXPECT_TRUE(msg.tasks.empty());
    EXPECT_EQ(msg.cancel, (std::vector<std::uint64_t>{child == 2 ? 1u : 2u}));
  }
  EXPECT_EQ(d.tracked(), 0u);
}

TEST(Dispatcher, ATaskHandedBackAfterItWasCancelledIsDropped) {
  Dispatcher d({2});
  d.on_up(2, UpMsg{.credit = 2});
  d.push_tasks({task(1), task(2)});
  (void)d.dispatch();
  d.cancel(2);  // crosses the hand-back of 2 on the way
  UpMsg back;
  back.returned = {task(2)};
  d.on_up(2, std::move(back));
  EXPECT_EQ(d.queued(), 0u);
  // A stale try handed back (a retry was sent since) is dropped as well.
  d.push_task(task(1, 0, 2));
  UpMsg stale;
  stale.returned = {task(1, 0, 1)};
  d.on_up(2, std::move(stale));
  EXPECT_EQ(d.queued(), 1u);
}

TEST(Dispatcher, ASubMasterPassesUpWhatNoChildCanTake) {
  Dispatcher d({4, 5});
  d.on_up(4, UpMsg{.credit = 2});
  d.push_tasks({task(1), task(2)});
  (void)d.dispatch();
  UpMsg back;
  back.returned = {task(2)};
  d.on_up(4, std::move(back));
  EXPECT_TRUE(d.dispatch().empty());  // no child has credit
  EXPECT_EQ(ids(d.take_unplaceable()), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(d.tracked(), 1u);  // only task 1, still below
}

TEST(RootCore, ReportsLiveTriesDropsStaleOnesAndNeverSendsACancelledTask) {
  std::vector<std::pair<EventKind, std::uint64_t>> seen;
  RootCore root({1, 2}, 512, [&](const Event& e, const parsl::TaskHandle&) { seen.emplace_back(e.kind, e.id); });
  root.submit(task(10), {});
  root.submit(task(11), {});
  root.submit(task(12), {});
  root.cancel(11);  // still queued at the root
  EXPECT_EQ(root.in_flight(), 2u);
  root.on_up(1, UpMsg{.credit = 5});
  auto out = root.dispatch();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ids(out[0].second.tasks), (std::vector<std::uint64_t>{10, 12}));
  // A retry of 12 replaces try 1; try 1's late result is dropped.
  root.submit(task(12, 0, 2), {});
  UpMsg up;
  up.events = {Event{10, 1, EventKind::started, 1, {}, 0.5}, Event{10, 1, EventKind::succeeded, 1, "v"},
               Event{12, 1, EventKind::failed, 1, "e"}, Event{77, 1, EventKind::succeeded, 1, "?"}};
  root.on_up(1, std::move(up));
  EXPECT_EQ(seen, (std::vector<std::pair<EventKind, std::uint64_t>>{{EventKind::started, 10},
                                                                     {EventKind::succeeded, 10}}));
  EXPECT_EQ(root.in_flight(), 1u);  // try 2 of 12
  root.cancel(12);
  EXPECT_EQ(root.in_flight(), 0u);
  EXPECT_NE(root.traffic().find("rank 0 sent 2 tasks"), std::string::npos) << root.traffic();
}

}  // namespace
