// Monitoring under mpirun: a campaign with successes, failures, retries, a dependency failure
// and a memo hit. The database has exactly the expected rows per task and try, each try with
// its worker's host and rank, states in order with timestamps that never go back, resource
// samples of a long task, the job's node and its block.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <map>
#include <stdexcept>
#include <thread>

#include "../runtime/monitoring_queries.hpp"
#include "mpi_test_support.hpp"
#include "parsl/serial/remote_error.hpp"

namespace {

const auto doubled = parsl::app("mon_mpi.doubled", [](int x) { return 2 * x; });
const auto always_fails = parsl::app("mon_mpi.always_fails", [](int) -> int { throw std::runtime_error("no luck"); });
// Fails its first try only: a retry that succeeds.
const auto flaky = parsl::app("mon_mpi.flaky", [](int x) {
  if (parsl::current_task().attempt == 1) throw std::runtime_error("first try fails");
  return x;
});
const auto cached = parsl::app("mon_mpi.cached", [](int x) { return x + 1; }, parsl::AppOptions{.cache = true});
// Long enough to be reported running before it ends, and to be sampled (interval 0.2 s).
const auto sleepy = parsl::app("mon_mpi.sleepy", [](int ms) {
  std::vector<char> touch(32 << 20, 1);  // some resident memory to see
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return static_cast<int>(touch[ms % touch.size()]);
});

using parsl::test::query;
using parsl::test::Rows;
using parsl::test::states_of;

using States = std::vector<std::string>;
const States kRan = {"launched", "running", "running_ended"};
States tries(std::initializer_list<const char*> ends) {
  States out{"pending"};
  for (const char* e : ends) {
    out.insert(out.end(), kRan.begin(), kRan.end());
    out.push_back(e);
  }
  return out;
}

TEST(MonitoringMpi, EveryTaskTryAndStateWithTheWorkersHostRankAndTimes) {
  parsl::Config c = parsl::test::mpi_config();
  c.monitoring = true;
  c.monitoring_interval = 0.2;
  std::string file;
  std::map<std::string, std::uint64_t> id;
  const int rc = parsl::run(MPI_COMM_WORLD, c, [&] {
    file = (parsl::DataFlowKernel::current().run_dir() / "monitoring.db").string();
    auto ok = doubled(21);
    auto slow = sleepy(900);
    auto bad = always_fails.with({.retries = 2})(1);
    auto dep = doubled(bad);
    auto retried = flaky.with({.retries = 1})(7);
    auto m1 = cached(5);
    EXPECT_EQ(m1.get(), 6);
    auto m2 = cached(5);
    EXPECT_EQ(ok.get(), 42);
    EXPECT_EQ(slow.get(), 1);
    EXPECT_THROW(bad.get(), std::runtime_error);
    EXPECT_THROW(dep.get(), parsl::DependencyError);
    EXPECT_EQ(retried.get(), 7);
    EXPECT_EQ(m2.get(), 6);
    id = {{"ok", ok.task_id()}, {"slow", slow.task_id()}, {"bad", bad.task_id()}, {"dep", dep.task_id()},
          {"retried", retried.task_id()}, {"m1", m1.task_id()}, {"m2", m2.task_id()}};
  });
  if (parsl::test::world_rank() != 0) return;
  ASSERT_EQ(rc, 0);
  const int workers = parsl::test::world_size() - 1;

  EXPECT_EQ(query(file, "SELECT count(*) FROM task")[0][0], "7");
  EXPECT_EQ(states_of(file, id["ok"]), tries({"exec_done"}));
  EXPECT_EQ(states_of(file, id["slow"]), tries({"exec_done"}));  // one running row, though reported twice
  EXPECT_EQ(states_of(file, id["m1"]), tries({"exec_done"}));
  EXPECT_EQ(states_of(file, id["bad"]), tries({"fail_retryable", "fail_retryable", "failed"}));
  EXPECT_EQ(states_of(file, id["retried"]), tries({"fail_retryable", "exec_done"}));
  EXPECT_EQ(states_of(file, id["dep"]), (States{"pending", "dep_fail"}));
  EXPECT_EQ(states_of(file, id["m2"]), (States{"pending", "memo_done"}));

  // Tries: 1 + 1 + 3 + 2 + 1, each on a worker of this job, with its times in order.
  const auto rows = query(file, "SELECT task_id, try_id, task_executor, hostname, worker_rank, worker_cores, "
                                "task_try_time_launched, task_try_time_running, task_try_time_running_ended, "
                                "task_try_time_returned, task_fail_history FROM try ORDER BY task_id, try_id");
  EXPECT_EQ(rows.size(), 8u);
  std::map<std::string, int> per_task;
  for (const auto& t : rows) {
    ++per_task[t[0]];
    EXPECT_EQ(t[2], "mpi");
    EXPECT_EQ(t[3], parsl::serial::this_host());
    const int rank = std::stoi(t[4] == "NULL" ? "-1" : t[4]);
    EXPECT_GE(rank, 1) << "task " << t[0];
    EXPECT_LE(rank, workers);
    EXPECT_NE(t[5], "NULL");  // workers are pinned by default
    EXPECT_LE(t[6], t[7]);    // launched <= running <= running_ended <= returned
    EXPECT_LE(t[7], t[8]);
    EXPECT_LE(t[8], t[9]);
    EXPECT_NE(t[9], "NULL");
    if (t[0] == std::to_string(id["bad"])) {
      EXPECT_NE(t[10].find("no luck"), std::string::npos) << t[10];
    }
    if (t[0] == std::to_string(id["ok"])) {
      EXPECT_EQ(t[10], "NULL");
    }
  }
  EXPECT_EQ(per_task[std::to_string(id["bad"])], 3);
  EXPECT_EQ(per_task[std::to_string(id["retried"])], 2);
  EXPECT_EQ(per_task.count(std::to_string(id["dep"])), 0u);
  EXPECT_EQ(per_task.count(std::to_string(id["m2"])), 0u);
  EXPECT_EQ(query(file, "SELECT task_fail_count FROM task WHERE task_id = " + std::to_string(id["retried"]))[0][0], "1");

  // The long task was sampled on its worker: its process, some CPU time and memory.
  const auto res = query(file, "SELECT count(*), min(psutil_process_pid) > 0, max(psutil_process_memory_resident) > "
                               "30e6, min(resource_monitoring_interval) > 0 FROM resource WHERE task_id = " +
                                   std::to_string(id["slow"]));
  EXPECT_GE(std::stoi(res[0][0]), 2);
  EXPECT_EQ(res[0][1], "1");
  EXPECT_EQ(res[0][2], "1");
  EXPECT_EQ(res[0][3], "1");

  // One node (this machine) with every worker; the job's block, running then completed.
  EXPECT_EQ(query(file, "SELECT hostname, worker_count FROM node"),
            (Rows{{parsl::serial::this_host(), std::to_string(workers)}}));
  EXPECT_EQ(query(file, "SELECT executor_label, status FROM block ORDER BY timestamp"),
            (Rows{{"mpi", "RUNNING"}, {"mpi", "COMPLETED"}}));
  EXPECT_EQ(query(file, "SELECT tasks_completed_count, tasks_failed_count FROM workflow"), (Rows{{"5", "2"}}));
}

}  // namespace
