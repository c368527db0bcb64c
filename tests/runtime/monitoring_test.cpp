// The monitoring database: Parsl's tables, one row per task and try, states in order with
// timestamps that never go back, for successes, retries, failures, dependency failures and
// memo hits; and clear errors for a database that cannot be used.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "../../runtime/src/monitoring.hpp"
#include "parsl/serial/remote_error.hpp"
#include "monitoring_queries.hpp"
#include "test_support.hpp"

namespace {

const auto doubled = parsl::app("monitoring_test.doubled", [](int x) { return 2 * x; });
const auto always_fails = parsl::app("monitoring_test.always_fails", [](int) -> int {
  throw std::runtime_error("no luck");
});
const auto cached = parsl::app("monitoring_test.cached", [](int x) { return x + 1; }, parsl::AppOptions{.cache = true});

// Longer than the writer's batches (0.2 s): its records come in several batches, which the
// writer joins in memory into one row (shorter than MonitoringDb::kOpenRowDelayUs).
const auto slow = parsl::app("monitoring_test.slow", [](int x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  return x;
});

using parsl::test::query;
using parsl::test::Rows;
using parsl::test::states_of;

TEST(Monitoring, EveryTaskAndTryWithItsStatesInOrder) {
  parsl::Config c = parsl::test::thread_config();
  c.monitoring = true;
  std::string file;
  std::uint64_t ok_id, failed_id, dep_id, memo_first, memo_hit, slow_id;
  {
    parsl::DataFlowKernel dfk(c);
    file = (dfk.run_dir() / "monitoring.db").string();
    auto ok = doubled(21);
    auto long_one = slow(7);
    // Two threads: the third slow task waits, so it starts running in a later batch.
    auto waits1 = slow(8);
    auto waits2 = slow(9);
    auto bad = always_fails.with({.retries = 2})(1);
    auto dep = doubled(bad);
    auto m1 = cached(5);
    m1.get();
    auto m2 = cached(5);
    EXPECT_EQ(ok.get(), 42);
    EXPECT_EQ(long_one.get(), 7);
    EXPECT_EQ(waits1.get() + waits2.get(), 17);
    slow_id = long_one.task_id();
    EXPECT_THROW(bad.get(), std::runtime_error);
    EXPECT_THROW(dep.get(), parsl::DependencyError);
    EXPECT_EQ(m2.get(), 6);
    ok_id = ok.task_id();
    failed_id = bad.task_id();
    dep_id = dep.task_id();
    memo_first = m1.task_id();
    memo_hit = m2.task_id();
    dfk.cleanup();
  }
  EXPECT_EQ(query(file, "SELECT count(*) FROM task")[0][0], "8");
  // Every slow try has its running time, whether it was written with the launch or later.
  EXPECT_EQ(query(file, "SELECT count(*) FROM try t JOIN task k USING (task_id, run_id) WHERE "
                        "k.task_func_name = 'monitoring_test.slow' AND t.task_try_time_running > "
                        "t.task_try_time_launched AND t.task_try_time_returned > t.task_try_time_running")[0][0],
            "3");
  EXPECT_EQ(states_of(file, slow_id),
            (std::vector<std::string>{"pending", "launched", "running", "running_ended", "exec_done"}));
  const auto slow_try = query(file, "SELECT task_try_time_running IS NOT NULL, task_try_time_returned > "
                                    "task_try_time_running FROM try WHERE task_id = " + std::to_string(slow_id));
  ASSERT_EQ(slow_try.size(), 1u);
  EXPECT_EQ(slow_try[0], (std::vector<std::string>{"1", "1"}));
  EXPECT_EQ(query(file, "SELECT task_time_returned > task_time_invoked FROM task WHERE task_id = " +
                            std::to_string(slow_id))[0][0],
            "1");
  EXPECT_EQ(states_of(file, ok_id),
            (std::vector<std::string>{"pending", "launched", "running", "running_ended", "exec_done"}));
  EXPECT_EQ(states_of(file, failed_id),
            (std::vector<std::string>{"pending", "launched", "running", "running_ended", "fail_retryable", "launched",
                                      "running", "running_ended", "fail_retryable", "launched", "running",
                                      "running_ended", "failed"}));
  EXPECT_EQ(states_of(file, dep_id), (std::vector<std::string>{"pending", "dep_fail"}));
  EXPECT_EQ(states_of(file, memo_first).back(), "exec_done");
  EXPECT_EQ(states_of(file, memo_hit), (std::vector<std::string>{"pending", "memo_done"}));

  // Tries: one for the success, three for the failure (each with its error), none for the others.
  const auto tries = query(file, "SELECT task_id, try_id, task_executor, task_try_time_launched, "
                                 "task_try_time_running, task_try_time_returned, task_fail_history, hostname "
                                 "FROM try ORDER BY task_id, try_id");
  std::map<std::string, int> per_task;
  for (const auto& t : tries) {
    ++per_task[t[0]];
    EXPECT_EQ(t[2], "threads");
    EXPECT_LE(t[3], t[4]);  // launched <= running <= returned
    EXPECT_LE(t[4], t[5]);
    EXPECT_NE(t[5], "NULL");
    EXPECT_NE(t[7], "NULL");
    if (t[0] == std::to_string(failed_id)) {
      EXPECT_NE(t[6].find("no luck"), std::string::npos) << t[6];
    }
    if (t[0] == std::to_string(ok_id)) {
      EXPECT_EQ(t[6], "NULL");
    }
  }
  EXPECT_EQ(per_task[std::to_string(ok_id)], 1);
  EXPECT_EQ(per_task[std::to_string(failed_id)], 3);
  EXPECT_EQ(per_task.count(std::to_string(dep_id)), 0u);
  EXPECT_EQ(per_task.count(std::to_string(memo_hit)), 0u);

  const auto task = query(file, "SELECT task_fail_count, task_func_name, task_memoize, task_depends, "
                                "task_time_invoked <= task_time_returned FROM task WHERE task_id = " +
                                    std::to_string(failed_id));
  ASSERT_EQ(task.size(), 1u);
  EXPECT_EQ(task[0][0], "3");
  EXPECT_EQ(task[0][1], "monitoring_test.always_fails");
  EXPECT_EQ(task[0][2], "False");
  EXPECT_EQ(task[0][4], "1");
  EXPECT_EQ(query(file, "SELECT task_depends FROM task WHERE task_id = " + std::to_string(dep_id))[0][0],
            std::to_string(failed_id));
  const auto wf = query(file, "SELECT time_completed IS NOT NULL, tasks_completed_count, tasks_failed_count FROM workflow");
  ASSERT_EQ(wf.size(), 1u);
  EXPECT_EQ(wf[0], (std::vector<std::string>{"1", "6", "2"}));
  // The thread pool's node (this host, its threads as workers) and its block, running then completed.
  const auto node = query(file, "SELECT hostname, worker_count, cpu_count > 0, total_memory > 0, block_id FROM node");
  ASSERT_EQ(node.size(), 1u);
  EXPECT_EQ(node[0], (std::vector<std::string>{parsl::serial::this_host(), "2", "1", "1", "0"}));
  EXPECT_EQ(query(file, "SELECT executor_label, block_id, status FROM block ORDER BY timestamp"),
            (Rows{{"threads", "0", "RUNNING"}, {"threads", "0", "COMPLETED"}}));
}

// An executor that runs tasks elsewhere, as the MPI one does.
struct RemoteExecutor final : parsl::Executor {
  RemoteExecutor() : Executor("mpi") {}
  void submit(parsl::TaskHandle) override {}
  void shutdown() override {}
  bool runs_in_process() const noexcept override { return false; }
};

// What an MPI worker reports (TaskHandle::ran_on, report_usage): the try's host, rank, cores
// and running time from the worker's clock, its running and running_ended rows, resource
// rows; and no running row from the kernel's clock for an executor that runs tasks elsewhere.
TEST(Monitoring, WorkerReportsGiveTheTrysHostRankTimesAndResources) {
  using parsl::TaskState;
  const auto dir = parsl::test::scratch_dir();
  const std::string file = (dir / "w.db").string();
  const std::int64_t t0 = 1'700'000'000'000'000;  // microseconds since the epoch
  const RemoteExecutor mpi;
  {
    parsl::detail::MonitoringDb db(file, "run", "w", dir.string());
    db.task(1, "app", false, "");
    db.state_changed(1, 1, TaskState::pending, TaskState::launched, &mpi, "", 0);
    db.try_worker(1, 1, 3, "node7", "2-3", t0, 0);  // the started event: same batch as the launch
    db.state_changed(1, 1, TaskState::launched, TaskState::running, &mpi, "", 0);
    parsl::ResourceSample s;
    s.time_us = t0 + 5'000'000;
    s.pid = 4242;
    s.interval = 5;
    s.cpu_percent = 99.5;
    s.children = 2;
    s.time_user = 4.5;
    s.memory_resident = 1 << 20;
    s.disk_write = 4096;
    s.status = "running";
    db.resource(1, 1, s);
    std::this_thread::sleep_for(std::chrono::milliseconds(450));  // the end comes in a later batch
    db.try_worker(1, 1, 3, "node7", "2-3", t0, t0 + 7'000'000);
    db.state_changed(1, 1, TaskState::running, TaskState::exec_done, &mpi, "", 0);
  }
  EXPECT_EQ(query(file, "SELECT hostname, worker_rank, worker_cores, task_try_time_running, "
                        "task_try_time_running_ended, task_try_time_returned IS NOT NULL FROM try"),
            (Rows{{"node7", "3", "2-3", parsl::detail::MonitoringDb::format_time(t0),
                   parsl::detail::MonitoringDb::format_time(t0 + 7'000'000), "1"}}));
  // One running row though two reports said when it started; running_ended at the worker's end.
  EXPECT_EQ(query(file, "SELECT task_status_name, timestamp FROM status WHERE task_status_name LIKE 'running%' "
                        "ORDER BY timestamp"),
            (Rows{{"running", parsl::detail::MonitoringDb::format_time(t0)},
                  {"running_ended", parsl::detail::MonitoringDb::format_time(t0 + 7'000'000)}}));
  EXPECT_EQ(query(file, "SELECT psutil_process_pid, psutil_process_cpu_percent, psutil_process_children_count, "
                        "psutil_process_time_user, psutil_process_memory_resident, psutil_process_disk_write, "
                        "psutil_process_status, resource_monitoring_interval, try_id FROM resource"),
            (Rows{{"4242", "99.5", "2.0", "4.5", "1048576.0", "4096.0", "running", "5.0", "1"}}));
}

// More records than the queue holds (MonitoringDb::kMaxQueued), pushed faster than SQLite
// takes them: the pushing thread waits for the writer, and every row is in the database.
TEST(Monitoring, AFullQueueMakesThePusherWaitAndLosesNothing) {
  using parsl::TaskState;
  const auto dir = parsl::test::scratch_dir();
  const std::string file = (dir / "full.db").string();
  const RemoteExecutor mpi;
  const std::uint64_t tasks = parsl::detail::MonitoringDb::kMaxQueued;  // 4 records per task: 4 times the queue
  std::string backlog;
  {
    parsl::detail::MonitoringDb db(file, "run", "w", dir.string());
    const std::int64_t t0 = 1'700'000'000'000'000;
    for (std::uint64_t id = 1; id <= tasks; ++id) {
      db.task(id, "app", false, "");
      db.state_changed(id, 1, TaskState::pending, TaskState::launched, &mpi, "", 0);
      db.try_worker(id, 1, 1, "node0", "0", t0 + static_cast<std::int64_t>(id), t0 + static_cast<std::int64_t>(id) + 1);
      db.state_changed(id, 1, TaskState::launched, TaskState::exec_done, &mpi, "", 0);
    }
    backlog = db.backlog();
  }
  EXPECT_NE(backlog.find("waited"), std::string::npos) << backlog;
  const std::string n = std::to_string(tasks);
  EXPECT_EQ(query(file, "SELECT count(*), count(DISTINCT task_id), min(task_id), max(task_id) FROM task"),
            (Rows{{n, n, "1", n}}));
  EXPECT_EQ(query(file, "SELECT count(*), count(hostname), count(task_try_time_running_ended), "
                        "count(task_try_time_returned) FROM try"),
            (Rows{{n, n, n, n}}));
  EXPECT_EQ(query(file, "SELECT task_status_name, count(*) FROM status GROUP BY 1 ORDER BY 1"),
            (Rows{{"exec_done", n}, {"launched", n}, {"pending", n}, {"running", n}, {"running_ended", n}}));
}

// Longer than MonitoringDb::kOpenRowDelayUs: written while open, then updated.
const auto long_fail = parsl::app("monitoring_test.long_fail", [](int ms) -> int {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  if (parsl::current_task().attempt == 1) throw std::runtime_error("first try fails");
  return ms;
});

// A task that has not ended is in the database about a second after it started, as
// running; when it ends, its rows are completed in place: no row twice, the task's end and
// fail count on its row though a later try ended it.
TEST(Monitoring, ATaskStillRunningIsVisibleAndItsRowsAreCompletedInPlace) {
  parsl::Config c = parsl::test::thread_config();
  c.monitoring = true;
  std::string file;
  std::uint64_t id = 0;
  Rows while_running;
  {
    parsl::DataFlowKernel dfk(c);
    file = (dfk.run_dir() / "monitoring.db").string();
    auto f = long_fail.with({.retries = 1})(3000);
    id = f.task_id();
    // Within the first try's 3 s (the writer may wait for an idle CPU on a busy machine).
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2700);
    while (while_running.empty() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      while_running = query(file, "SELECT k.task_time_returned IS NULL, t.try_id, t.task_try_time_running IS NOT "
                                  "NULL, t.task_try_time_returned IS NULL FROM task k JOIN try t USING (task_id, "
                                  "run_id) WHERE task_id = " + std::to_string(id));
    }
    EXPECT_EQ(f.get(), 3000);
    dfk.cleanup();
  }
  EXPECT_EQ(while_running, (Rows{{"1", "1", "1", "1"}}));
  const std::string where = " WHERE task_id = " + std::to_string(id);
  EXPECT_EQ(query(file, "SELECT count(*), task_fail_count, task_time_returned > task_time_invoked FROM task" + where),
            (Rows{{"1", "1", "1"}}));
  EXPECT_EQ(query(file, "SELECT try_id, task_try_time_returned > task_try_time_running, task_fail_history IS NOT NULL "
                        "FROM try" + where + " ORDER BY try_id"),
            (Rows{{"1", "1", "1"}, {"2", "1", "0"}}));
  EXPECT_EQ(states_of(file, id), (std::vector<std::string>{"pending", "launched", "running", "running_ended",
                                                           "fail_retryable", "launched", "running", "running_ended",
                                                           "exec_done"}));
  EXPECT_EQ(query(file, "SELECT count(*) FROM task_life" + where)[0][0], "2");  // a row per try
}

// A database with Parsl's tables as Parsl writes them (tables, not our views): refused,
// and left as it was.
TEST(Monitoring, ADatabaseWrittenByParslIsRefusedAndLeftAlone) {
  const auto dir = parsl::test::scratch_dir();
  const std::string file = (dir / "parsl.db").string();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE task (task_id INTEGER, run_id TEXT, task_func_name TEXT); "
                     "INSERT INTO task VALUES (1, 'theirs', 'f')", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  try {
    parsl::detail::MonitoringDb db(file, "r", "w", "/tmp");
    FAIL() << "a database of Parsl's own tables was accepted";
  } catch (const parsl::ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("parsl.db"), std::string::npos) << what;
    EXPECT_NE(what.find("'task'"), std::string::npos) << what;
    EXPECT_NE(what.find("a database of its own"), std::string::npos) << what;
  }
  EXPECT_EQ(query(file, "SELECT name FROM sqlite_master ORDER BY name"), (Rows{{"task"}}));
  EXPECT_EQ(query(file, "SELECT * FROM task"), (Rows{{"1", "theirs", "f"}}));
}

// Another program holds the database's write lock for a while during the run: the writer
// keeps its records and writes them once the lock is gone; nothing is lost.
TEST(Monitoring, ADatabaseLockedForAWhileLosesNothing) {
  using parsl::TaskState;
  const auto dir = parsl::test::scratch_dir();
  const std::string file = (dir / "locked.db").string();
  const RemoteExecutor mpi;
  {
    parsl::detail::MonitoringDb db(file, "run", "w", dir.string());
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    const std::int64_t t0 = 1'700'000'000'000'000;
    for (std::uint64_t id = 1; id <= 100; ++id) {
      db.task(id, "app", false, "");
      db.state_changed(id, 1, TaskState::pending, TaskState::launched, &mpi, "", 0);
      db.try_worker(id, 1, 1, "node0", "0", t0 + static_cast<std::int64_t>(id), t0 + static_cast<std::int64_t>(id) + 1);
      db.state_changed(id, 1, TaskState::launched, TaskState::exec_done, &mpi, "", 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2600));  // the writer finds it locked
    EXPECT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(other);
  }
  EXPECT_EQ(query(file, "SELECT count(*), min(task_id), max(task_id) FROM task"), (Rows{{"100", "1", "100"}}));
  EXPECT_EQ(query(file, "SELECT count(*) FROM status"), (Rows{{"500"}}));
}

// A batch that fails (here a trigger refuses the row of an open task; on a real machine a
// full disk) is rolled back. The open task's row is written again later as a new row, and
// no other task's row is overwritten by an UPDATE of a rowid that the rollback gave back.
TEST(Monitoring, AFailedBatchOverwritesNoOtherTasksRow) {
  using parsl::TaskState;
  const auto dir = parsl::test::scratch_dir();
  const std::string file = (dir / "failed.db").string();
  const RemoteExecutor mpi;
  const std::int64_t t0 = 1'700'000'000'000'000;
  auto ran = [&](parsl::detail::MonitoringDb& db, std::uint64_t id) {
    db.task(id, "app", false, "");
    db.state_changed(id, 1, TaskState::pending, TaskState::launched, &mpi, "", 0);
    db.try_worker(id, 1, 1, "node0", "0", t0 + static_cast<std::int64_t>(id), t0 + static_cast<std::int64_t>(id) + 1);
    db.state_changed(id, 1, TaskState::launched, TaskState::exec_done, &mpi, "", 0);
  };
  auto other = [&](const char* sql) {
    sqlite3* c = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &c), SQLITE_OK);
    sqlite3_busy_timeout(c, 5000);
    EXPECT_EQ(sqlite3_exec(c, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql;
    sqlite3_close(c);
  };
  {
    parsl::detail::MonitoringDb db(file, "run", "w", dir.string());
    for (std::uint64_t id = 1; id <= 3; ++id) ran(db, id);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // written and committed
    other("CREATE TRIGGER refuse BEFORE INSERT ON task_life WHEN NEW.task_id = 5 AND NEW.end_state IS NULL "
          "BEGIN SELECT RAISE(ABORT, 'refused'); END");
    db.task(5, "app", false, "");
    db.state_changed(5, 1, TaskState::pending, TaskState::launched, &mpi, "", 0);
    db.try_worker(5, 1, 1, "node0", "0", t0 + 5, 0);  // running, not ended
    std::this_thread::sleep_for(std::chrono::milliseconds(2000));  // its early row is refused
    other("DROP TRIGGER refuse");
    db.try_worker(5, 1, 1, "node0", "0", t0 + 5, t0 + 6);
    db.state_changed(5, 1, TaskState::launched, TaskState::exec_done, &mpi, "", 0);
  }
  EXPECT_EQ(query(file, "SELECT task_id FROM task ORDER BY 1"), (Rows{{"1"}, {"2"}, {"3"}, {"5"}}));
  EXPECT_EQ(query(file, "SELECT task_id, count(*) FROM try GROUP BY 1 ORDER BY 1"),
            (Rows{{"1", "1"}, {"2", "1"}, {"3", "1"}, {"5", "1"}}));
}

TEST(Monitoring, AForeignOrUnwritableDatabaseIsAClearError) {
  const auto dir = parsl::test::scratch_dir();
  const std::string foreign = (dir / "foreign.db").string();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(foreign.c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE task (name TEXT, owner TEXT)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  try {
    parsl::detail::MonitoringDb db(foreign, "r", "w", "/tmp");
    FAIL() << "a foreign database was accepted";
  } catch (const parsl::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("foreign.db"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("is not Parsl's"), std::string::npos) << e.what();
  }
  const std::string junk = (dir / "junk.db").string();
  std::ofstream(junk) << "this is not a database at all, just text that is long enough to have a header....";
  EXPECT_THROW(parsl::detail::MonitoringDb(junk, "r", "w", "/tmp"), parsl::ConfigError);
  EXPECT_THROW(parsl::detail::MonitoringDb("/proc/no/such/dir/m.db", "r", "w", "/tmp"), parsl::ConfigError);
}

}  // namespace
