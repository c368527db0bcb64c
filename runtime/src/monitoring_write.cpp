// MonitoringDb's writer: the records of a batch applied to the tasks that have not ended
// (their task_life rows as they stand, in memory), in one transaction with prepared
// statements. A try that ends within kOpenRowDelayUs of its first unwritten record is one
// INSERT; a task or try open longer is written then, and its row updated (by rowid) when it
// changes or ends.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "monitoring.hpp"

namespace parsl::detail {

namespace {

// The columns of a task_life row, bound as ?1 ... ?21 (?22: the rowid, for UPDATE).
constexpr const char* kRowColumns =
    "task_id, run_id, try_id, is_task, task_depends, task_func_name, task_memoize, task_time_invoked, "
    "task_time_returned, task_fail_count, task_fail_cost, hostname, task_executor, task_try_time_launched, "
    "task_try_time_running, task_try_time_running_ended, task_fail_history, worker_rank, worker_cores, end_state, "
    "end_time";

constexpr const char* kResource =
    "INSERT OR IGNORE INTO resource (try_id, task_id, run_id, timestamp, resource_monitoring_interval, "
    "psutil_process_pid, psutil_process_cpu_percent, psutil_process_memory_percent, psutil_process_children_count, "
    "psutil_process_time_user, psutil_process_time_system, psutil_process_memory_virtual, "
    "psutil_process_memory_resident, psutil_process_disk_read, psutil_process_disk_write, psutil_process_status) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

// Parsl's DateTime text of microseconds since the epoch. The date and time of day are
// formatted once per second (two seconds kept: the kernel's and a worker's clock may
// alternate around a second's turn), the fraction by hand.
class TimeText {
 public:
  // Writes the text into `out` (at least 32 bytes) and returns it.
  const char* operator()(std::int64_t us, char* out) {
    const std::int64_t second = us / 1000000;
    Head* h = &heads_[0];
    if (heads_[0].second != second) {
      h = &heads_[1];
      if (heads_[1].second != second) {
        std::swap(heads_[0], heads_[1]);  // keep the newer one in [1]
        h = &heads_[1];
        h->second = second;
        const std::string t = MonitoringDb::format_time(second * 1000000);
        h->size = std::min(t.size() - 7, sizeof h->text);  // "YYYY-MM-DD HH:MM:SS"
        std::memcpy(h->text, t.data(), h->size);
      }
    }
    std::memcpy(out, h->text, h->size);
    char* frac = out + h->size;
    *frac = '.';
    long f = static_cast<long>(us % 1000000);
    for (int i = 6; i >= 1; --i, f /= 10) frac[i] = static_cast<char>('0' + f % 10);
    frac[7] = '\0';
    size_ = static_cast<int>(h->size) + 7;
    return out;
  }
  /// The length of the last text.
  int size() const noexcept { return size_; }

 private:
  struct Head {
    std::int64_t second = -1;
    std::size_t size = 0;
    char text[24] = {};
  };
  Head heads_[2];
  int size_ = 0;
};

}  // namespace

struct MonitoringDb::Open {
  // The task.
  const std::string* func = nullptr;
  std::string depends;
  std::string_view memoize = "False";
  std::int64_t invoked = 0;
  // Its current (or last) try.
  std::uint32_t try_id = 0;
  bool try_open = false;
  const std::string *executor = nullptr, *host = nullptr, *cores = nullptr;
  std::int32_t rank = -1;
  std::int64_t launched = 0, running = 0, ended = 0;
  // Its rows: the current try's (or, before its first launch, the task's) and the task's;
  // 0 while not written.
  sqlite3_int64 row = 0, task_row = 0;
  bool dirty = false, queued = false;  // changed since written; in the aging queue
};

// The task's end, on its row.
struct TaskEnd {
  std::int64_t returned_us;
  std::int64_t fail_count;
  double fail_cost;
};

// A task_life row to write: what put() binds.
struct LifeRow {
  std::uint64_t id = 0;
  std::uint32_t try_id = 0;
  bool is_task = false, with_try = false;
  const std::string *func = nullptr, *host = nullptr, *executor = nullptr, *cores = nullptr;
  std::string depends, failure;
  std::string_view memoize, end_state;
  std::int64_t invoked = 0, returned = 0, launched = 0, running = 0, ended = 0, end = 0;
  std::int64_t fail_count = 0;
  double fail_cost = 0;
  std::int32_t rank = -1;
};

// Rows of tasks that end go kManyRows to an INSERT (a third less per row than one INSERT each).
constexpr int kLifeColumns = 21, kManyRows = 16;

class MonitoringDb::Writer {
 public:
  Writer(sqlite3* db, const std::string& run_id) : db_(db), run_(run_id) {
    // The run's id is a literal of the row statements (one bind less per row).
    std::string run = "'";
    for (char ch : run_) run += ch == '\'' ? std::string("''") : std::string(1, ch);
    run += "'";
    auto values = [&](int row) {
      std::string v = "(";
      for (int c = 1; c <= kLifeColumns; ++c)
        v += (c > 1 ? "," : "") + (c == 2 ? run : "?" + std::to_string(row * kLifeColumns + c));
      return v + ")";
    };
    const std::string cols = kRowColumns;
    prepare(insert_, "INSERT INTO task_life (" + cols + ") VALUES " + values(0));
    prepare(update_, "UPDATE task_life SET (" + cols + ") = " + values(0) + " WHERE rowid = ?22");
    std::string many = "INSERT INTO task_life (" + cols + ") VALUES ";
    for (int r = 0; r < kManyRows; ++r) many += (r ? "," : "") + values(r);
    prepare(many_, many);
    prepare(task_end_, "UPDATE task_life SET task_time_returned = ?1, task_fail_count = ?2, task_fail_cost = ?3 "
                       "WHERE rowid = ?4");
    prepare(other_, "INSERT INTO status_other (task_id, task_status_name, timestamp, run_id, try_id) "
                    "VALUES (?1, ?2, ?3, ?4, ?5)");
    prepare(resource_, kResource);
    prepare(node_, "INSERT INTO node (run_id, hostname, uid, block_id, cpu_count, total_memory, active, "
                   "worker_count, python_v, timestamp, last_heartbeat) VALUES (?1, ?2, ?2, ?3, ?4, ?5, 1, ?6, "
                   "'parsl-mpi 0.1 (C++)', ?7, ?7)");
    prepare(block_, "INSERT OR REPLACE INTO block (run_id, executor_label, block_id, job_id, timestamp, status) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    prepare(workflow_end_, "UPDATE workflow SET time_completed = ?1, tasks_completed_count = ?2, "
                           "tasks_failed_count = ?3 WHERE run_id = ?4");
  }
  ~Writer() {
    for (sqlite3_stmt* s : {insert_, update_, many_, task_end_, other_, resource_, node_, block_, workflow_end_})
      sqlite3_finalize(s);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  /// Applies `ops` in order, writes what ended and what has been open long enough, in one
  /// transaction; with `all`, every open task's row as it stands (the kernel's end). Returns
  /// the error, or "" when written. `busy`: another program holds the database's write
  /// lock; nothing was applied, and `ops` can be given again.
  std::string write(std::vector<Op>& ops, bool all, bool& busy) {
    busy = false;
    if (error_.empty()) {
      const int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        busy = true;
        return {};
      }
      if (rc != SQLITE_OK) error_ = sqlite3_errmsg(db_);
    }
    ok_ = error_.empty();
    for (std::size_t i = 0; i < ops.size() && ok_; ++i) {
      const bool pair = i + 1 < ops.size() && ops[i].kind == Kind::try_returned &&
                        ops[i + 1].kind == Kind::task_returned && ops[i + 1].id == ops[i].id;
      apply(ops[i], pair ? &ops[i + 1] : nullptr);
      if (pair) ++i;
    }
    if (ok_) age(all, ops.size() >= kWakeWriter);
    if (ok_) flush_ending();
    std::string error;
    if (!ok_) error = error_.empty() ? std::string(sqlite3_errmsg(db_)) : error_;
    const bool committed = sqlite3_exec(db_, ok_ ? "COMMIT" : "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK;
    if (ok_ && !committed) error = sqlite3_errmsg(db_);
    if (ok_ && committed) {
      committed_rowid_ = inserted_rowid_;
    } else {
      inserted_rowid_ = committed_rowid_;
      forget_uncommitted_rows();
    }
    error_.clear();
    return error;
  }
 private:
  void prepare(sqlite3_stmt*& st, const std::string& sql) {
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK && error_.empty())
      error_ = std::string(sqlite3_errmsg(db_)) + " (preparing: " + sql.substr(0, 40) + "...)";
  }
  bool step(sqlite3_stmt* st) {
    if (sqlite3_step(st) != SQLITE_DONE) ok_ = false;
    sqlite3_reset(st);
    return ok_;
  }
  // After a rollback: rows this batch inserted are gone, and their rowids will be given to
  // other rows. Open tasks that had one are written again as new rows (an UPDATE by such a
  // rowid would overwrite another task's row).
  void forget_uncommitted_rows() {
    for (auto& [id, o] : open_) {
      if (o.row > committed_rowid_) o.row = 0, o.dirty = true;
      if (o.task_row > committed_rowid_) o.task_row = 0, o.dirty = true;
      if (o.dirty && !o.queued) {
        aging_.emplace_back(id, steady_us());
        o.queued = true;
      }
    }
  }
  // The same few names come again and again (an app, the executor, a host): the last ones
  // are compared before the set is searched.
  const std::string* intern(std::string s) {
    if (s.empty()) return nullptr;
    for (const std::string* n : recent_)
      if (n && *n == s) return n;
    const std::string* n = &*names_.insert(std::move(s)).first;
    recent_[next_recent_++ % std::size(recent_)] = n;
    return n;
  }
  static std::int64_t steady_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void touch(std::uint64_t id, Open& o) {
    o.dirty = true;
    if (!o.queued) {
      aging_.emplace_back(id, steady_us());
      o.queued = true;
    }
  }
  static void text(sqlite3_stmt* s, int i, std::string_view v) {
    if (!v.empty()) sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  static void text(sqlite3_stmt* s, int i, const std::string* v) {
    if (v) text(s, i, std::string_view(*v));
  }
  // One timestamp of a statement other than a row's (valid until the next).
  void time(sqlite3_stmt* s, int i, std::int64_t us) {
    if (us) sqlite3_bind_text(s, i, times_(us, one_), -1, SQLITE_STATIC);
  }

  // Binds `r` as the row's columns base+1 ... base+21, each a value or NULL (so that no
  // statement needs clearing); `times` holds its timestamps' text.
  void bind_row(sqlite3_stmt* s, int base, const LifeRow& r, char (*times)[32]) {
    auto str = [&](int i, std::string_view v) {
      if (v.empty()) sqlite3_bind_null(s, base + i);
      else sqlite3_bind_text(s, base + i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    };
    auto name = [&](int i, const std::string* v) { str(i, v ? std::string_view(*v) : std::string_view()); };
    auto when = [&](int i, std::int64_t us, int slot) {
      if (!us) {
        sqlite3_bind_null(s, base + i);
        return;
      }
      const char* t = times_(us, times[slot]);
      sqlite3_bind_text(s, base + i, t, times_.size(), SQLITE_STATIC);
    };
    sqlite3_bind_int64(s, base + 1, static_cast<sqlite3_int64>(r.id));
    sqlite3_bind_int64(s, base + 3, r.try_id);
    sqlite3_bind_int(s, base + 4, r.is_task ? 1 : 0);
    name(6, r.func);  // on every row: a task's end state and app without a join
    if (r.is_task) {
      str(5, r.depends);
      str(7, r.memoize);
      when(8, r.invoked, 0);
      when(9, r.returned != r.end ? r.returned : 0, 1);  // else the view takes end_time
      sqlite3_bind_int64(s, base + 10, r.fail_count);
      sqlite3_bind_double(s, base + 11, r.fail_cost);
    } else {
      for (int i : {5, 7, 8, 9, 10, 11}) sqlite3_bind_null(s, base + i);
    }
    if (r.with_try) {
      name(12, r.host);
      name(13, r.executor);
      when(14, r.launched, 2);
      when(15, r.running, 3);
      when(16, r.ended, 4);
      str(17, r.failure);
      if (r.rank >= 0) sqlite3_bind_int(s, base + 18, r.rank);
      else sqlite3_bind_null(s, base + 18);
      name(19, r.cores);
    } else {
      for (int i = 12; i <= 19; ++i) sqlite3_bind_null(s, base + i);
    }
    str(20, r.end_state);
    when(21, r.end, 5);
  }

  // Writes `o`'s row: the task's columns when it is the task's row, the try's when it has
  // one, the end when given (a try's end state, or the task's when it ended without a try).
  // `last`: the task ends with this row and nothing refers to it again.
  void put(std::uint64_t id, Open& o, bool with_try, std::string_view end_state, std::int64_t end_us,
           std::string_view failure, const TaskEnd* end, bool last = false) {
    LifeRow r;
    r.id = id;
    r.try_id = o.try_id;
    r.is_task = o.task_row == 0 || o.row == o.task_row;
    r.func = o.func;
    if (r.is_task) {
      r.depends = o.depends;
      r.memoize = o.memoize;
      r.invoked = o.invoked;
      if (end) r.returned = end->returned_us, r.fail_count = end->fail_count, r.fail_cost = end->fail_cost;
    }
    r.with_try = with_try;
    if (with_try) {
      r.host = o.host;
      r.executor = o.executor;
      r.launched = o.launched;
      r.running = o.running;
      r.ended = o.ended;
      r.failure = failure;
      r.rank = o.rank;
      r.cores = o.cores;
    }
    r.end_state = end_state;
    r.end = end_us;
    o.dirty = false;
    if (last && !o.row) {  // a new row that nothing updates: with others, in one INSERT
      ending_.push_back(std::move(r));
      if (ending_.size() == kManyRows) flush_ending();
      return;
    }
    sqlite3_stmt* s = o.row ? update_ : insert_;
    char times[6][32];
    bind_row(s, 0, r, times);
    if (o.row) sqlite3_bind_int64(s, 22, o.row);
    if (!step(s)) return;  // the batch is rolled back: its rows are forgotten (forget_uncommitted_rows)
    if (!o.row) o.row = inserted_rowid_ = sqlite3_last_insert_rowid(db_);
    if (r.is_task) o.task_row = o.row;
  }
  void flush_ending() {
    if (ending_.size() == kManyRows) {
      char times[kManyRows][6][32];
      for (int i = 0; i < kManyRows; ++i) bind_row(many_, i * kLifeColumns, ending_[static_cast<std::size_t>(i)], times[i]);
      if (step(many_)) inserted_rowid_ = sqlite3_last_insert_rowid(db_);
    } else {
      for (const LifeRow& r : ending_) {
        char times[6][32];
        bind_row(insert_, 0, r, times);
        if (step(insert_)) inserted_rowid_ = sqlite3_last_insert_rowid(db_);
      }
    }
    ending_.clear();
  }
  // The task's end on its row, when that is not the row just written.
  void end_task_row(const Open& o, const TaskEnd& end) {
    if (o.task_row == 0 || o.task_row == o.row) return;
    char when[32];
    sqlite3_bind_text(task_end_, 1, times_(end.returned_us, when), -1, SQLITE_STATIC);
    sqlite3_bind_int64(task_end_, 2, end.fail_count);
    sqlite3_bind_double(task_end_, 3, end.fail_cost);
    sqlite3_bind_int64(task_end_, 4, o.task_row);
    step(task_end_);
  }

  void apply(Op& op, const Op* task_end) {
    switch (op.kind) {
      case Kind::task: {
        Open& o = open_[op.id];
        o.func = intern(std::move(op.b));
        o.depends = std::move(op.a);
        o.memoize = op.name;
        o.invoked = op.time_us;
        touch(op.id, o);
        return;
      }
      case Kind::try_launched: {
        Open& o = open_[op.id];
        if (o.try_open) {  // the last try never returned: its row stays as it was
          if (o.dirty) put(op.id, o, true, {}, 0, {}, nullptr);
          o.row = 0;
        }
        o.try_id = op.try_id;
        o.try_open = true;
        o.executor = intern(std::move(op.a));
        o.host = intern(std::move(op.b));
        o.cores = nullptr;
        o.rank = -1;
        o.launched = op.time_us;
        o.running = o.ended = 0;
        touch(op.id, o);
        return;
      }
      case Kind::try_running:
      case Kind::try_worker: {
        const auto it = open_.find(op.id);
        if (it == open_.end() || !it->second.try_open || it->second.try_id != op.try_id) return;  // a late report
        Open& o = it->second;
        o.running = op.time_us;
        if (op.kind == Kind::try_worker) {
          if (op.time2_us) o.ended = op.time2_us;
          o.host = intern(std::move(op.a));
          o.rank = op.rank;
          o.cores = intern(std::move(op.b));
        }
        touch(op.id, o);
        return;
      }
      case Kind::try_returned: {
        Open& o = open_[op.id];
        if (!o.try_open || o.try_id != op.try_id) {
          // No try of it is open (it failed before its launch): the end is the task's own.
          if (task_end) end_without_try(op.id, o, *task_end, op.name);
          else other(op.id, op.try_id, op.name, op.time_us);
          return;
        }
        if (op.time2_us) o.ended = op.time2_us;  // an in-process try that ran
        o.try_open = false;
        if (!task_end) {
          put(op.id, o, true, op.name, op.time_us, op.a, nullptr);
          o.row = 0;  // the next try gets a row of its own
          return;
        }
        const TaskEnd end{task_end->time_us, task_end->try_id, task_end->number};
        put(op.id, o, true, op.name, op.time_us, op.a, &end, true);
        end_task_row(o, end);
        open_.erase(op.id);
        return;
      }
      case Kind::task_returned: {  // dep_fail, memo_done
        Open& o = open_[op.id];
        end_without_try(op.id, o, op, op.name);
        return;
      }
      case Kind::status: other(op.id, op.try_id, op.name, op.time_us); return;
      case Kind::resource: {
        const ResourceSample& r = op.extra->sample;
        sqlite3_stmt* s = resource_;
        sqlite3_bind_int64(s, 1, op.try_id);
        sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(op.id));
        text(s, 3, std::string_view(run_));
        time(s, 4, op.time_us);
        const double numbers[] = {r.interval,         static_cast<double>(r.pid), r.cpu_percent, r.memory_percent,
                                  static_cast<double>(r.children), r.time_user, r.time_system, r.memory_virtual,
                                  r.memory_resident,  r.disk_read,                r.disk_write};
        for (int i = 0; i < 11; ++i) sqlite3_bind_double(s, 5 + i, numbers[i]);
        sqlite3_bind_text(s, 16, r.status.c_str(), -1, SQLITE_STATIC);
        step(s);
        return;
      }
      case Kind::node: {  // cores in try_id, memory in number, workers in rank
        sqlite3_stmt* s = node_;
        text(s, 1, std::string_view(run_));
        sqlite3_bind_text(s, 2, op.a.c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, op.b.c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, op.try_id);
        sqlite3_bind_int64(s, 5, static_cast<sqlite3_int64>(op.number));
        sqlite3_bind_int(s, 6, op.rank);
        time(s, 7, op.time_us);
        step(s);
        return;
      }
      case Kind::block: {  // executor, block, status, job id
        sqlite3_stmt* s = block_;
        sqlite3_clear_bindings(s);
        text(s, 1, std::string_view(run_));
        sqlite3_bind_text(s, 2, op.a.c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, op.b.c_str(), -1, SQLITE_STATIC);
        if (op.extra) text(s, 4, std::string_view(op.extra->job_id));
        time(s, 5, op.time_us);
        text(s, 6, op.name);
        step(s);
        return;
      }
      case Kind::workflow_end: {  // completed in id, failed in try_id
        sqlite3_stmt* s = workflow_end_;
        time(s, 1, op.time_us);
        sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(op.id));
        sqlite3_bind_int64(s, 3, op.try_id);
        text(s, 4, std::string_view(run_));
        step(s);
        return;
      }
    }
  }

  // The task ended without a try of its own: a dependency failure, a memo hit, a failure
  // before its launch. On its own row when it has none yet, else a row of the end.
  void end_without_try(std::uint64_t id, Open& o, const Op& task_end, std::string_view state) {
    if (o.try_open) {  // a try that never returned: its row as it was
      if (o.dirty || !o.row) put(id, o, true, {}, 0, {}, nullptr);
      o.try_open = false;
      o.row = 0;
    }
    const TaskEnd end{task_end.time_us, task_end.try_id, task_end.number};
    put(id, o, false, state, task_end.time_us, {}, &end, true);
    end_task_row(o, end);
    open_.erase(id);
  }

  void other(std::uint64_t id, std::uint32_t try_id, std::string_view state, std::int64_t us) {
    sqlite3_bind_int64(other_, 1, static_cast<sqlite3_int64>(id));
    text(other_, 2, state);
    time(other_, 3, us);
    text(other_, 4, std::string_view(run_));
    sqlite3_bind_int64(other_, 5, try_id);
    step(other_);
  }

  // Rows of tasks open for kOpenRowDelayUs since their first unwritten record, or
  // kBusyOpenRowDelayUs when `busy` (all: every open task's).
  void age(bool all, bool busy) {
    const std::int64_t now = steady_us(), delay = busy ? kBusyOpenRowDelayUs : kOpenRowDelayUs;
    while (!aging_.empty() && ok_ && (all || now - aging_.front().second >= delay)) {
      const std::uint64_t id = aging_.front().first;
      aging_.pop_front();
      const auto it = open_.find(id);
      if (it == open_.end() || !it->second.queued) continue;  // ended meanwhile
      Open& o = it->second;
      o.queued = false;
      if (o.dirty) put(id, o, o.try_open, {}, 0, {}, nullptr);
    }
  }

  sqlite3* db_;
  const std::string& run_;
  std::unordered_map<std::uint64_t, Open> open_;
  std::deque<std::pair<std::uint64_t, std::int64_t>> aging_;  // (task, when queued), oldest first
  std::unordered_set<std::string> names_;                     // apps, executors, hosts, core lists
  const std::string* recent_[4] = {};
  std::size_t next_recent_ = 0;
  TimeText times_;
  char one_[32] = {};
  std::vector<LifeRow> ending_;  // rows of tasks that ended, for the next INSERT of many
  sqlite3_stmt *insert_ = nullptr, *update_ = nullptr, *many_ = nullptr, *task_end_ = nullptr, *other_ = nullptr,
               *resource_ = nullptr, *node_ = nullptr, *block_ = nullptr, *workflow_end_ = nullptr;
  bool ok_ = true;
  std::string error_;
  // task_life's last row inserted, and the last committed: rowids only grow (no deletes),
  // so the rows of a rolled-back batch are those above committed_rowid_.
  sqlite3_int64 inserted_rowid_ = 0, committed_rowid_ = 0;
};

std::string MonitoringDb::write_batch(std::vector<Op>& ops, bool all, bool& busy) { return w_->write(ops, all, busy); }
MonitoringDb::Writer* MonitoringDb::make_writer() { return new Writer(db_, run_id_); }
void MonitoringDb::Deleter::operator()(Writer* w) const noexcept { delete w; }

}  // namespace parsl::detail
