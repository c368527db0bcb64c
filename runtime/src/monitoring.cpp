#include "monitoring.hpp"

#include <sqlite3.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>

#include "parsl/runtime/errors.hpp"
#include "parsl/serial/remote_error.hpp"
#include "job_deadline.hpp"

namespace parsl::detail {

namespace {

// Parsl's tables, column for column (parsl/monitoring/db_manager.py), as SQLAlchemy creates
// them in SQLite, except three: a task's life is one row per try in `task_life` (ours), and
// `task`, `try` and `status` are views of it with Parsl's columns. A no-op task is then one
// INSERT, where Parsl's tables take seven rows (docs/performance.md, "Monitoring").
//
// task_life: a row per try, plus a row for a task that ends without one (a dependency
// failure, a memo hit, a failure before its launch). The task's own columns are on its
// first row (is_task = 1); its app's name is on every row (tasks per app and end state
// without a join). A task that ends with its own row has no task_time_returned of its own:
// the view takes the row's end_time. A try's row has its launch time; its end state and time (or the
// task's, on a row without a try) are end_state and end_time. States other than those a
// row implies (pending, launched, running, running_ended, the end) go to status_other.
constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS workflow (
  run_id TEXT NOT NULL PRIMARY KEY, workflow_name TEXT, workflow_version TEXT,
  time_began DATETIME NOT NULL, time_completed DATETIME, host TEXT NOT NULL, user TEXT NOT NULL,
  rundir TEXT NOT NULL, tasks_failed_count INTEGER NOT NULL, tasks_completed_count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS task_life (
  task_id INTEGER NOT NULL, run_id TEXT NOT NULL, try_id INTEGER NOT NULL, is_task INTEGER NOT NULL,
  task_depends TEXT, task_func_name TEXT, task_memoize TEXT, task_hashsum TEXT, task_inputs TEXT,
  task_outputs TEXT, task_stdin TEXT, task_stdout TEXT, task_stderr TEXT, task_time_invoked DATETIME,
  task_time_returned DATETIME, task_fail_count INTEGER, task_fail_cost FLOAT,
  block_id TEXT, hostname TEXT, task_executor TEXT, task_try_time_launched DATETIME,
  task_try_time_running DATETIME, task_try_time_running_ended DATETIME, task_fail_history TEXT,
  worker_rank INTEGER, worker_cores TEXT, end_state TEXT, end_time DATETIME);
CREATE TABLE IF NOT EXISTS status_other (
  task_id INTEGER NOT NULL, task_status_name TEXT NOT NULL, timestamp DATETIME NOT NULL,
  run_id TEXT NOT NULL, try_id INTEGER NOT NULL);
CREATE VIEW IF NOT EXISTS task AS SELECT
  task_id, run_id, task_depends, task_func_name, task_memoize, task_hashsum, task_inputs, task_outputs,
  task_stdin, task_stdout, task_stderr, task_time_invoked,
  coalesce(task_time_returned, CASE WHEN end_state IN ('exec_done', 'memo_done', 'failed', 'dep_fail') THEN end_time
    END) AS task_time_returned, task_fail_count, task_fail_cost
  FROM task_life WHERE is_task = 1;
CREATE VIEW IF NOT EXISTS try AS SELECT
  try_id, task_id, run_id, block_id, hostname, task_executor, task_try_time_launched, task_try_time_running,
  end_time AS task_try_time_returned, task_fail_history, NULL AS task_joins, worker_rank, worker_cores,
  task_try_time_running_ended
  FROM task_life WHERE task_try_time_launched IS NOT NULL;
CREATE VIEW IF NOT EXISTS status AS
  SELECT task_id, 'pending' AS task_status_name, task_time_invoked AS timestamp, run_id, 0 AS try_id
    FROM task_life WHERE is_task = 1 AND task_time_invoked IS NOT NULL
  UNION ALL SELECT task_id, 'launched', task_try_time_launched, run_id, try_id
    FROM task_life WHERE task_try_time_launched IS NOT NULL
  UNION ALL SELECT task_id, 'running', task_try_time_running, run_id, try_id
    FROM task_life WHERE task_try_time_running IS NOT NULL
  UNION ALL SELECT task_id, 'running_ended', task_try_time_running_ended, run_id, try_id
    FROM task_life WHERE task_try_time_running_ended IS NOT NULL
  UNION ALL SELECT task_id, end_state, end_time, run_id, try_id
    FROM task_life WHERE end_state IS NOT NULL
  UNION ALL SELECT task_id, task_status_name, timestamp, run_id, try_id FROM status_other;
CREATE TABLE IF NOT EXISTS node (
  id INTEGER NOT NULL PRIMARY KEY, run_id TEXT NOT NULL, hostname TEXT NOT NULL, uid TEXT NOT NULL,
  block_id TEXT NOT NULL, cpu_count INTEGER NOT NULL, total_memory INTEGER NOT NULL, active BOOLEAN NOT NULL,
  worker_count INTEGER NOT NULL, python_v TEXT NOT NULL, timestamp DATETIME NOT NULL,
  last_heartbeat DATETIME NOT NULL);
CREATE TABLE IF NOT EXISTS block (
  run_id TEXT NOT NULL, executor_label TEXT NOT NULL, block_id TEXT NOT NULL, job_id TEXT,
  timestamp DATETIME NOT NULL, status TEXT NOT NULL, PRIMARY KEY (run_id, block_id, executor_label, timestamp));
CREATE TABLE IF NOT EXISTS resource (
  try_id INTEGER NOT NULL, task_id INTEGER NOT NULL, run_id TEXT NOT NULL, timestamp DATETIME NOT NULL,
  resource_monitoring_interval FLOAT, psutil_process_pid INTEGER, psutil_process_cpu_percent FLOAT,
  psutil_process_memory_percent FLOAT, psutil_process_children_count FLOAT, psutil_process_time_user FLOAT,
  psutil_process_time_system FLOAT, psutil_process_memory_virtual FLOAT, psutil_process_memory_resident FLOAT,
  psutil_process_disk_read FLOAT, psutil_process_disk_write FLOAT, psutil_process_status TEXT,
  PRIMARY KEY (try_id, task_id, run_id, timestamp));
)SQL";

// Our indexes (Parsl #2127: without them the database is unqueryable at hundreds of
// thousands of tasks): a task's rows, and the times of its tries' launches and of its ends.
// Each costs the kernel's end a sort of the rows (about a third of the writer's time per task).
constexpr const char* kIndexes = R"SQL(
CREATE INDEX IF NOT EXISTS ix_task_life_task ON task_life (task_id);
CREATE INDEX IF NOT EXISTS ix_task_life_launched ON task_life (task_try_time_launched);
CREATE INDEX IF NOT EXISTS ix_task_life_end ON task_life (end_state);
CREATE INDEX IF NOT EXISTS ix_status_other_task ON status_other (task_id, run_id);
CREATE INDEX IF NOT EXISTS ix_resource_task ON resource (task_id, run_id);
CREATE INDEX IF NOT EXISTS ix_resource_timestamp ON resource (timestamp);
)SQL";

std::string sqlite_error(sqlite3* db) { return db ? sqlite3_errmsg(db) : "out of memory"; }

}  // namespace

std::int64_t MonitoringDb::now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string MonitoringDb::format_time(std::int64_t us) {
  const std::time_t t = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06ld", static_cast<long>(us % 1000000));
  return buf;
}

std::string MonitoringDb::timestamp() { return format_time(now_us()); }

MonitoringDb::MonitoringDb(const std::filesystem::path& file, std::string run_id, const std::string& workflow_name,
                           const std::string& rundir)
    : file_(file), run_id_(std::move(run_id)) {
  auto fail = [&](const std::string& what) {
    const std::string msg = "monitoring database " + file_.string() + ": " + what;
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
    throw ConfigError(msg);
  };
  if (sqlite3_open_v2(file_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK)
    fail("cannot open: " + sqlite_error(db_));
  sqlite3_busy_timeout(db_, 2000);
  char* err = nullptr;
  // WAL: readers (parsl-report, a user's sqlite3) never block the writer (Parsl #1889).
  // A 64 MB page cache: the writer reads fewer pages back while it inserts. Pages of 16 KB
  // (a new database only): about 15% less of the writer's time per row than 4 KB.
  if (sqlite3_exec(db_, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;", nullptr,
                   nullptr, &err) != SQLITE_OK) {
    const std::string e = err ? err : sqlite_error(db_);
    sqlite3_free(err);
    fail("cannot be written (" + e + "); is it locked by another program, or not a SQLite database?");
  }
  // Parsl's task, try and status as tables: a database written by Parsl (or by parsl-mpi
  // before task_life), or by another program. Ours are views; we do not write into theirs.
  auto columns = [&](const std::string& table) {
    sqlite3_stmt* st = nullptr;
    std::set<std::string> cols;
    if (sqlite3_prepare_v2(db_, ("PRAGMA table_info(" + table + ")").c_str(), -1, &st, nullptr) == SQLITE_OK)
      while (sqlite3_step(st) == SQLITE_ROW) cols.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    sqlite3_finalize(st);
    return cols;
  };
  {
    sqlite3_stmt* st = nullptr;
    std::vector<std::string> tables;
    if (sqlite3_prepare_v2(db_, "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('task', 'try', "
                                "'status') ORDER BY name", -1, &st, nullptr) != SQLITE_OK)
      fail("cannot be read (" + sqlite_error(db_) + "); is it locked by another program, or not a SQLite database?");
    while (sqlite3_step(st) == SQLITE_ROW) tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    for (const std::string& t : tables) {
      const auto cols = columns(t);
      if (!cols.count("run_id") || !cols.count("task_id"))
        fail("its table '" + t + "' is not Parsl's (a database of another program?)");
      fail("its table '" + t + "' is a table of Parsl's schema as Parsl (or parsl-mpi before its task_life table) "
           "writes it; parsl-mpi keeps tasks in task_life with '" + t + "' as a view, and does not add to another "
           "program's tables: give this run a database of its own");
    }
  }
  if (sqlite3_exec(db_, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string e = err ? err : sqlite_error(db_);
    sqlite3_free(err);
    fail("cannot create Parsl's tables: " + e);
  }
  // A database of another schema that happens to have our table names: refuse it.
  for (const std::string table : {"task_life", "task", "try", "status", "workflow"}) {
    const auto cols = columns(table);
    if (!cols.count("run_id") || (table != "workflow" && !cols.count("task_id")) ||
        (table == "task_life" && !cols.count("end_state")))
      fail("its table '" + table + "' is not Parsl's (a database of another program?)");
  }
  // The secondary indexes are made at the end (the destructor): kept up row by row during
  // the run they cost the writer most of its time. Made here too when the database already
  // has them (a reader's queries stay fast); an index of a foreign schema fails here.
  if (sqlite3_exec(db_, "SAVEPOINT probe", nullptr, nullptr, nullptr) == SQLITE_OK) {
    const bool ok = sqlite3_exec(db_, kIndexes, nullptr, nullptr, &err) == SQLITE_OK;
    const std::string e = ok ? std::string() : (err ? err : sqlite_error(db_));
    sqlite3_free(err);
    err = nullptr;
    sqlite3_exec(db_, "ROLLBACK TO probe; RELEASE probe", nullptr, nullptr, nullptr);
    if (!ok) fail("cannot create its indexes: " + e + " (a database of another program?)");
  }
  sqlite3_stmt* st = nullptr;
  const char* insert_workflow =
      "INSERT OR REPLACE INTO workflow (run_id, workflow_name, workflow_version, time_began, host, user, rundir, "
      "tasks_failed_count, tasks_completed_count) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)";
  if (sqlite3_prepare_v2(db_, insert_workflow, -1, &st, nullptr) != SQLITE_OK) fail(sqlite_error(db_));
  const std::string began = timestamp();
  const char* user = std::getenv("USER");
  sqlite3_bind_text(st, 1, run_id_.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, workflow_name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, "parsl-mpi 0.1", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, began.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 5, serial::this_host().c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 6, user ? user : std::to_string(::getuid()).c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 7, rundir.c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) fail("cannot write the workflow row: " + sqlite_error(db_));
  w_.reset(make_writer());
  writer_ = std::thread([this] { writer_loop(); });
}

std::unique_ptr<MonitoringDb> MonitoringDb::for_run(const std::filesystem::path& run_dir) {
  const std::string run_id =
      run_dir.filename().string() + "-" + std::to_string(::getpid()) + "-" + std::to_string(::time(nullptr));
  return std::make_unique<MonitoringDb>(run_dir / "monitoring.db", run_id, "parsl-mpi",
                                        std::filesystem::absolute(run_dir).string());
}

MonitoringDb::~MonitoringDb() {
  {
    std::lock_guard lock(queue_lock_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  w_.reset();  // its statements, before the database closes
  if (db_) {
    char* err = nullptr;
    if (sqlite3_exec(db_, kIndexes, nullptr, nullptr, &err) != SQLITE_OK)
      std::fprintf(stderr, "parsl: monitoring database %s: cannot create its indexes: %s\n", file_.c_str(),
                   err ? err : sqlite_error(db_).c_str());
    sqlite3_free(err);
    sqlite3_close(db_);
  }
}

void MonitoringDb::push(Op a, Op b) {
  bool wake;
  {
    std::unique_lock lock(queue_lock_);
    wait_for_room(lock);
    queue_.push_back(std::move(a));
    queue_.push_back(std::move(b));
    wake = writer_waits_ && queue_.size() >= kWakeWriter;
  }
  if (wake) cv_.notify_one();
}

void MonitoringDb::push(Op op) {
  bool wake;
  {
    std::unique_lock lock(queue_lock_);
    wait_for_room(lock);
    queue_.push_back(std::move(op));
    wake = writer_waits_ && queue_.size() >= kWakeWriter;
  }
  if (wake) cv_.notify_one();  // else the writer wakes on its own every 200 ms
}

std::string MonitoringDb::backlog() const {
  std::lock_guard lock(queue_lock_);
  std::string s = std::to_string(queue_.size()) + " records";
  if (waits_) s += " (the kernel waited " + std::to_string(waits_) + " times for the writer: its queue was full)";
  return s;
}

void MonitoringDb::wait_for_room(std::unique_lock<QueueLock>& lock) {
  if (queue_.size() < kMaxQueued) return;
  // The writer is behind by kMaxQueued records: the kernel's thread waits for it (memory
  // stays bounded; a campaign runs no faster than its records are written).
  ++waits_;
  cv_.notify_one();
  room_.wait(lock, [&] { return queue_.size() < kMaxQueued; });
}

void MonitoringDb::task(std::uint64_t id, const std::string& func_name, bool memoize, const std::string& depends) {
  push(Op{Kind::task, id, 0, 0, now_us(), memoize ? "True" : "False", depends, func_name});
}

void MonitoringDb::state_changed(std::uint64_t id, std::uint32_t try_id, TaskState from, TaskState s,
                                 const Executor* executor, const std::string& failure, double fail_cost) noexcept {
  try {
    const bool here = executor && executor->runs_in_process();
    const std::string_view name = to_string(s);
    const std::int64_t now = now_us();
    switch (s) {
      case TaskState::launched:
        push(Op{Kind::try_launched, id, try_id, 0, now, {}, executor ? executor->label() : std::string(),
                here ? serial::this_host() : std::string()});
        return;
      case TaskState::running:
        if (!here) return;  // elsewhere, the worker's clock says when a try ran (try_worker)
        push(Op{Kind::try_running, id, try_id, 0, now, {}, {}, {}});
        return;
      case TaskState::exec_done:
      case TaskState::failed:
      case TaskState::fail_retryable: {
        // The try's end (with its error), and, unless it is retried, the task's: failures
        // so far (every try but a successful last one) and their cost. A try that was
        // never launched (try 0) ends the task without a try.
        Op ret{Kind::try_returned, id, try_id, 0, now, name, s == TaskState::exec_done ? std::string() : failure, {}};
        if (here && from == TaskState::running) ret.time2_us = now;  // its running_ended
        if (s == TaskState::fail_retryable) {
          push(std::move(ret));
          return;
        }
        push(std::move(ret), Op{Kind::task_returned, id, try_id - (s == TaskState::exec_done && try_id ? 1 : 0),
                                fail_cost, now, name, {}, {}});
        return;
      }
      case TaskState::dep_fail:
      case TaskState::memo_done:
        push(Op{Kind::task_returned, id, 0, 0, now, name, {}, {}});
        return;
      default: status(id, try_id, name); return;
    }
  } catch (...) {
    // Monitoring must never fail a task; the writer reports its own errors.
  }
}

void MonitoringDb::try_worker(std::uint64_t id, std::uint32_t try_id, std::int32_t rank, std::string_view host,
                              std::string_view cores, std::int64_t started_us, std::int64_t ended_us) noexcept {
  try {
    Op op{Kind::try_worker, id, try_id, 0, started_us, {}, std::string(host), {}};
    op.time2_us = ended_us;
    op.rank = rank;
    op.b = cores;
    push(std::move(op));
  } catch (...) {
  }
}

void MonitoringDb::resource(std::uint64_t id, std::uint32_t try_id, const ResourceSample& sample) noexcept {
  try {
    Op op{Kind::resource, id, try_id, 0, sample.time_us, {}, {}, {}};
    op.extra = std::make_unique<Extra>(Extra{sample, {}});
    push(std::move(op));
  } catch (...) {
  }
}

void MonitoringDb::executors_started(const std::vector<Executor*>& executors) {
  // Inside a pilot job of parsl-submit: its job number and the scheduler's id.
  const char* job = std::getenv("PARSL_SUBMIT_JOB");
  const std::string block_id = job && *job ? job : "0";
  std::string job_id;
  for (const char* v : {"SLURM_JOB_ID", "PBS_JOBID", "COBALT_JOBID", "LSB_JOBID"})
    if (const char* j = std::getenv(v); j && *j) {
      job_id = j;
      break;
    }
  for (const Executor* e : executors) {
    Op b{Kind::block, 0, 0, 0, now_us(), "RUNNING", e->label(), block_id};
    b.extra = std::make_unique<Extra>(Extra{{}, job_id});
    push(std::move(b));
    blocks_.emplace_back(e->label(), block_id);
    for (const auto& n : e->nodes()) {
      Op op{Kind::node, 0, static_cast<std::uint32_t>(n.cores), static_cast<double>(n.memory), now_us(), {}, n.host,
            block_id};
      op.rank = n.workers;
      push(std::move(op));
    }
  }
  job_id_ = job_id;
}

void MonitoringDb::status(std::uint64_t id, std::uint32_t try_id, std::string_view state) {
  push({Kind::status, id, try_id, 0, now_us(), state, {}, {}});
}
void MonitoringDb::workflow_end(std::uint64_t completed, std::uint64_t failed) {
  std::optional<JobDeadline> deadline;
  try {
    deadline = job_deadline();
  } catch (...) {  // a bad value stopped the run at its start already
  }
  const bool ending = deadline && static_cast<double>(now_us()) / 1e6 >= deadline->end - deadline->drain;
  for (const auto& [executor, block] : blocks_) {
    Op b{Kind::block, 0, 0, 0, now_us(), ending ? "TIMEOUT" : "COMPLETED", executor, block};
    b.extra = std::make_unique<Extra>(Extra{{}, job_id_});
    push(std::move(b));
  }
  push({Kind::workflow_end, completed, static_cast<std::uint32_t>(failed), 0, now_us(), {}, {}, {}});
  cv_.notify_one();
}

void MonitoringDb::writer_loop() {
  // The writer runs only when no other thread wants a CPU (SCHED_IDLE): a thread of the
  // task loop that wakes takes the CPU back at once. It runs on the node's cores other than
  // those mpirun bound rank 0 to (at 2 ranks Open MPI binds each rank to one core): there it
  // would compete with the kernel's threads and evict what they keep in the core's caches.
  // A rank 0 bound to every core (or to none) leaves it every core; the kernel narrows the
  // set to the CPUs this process's cgroup may use.
  //
  // When the queue is full the kernel's threads wait (wait_for_room), and the writer asks
  // for normal priority while it catches up, so that spinning threads elsewhere cannot
  // starve it (allowed for root, or with RLIMIT_NICE; else it relies on the freed CPUs).
  // It stays off rank 0's cores then too: once it has taken the full queue, the kernel's
  // threads run again.
  {
    cpu_set_t mine, others, every;
    CPU_ZERO(&others);
    CPU_ZERO(&every);
    const long cpus = ::sysconf(_SC_NPROCESSORS_CONF);
    for (long c = 0; c < cpus && c < CPU_SETSIZE; ++c) CPU_SET(static_cast<int>(c), &every);
    if (pthread_getaffinity_np(pthread_self(), sizeof mine, &mine) == 0)
      for (long c = 0; c < cpus && c < CPU_SETSIZE; ++c)
        if (!CPU_ISSET(static_cast<int>(c), &mine)) CPU_SET(static_cast<int>(c), &others);
    if (CPU_COUNT(&others) == 0 || pthread_setaffinity_np(pthread_self(), sizeof others, &others) != 0)
      pthread_setaffinity_np(pthread_self(), sizeof every, &every);  // else rank 0's, as it was
  }
  const sched_param param{};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
  bool idle = true;
  std::vector<Op> batch;  // kept while another program holds the database's write lock
  std::chrono::steady_clock::time_point locked_since{};
  bool said_locked = false, gave_up = false;
  for (;;) {
    bool stopping, ending, full;
    {
      std::unique_lock lock(queue_lock_);
      writer_waits_ = true;
      cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stop_ || queue_.size() >= kWakeWriter; });
      writer_waits_ = false;
      full = queue_.size() >= kMaxQueued;
      if (batch.empty()) {
        batch.swap(queue_);
      } else if (batch.size() < kMaxQueued) {  // held back: the new records go after it
        batch.insert(batch.end(), std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
        queue_.clear();
      }
      ending = stop_;
      stopping = stop_ && queue_.empty();  // this batch is the last
    }
    room_.notify_all();
    if (full && idle && pthread_setschedparam(pthread_self(), SCHED_OTHER, &param) == 0) idle = false;
    if (!full && !idle && pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) == 0) idle = true;
    const std::size_t records = batch.size();
    bool busy = false;
    std::string error = write_batch(batch, stopping, busy);
    if (busy) {
      // Another program holds the write lock (a reader's lock does not stop us: WAL). Keep
      // the records and try again; at the kernel's end, give up after kLockedGiveUpS.
      const auto now = std::chrono::steady_clock::now();
      if (!said_locked) {
        locked_since = now;
        said_locked = true;
        std::fprintf(stderr, "parsl: monitoring database %s is locked by another program; %zu records wait\n",
                     file_.c_str(), records);
      }
      if (!ending || (!gave_up && now - locked_since < std::chrono::seconds(kLockedGiveUpS))) continue;
      gave_up = true;  // the rest of the queue too, without waiting again
      error = "it stayed locked by another program for " + std::to_string(kLockedGiveUpS) + " s";
    }
    said_locked = false;
    batch.clear();
    if (!error.empty()) {
      std::lock_guard lock(queue_lock_);
      if (last_error_.empty()) {
        last_error_ = error;
        if (records == 0)  // only rows of tasks still open: kept, tried again
          std::fprintf(stderr, "parsl: monitoring database %s: rows of tasks still open were not written (they are "
                       "tried again): %s\n", file_.c_str(), error.c_str());
        else
          std::fprintf(stderr, "parsl: monitoring database %s: a batch of %zu records was not written: %s\n",
                       file_.c_str(), records, error.c_str());
      }
    }
    if (stopping) {
      std::lock_guard lock(queue_lock_);
      if (queue_.empty()) return;
    }
  }
}

}  // namespace parsl::detail
