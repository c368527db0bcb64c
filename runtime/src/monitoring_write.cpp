// MonitoringDb's writer: a batch of records into the database in one transaction, with
// prepared statements, records of one try or task merged into one row where the batch
// holds them all, and status rows many to an INSERT.
#include "monitoring.hpp"

#include <sqlite3.h>

#include <cstdio>
#include <unordered_map>

namespace parsl::detail {

namespace {

constexpr const char* kStatements[] = {
    // Kind::task
    "INSERT OR REPLACE INTO task (task_id, run_id, task_depends, task_func_name, task_memoize, task_time_invoked, "
    "task_fail_count, task_fail_cost, task_time_returned) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10)",
    // Kind::status
    "INSERT OR IGNORE INTO status (task_id, run_id, task_status_name, timestamp, try_id) VALUES (?1, ?2, ?3, ?6, ?7)",
    // Kind::try_launched
    "INSERT OR REPLACE INTO try (try_id, task_id, run_id, task_executor, task_try_time_launched, hostname, "
    "task_try_time_running, task_try_time_returned, task_fail_history, worker_rank, worker_cores, "
    "task_try_time_running_ended) VALUES (?7, ?1, ?2, ?3, ?6, ?4, ?9, ?10, ?5, ?11, ?12, ?13)",
    // Kind::try_running
    "UPDATE try SET task_try_time_running = ?6 WHERE try_id = ?7 AND task_id = ?1 AND run_id = ?2",
    // Kind::try_returned
    "UPDATE try SET task_try_time_returned = ?6, task_fail_history = ?3 WHERE try_id = ?7 AND task_id = ?1 AND "
    "run_id = ?2",
    // Kind::task_returned
    "UPDATE task SET task_time_returned = ?6, task_fail_count = ?7, task_fail_cost = ?8 WHERE task_id = ?1 AND "
    "run_id = ?2",
    // Kind::workflow_end
    "UPDATE workflow SET time_completed = ?6, tasks_completed_count = ?1, tasks_failed_count = ?7 WHERE run_id = ?2",
    // Kind::try_worker (its status rows use Kind::status's statement)
    "UPDATE try SET hostname = ?4, worker_rank = ?11, worker_cores = ?12, task_try_time_running = ?6, "
    "task_try_time_running_ended = coalesce(?13, task_try_time_running_ended) WHERE try_id = ?7 AND task_id = ?1 AND "
    "run_id = ?2",
    // Kind::resource
    "INSERT OR IGNORE INTO resource (try_id, task_id, run_id, timestamp, resource_monitoring_interval, "
    "psutil_process_pid, psutil_process_cpu_percent, psutil_process_memory_percent, psutil_process_children_count, "
    "psutil_process_time_user, psutil_process_time_system, psutil_process_memory_virtual, "
    "psutil_process_memory_resident, psutil_process_disk_read, psutil_process_disk_write, psutil_process_status) "
    "VALUES (?7, ?1, ?2, ?6, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?3)",
    // Kind::node
    "INSERT INTO node (run_id, hostname, uid, block_id, cpu_count, total_memory, active, worker_count, python_v, "
    "timestamp, last_heartbeat) VALUES (?2, ?3, ?3, ?4, ?7, ?8, 1, ?11, 'parsl-mpi 0.1 (C++)', ?6, ?6)",
    // Kind::block
    "INSERT OR REPLACE INTO block (run_id, executor_label, block_id, job_id, timestamp, status) VALUES (?2, ?3, ?4, "
    "?12, ?6, ?5)",
};

// Status rows per multi-row INSERT: ?1 the run, then (task, state, time, try) per row.
constexpr std::size_t kStatusRows = 64;
const std::string& status_rows_sql() {
  static const std::string sql = [] {
    std::string q = "INSERT OR IGNORE INTO status (task_id, task_status_name, timestamp, try_id, run_id) VALUES ";
    for (std::size_t i = 0; i < kStatusRows; ++i) {
      const std::size_t p = 2 + i * 4;
      q += (i ? ",(?" : "(?") + std::to_string(p) + ",?" + std::to_string(p + 1) + ",?" + std::to_string(p + 2) +
           ",?" + std::to_string(p + 3) + ",?1)";
    }
    return q;
  }();
  return sql;
}


}  // namespace

void MonitoringDb::write_batch(std::vector<Op>& ops) {
  constexpr std::size_t kinds = sizeof kStatements / sizeof kStatements[0];
  sqlite3_stmt* st[kinds] = {};
  bool ok = sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
  for (std::size_t k = 0; ok && k < kinds; ++k) ok = sqlite3_prepare_v2(db_, kStatements[k], -1, &st[k], nullptr) == SQLITE_OK;
  // Coalesce: a try's running and returned records, and a task's returned record, go into
  // the INSERT of the same batch when it has one. Short tasks live within one batch: this
  // halves the statements per task.
  {
    std::unordered_map<std::uint64_t, std::size_t> task_at;
    std::unordered_map<std::uint64_t, std::size_t> try_at;  // id * 2^20 + try
    auto try_key = [](const Op& o) { return (o.id << 20) ^ o.try_id; };
    for (std::size_t i = 0; i < ops.size(); ++i) {
      Op& o = ops[i];
      switch (o.kind) {
        case Kind::task: task_at[o.id] = i; break;
        case Kind::try_launched: try_at[try_key(o)] = i; break;
        case Kind::try_running:
          if (auto it = try_at.find(try_key(o)); it != try_at.end()) {
            ops[it->second].running_us = o.time_us;
            o.merged = true;
          }
          break;
        case Kind::try_worker:
          // Its try row's part only: the status rows are written all the same.
          if (auto it = try_at.find(try_key(o)); it != try_at.end()) {
            Op& l = ops[it->second];
            l.running_us = o.time_us;
            if (o.returned_us) l.ended_us = o.returned_us;
            l.b = o.a;
            l.rank = o.rank;
            l.c = o.c;
            o.merged = true;
          }
          break;
        case Kind::try_returned:
          if (auto it = try_at.find(try_key(o)); it != try_at.end()) {
            ops[it->second].returned_us = o.time_us;
            ops[it->second].failure = std::move(o.a);
            o.merged = true;
          }
          break;
        case Kind::task_returned:
          if (auto it = task_at.find(o.id); it != task_at.end()) {
            Op& t = ops[it->second];
            t.returned_us = o.time_us;
            t.try_id = o.try_id;
            t.number = o.number;
            o.merged = true;
          }
          break;
        default: break;
      }
    }
  }
  std::int64_t cached_second = -1;
  std::string cached_text, time_text;
  auto text_of = [&](std::int64_t us) {
    // One formatting per second of records: the date part changes once a second.
    if (us / 1000000 != cached_second) {
      cached_second = us / 1000000;
      cached_text = format_time(cached_second * 1000000);
      cached_text.resize(cached_text.size() - 7);  // "YYYY-MM-DD HH:MM:SS"
    }
    char frac[24];
    std::snprintf(frac, sizeof frac, ".%06ld", static_cast<long>(us % 1000000));
    return cached_text + frac;
  };
  auto text = [](sqlite3_stmt* stmt, int i, const std::string& v) {
    sqlite3_bind_text(stmt, i, v.c_str(), static_cast<int>(v.size()), SQLITE_STATIC);
  };
  auto name = [](sqlite3_stmt* stmt, int i, std::string_view v) {
    sqlite3_bind_text(stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  };
  auto step = [&](sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) ok = false;
  };
  auto start = [&](Kind k, const Op& op) {
    sqlite3_stmt* s = st[static_cast<std::size_t>(k)];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    // ?1 id, ?2 run, ?6 time, ?7 try/count, ?8 number; the rest per statement.
    sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(op.id));
    sqlite3_bind_text(s, 2, run_id_.c_str(), -1, SQLITE_STATIC);
    time_text = text_of(op.time_us);
    sqlite3_bind_text(s, 6, time_text.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, op.try_id);
    sqlite3_bind_double(s, 8, op.number);
    return s;
  };
  // A status row of `op`'s task and try at `us`. (A task record's try_id may hold its fail
  // count, merged in: its status, pending, is of no try.)
  // Status rows go in groups of kStatusRows per INSERT (a third of the cost of one
  // statement per row); the rest one by one at the batch's end.
  struct StatusRow {
    std::uint64_t id;
    std::uint32_t try_id;
    std::string_view state;
    std::int64_t us;
  };
  std::vector<StatusRow> rows;
  rows.reserve(kStatusRows);
  sqlite3_stmt* many = nullptr;
  if (ok) ok = sqlite3_prepare_v2(db_, status_rows_sql().c_str(), -1, &many, nullptr) == SQLITE_OK;
  std::string times[kStatusRows];
  auto flush_rows = [&] {
    sqlite3_reset(many);
    sqlite3_bind_text(many, 1, run_id_.c_str(), -1, SQLITE_STATIC);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const int p = 2 + static_cast<int>(i) * 4;
      sqlite3_bind_int64(many, p, static_cast<sqlite3_int64>(rows[i].id));
      name(many, p + 1, rows[i].state);
      times[i] = text_of(rows[i].us);
      text(many, p + 2, times[i]);
      sqlite3_bind_int64(many, p + 3, rows[i].try_id);
    }
    step(many);
    rows.clear();
  };
  auto status_row = [&](const Op& op, std::string_view state, std::int64_t us) {
    rows.push_back(StatusRow{op.id, op.kind == Kind::task ? 0 : op.try_id, state, us});
    if (rows.size() == kStatusRows) flush_rows();
  };
  for (const Op& op : ops) {
    if (!ok) break;
    if (op.kind == Kind::try_worker) {
      status_row(op, "running", op.time_us);
      if (op.returned_us) status_row(op, "running_ended", op.returned_us);
    }
    if (!op.status_before.empty()) status_row(op, op.status_before, op.time_us);
    if (!op.status.empty()) status_row(op, op.status, op.time_us);
    if (op.merged) continue;
    sqlite3_stmt* s = start(op.kind, op);
    switch (op.kind) {
      case Kind::task:  // depends, func name, memoize
        text(s, 3, op.a);
        text(s, 4, op.b);
        name(s, 5, op.name);
        break;
      case Kind::status: name(s, 3, op.name); break;
      case Kind::try_launched:
        text(s, 3, op.a);
        // The host: this one for executors that run tasks in this process, the worker's when
        // its report came in the same batch (else try_worker's UPDATE sets it).
        if (!op.b.empty()) text(s, 4, op.b);
        if (!op.failure.empty()) text(s, 5, op.failure);
        if (op.running_us) sqlite3_bind_text(s, 9, text_of(op.running_us).c_str(), -1, SQLITE_TRANSIENT);
        if (op.rank >= 0) sqlite3_bind_int(s, 11, op.rank);
        if (!op.c.empty()) text(s, 12, op.c);
        if (op.ended_us) sqlite3_bind_text(s, 13, text_of(op.ended_us).c_str(), -1, SQLITE_TRANSIENT);
        break;
      case Kind::try_returned:
        if (!op.a.empty()) text(s, 3, op.a);
        break;
      case Kind::try_worker:
        if (!op.a.empty()) text(s, 4, op.a);
        if (op.rank >= 0) sqlite3_bind_int(s, 11, op.rank);
        if (!op.c.empty()) text(s, 12, op.c);
        if (op.returned_us) sqlite3_bind_text(s, 13, text_of(op.returned_us).c_str(), -1, SQLITE_TRANSIENT);
        break;
      case Kind::resource: {
        const ResourceSample& r = *op.sample;
        text(s, 3, r.status);
        const double numbers[] = {r.interval,         static_cast<double>(r.pid), r.cpu_percent, r.memory_percent,
                                  static_cast<double>(r.children), r.time_user, r.time_system, r.memory_virtual,
                                  r.memory_resident,  r.disk_read,                r.disk_write};
        for (int i = 0; i < 11; ++i) sqlite3_bind_double(s, 13 + i, numbers[i]);
        break;
      }
      case Kind::node:  // host, block; cores in try_id, memory in number, workers in rank
        text(s, 3, op.a);
        text(s, 4, op.b);
        sqlite3_bind_int64(s, 8, static_cast<sqlite3_int64>(op.number));
        sqlite3_bind_int(s, 11, op.rank);
        break;
      case Kind::block:  // executor, block, status, job id
        text(s, 3, op.a);
        text(s, 4, op.b);
        name(s, 5, op.name);
        if (!op.c.empty()) text(s, 12, op.c);
        break;
      default: break;
    }
    if (op.returned_us && op.kind != Kind::try_worker)
      sqlite3_bind_text(s, 10, text_of(op.returned_us).c_str(), -1, SQLITE_TRANSIENT);
    step(s);
  }
  for (const StatusRow& r : rows) {
    if (!ok) break;
    Op row{Kind::status, r.id, r.try_id, 0, r.us, r.state, {}, {}};
    sqlite3_stmt* s = start(Kind::status, row);
    name(s, 3, r.state);
    step(s);
  }
  sqlite3_finalize(many);
  std::string error;
  if (!ok) error = sqlite3_errmsg(db_);
  ok = sqlite3_exec(db_, ok ? "COMMIT" : "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK && ok;
  for (auto* s : st) sqlite3_finalize(s);
  std::lock_guard lock(mutex_);
  if (!ok && last_error_.empty()) {
    last_error_ = error;
    std::fprintf(stderr, "parsl: monitoring database %s: a batch of %zu records was not written: %s\n",
                 file_.c_str(), ops.size(), error.c_str());
  }
}

}  // namespace parsl::detail
