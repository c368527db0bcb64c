#include "report_data.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <unordered_map>

namespace parsl::report {

namespace {

using Clock = std::chrono::steady_clock;

class Db {
 public:
  explicit Db(const std::filesystem::path& file) : file_(file) {
    // Read-only, and never created: a missing file is an error, not a new empty database.
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      fail("cannot be opened: " + std::string(db_ ? sqlite3_errmsg(db_) : "out of memory"));
    sqlite3_busy_timeout(db_, 3000);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  [[noreturn]] void fail(const std::string& what) const {
    std::string hint;
    if (what.find("locked") != std::string::npos || what.find("busy") != std::string::npos)
      hint = " (another program holds a write lock on it; wait for it, or copy the file and report on the copy)";
    else if (what.find("not a database") != std::string::npos)
      hint = " (it is not a SQLite database: a damaged or foreign file)";
    throw ReportError("monitoring database " + file_.string() + ": " + what + hint);
  }

  // Runs `sql` with text parameter ?1 = `param`, calling `row` for each row.
  template <class F>
  void each(const char* sql, const std::string& param, F&& row) const {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) fail(sqlite3_errmsg(db_));
    if (sqlite3_bind_parameter_count(st) > 0) sqlite3_bind_text(st, 1, param.c_str(), -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) row(st);
    const std::string err = sqlite3_errmsg(db_);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) fail(err);
  }

  std::set<std::string> columns(const std::string& table) const {
    std::set<std::string> out;
    each(("PRAGMA table_info(" + table + ")").c_str(), "", [&](sqlite3_stmt* st) { out.insert(text(st, 1)); });
    return out;
  }

  static std::string text(sqlite3_stmt* st, int i) {
    const auto* t = sqlite3_column_text(st, i);
    return t ? reinterpret_cast<const char*>(t) : "";
  }

 private:
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
};

// Parsl's columns that the report reads: a database without them is not one of ours.
void check_schema(const Db& db) {
  const std::pair<const char*, std::vector<const char*>> needed[] = {
      {"workflow", {"run_id", "workflow_name", "time_began", "time_completed", "host", "user", "rundir"}},
      {"task", {"task_id", "run_id", "task_func_name", "task_time_invoked", "task_time_returned", "task_fail_count"}},
      {"try", {"try_id", "task_id", "run_id", "hostname", "task_try_time_running", "task_try_time_returned",
               "task_fail_history"}},
      {"status", {"task_id", "run_id", "task_status_name", "timestamp"}},
  };
  for (const auto& [table, cols] : needed) {
    const auto have = db.columns(table);
    if (have.empty())
      db.fail(std::string("it has no table '") + table +
              "': not a monitoring database of Parsl or parsl-mpi (runinfo/NNN/monitoring.db)");
    for (const char* c : cols)
      if (!have.count(c))
        db.fail(std::string("its table '") + table + "' has no column '" + c + "': not Parsl's monitoring schema");
  }
}

std::string first_line(const std::string& s, std::size_t max = 300) {
  std::string out = s.substr(0, s.find('\n'));
  if (out.size() > max) out = out.substr(0, max) + "...";
  return out;
}

// "logs: A B" in a bash task's error: the paths of its stdout and stderr.
std::string logs_in(const std::string& error) {
  const auto at = error.find("logs: ");
  if (at == std::string::npos) return {};
  return first_line(error.substr(at + 6), 1000);
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

}  // namespace

std::string format_seconds(double s) {
  char buf[32];
  if (s < 1e-3) std::snprintf(buf, sizeof buf, "%.0f us", s * 1e6);
  else if (s < 1) std::snprintf(buf, sizeof buf, "%.1f ms", s * 1e3);
  else if (s < 120) std::snprintf(buf, sizeof buf, "%.2f s", s);
  else std::snprintf(buf, sizeof buf, "%.1f min", s / 60);
  return buf;
}

double parse_time(const char* t) {
  if (!t) return -1;
  int y, mo, d, h, mi;
  double s;
  if (std::sscanf(t, "%d-%d-%d %d:%d:%lf", &y, &mo, &d, &h, &mi, &s) != 6) return -1;
  // Days from the civil date (proleptic Gregorian), as in Howard Hinnant's algorithm.
  y -= mo <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(mo + (mo > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long days = era * 146097L + static_cast<long>(doe) - 719468L;
  return static_cast<double>(days) * 86400.0 + h * 3600.0 + mi * 60.0 + s;
}

std::filesystem::path find_database(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw ReportError(path.string() + ": no such run folder or file (give a run folder, runinfo/NNN, or its "
                                      "monitoring.db)");
  if (std::filesystem::is_directory(path, ec)) {
    const auto db = path / "monitoring.db";
    if (!std::filesystem::exists(db, ec))
      throw ReportError(path.string() + " has no monitoring.db: the run was made without monitoring (turn it on "
                                        "with parsl-run --monitoring, --parsl-monitoring=true or Config::monitoring)");
    return db;
  }
  return path;
}

Run load_run(const std::filesystem::path& file, bool full) {
  Db db(file);
  check_schema(db);
  Run r;
  r.db = file;
  db.each("SELECT run_id, workflow_name, host, user, rundir, time_began, time_completed, tasks_completed_count, "
          "tasks_failed_count FROM workflow ORDER BY time_began LIMIT 1",
          "", [&](sqlite3_stmt* st) {
            r.run_id = Db::text(st, 0);
            r.workflow = Db::text(st, 1);
            r.host = Db::text(st, 2);
            r.user = Db::text(st, 3);
            r.rundir = Db::text(st, 4);
            r.began = Db::text(st, 5);
            r.completed = Db::text(st, 6);
            r.completed_count = static_cast<std::uint64_t>(sqlite3_column_int64(st, 7));
            r.failed_count = static_cast<std::uint64_t>(sqlite3_column_int64(st, 8));
          });
  if (r.run_id.empty()) db.fail("it holds no run (its workflow table is empty)");
  const double t0 = parse_time(r.began.c_str());
  const std::string& run = r.run_id;

  // Tasks per app and final state: each finished task has exactly one final status row.
  auto q0 = Clock::now();
  std::unordered_map<std::string, std::size_t> app_index;
  auto app_at = [&](const std::string& name) -> AppSummary& {
    auto [it, added] = app_index.emplace(name, r.apps.size());
    if (added) r.apps.push_back(AppSummary{name});
    return r.apps[it->second];
  };
  db.each("SELECT task_func_name, count(*) FROM task WHERE run_id = ?1 GROUP BY 1 ORDER BY 2 DESC", run,
          [&](sqlite3_stmt* st) {
            app_at(Db::text(st, 0)).tasks = static_cast<std::uint64_t>(sqlite3_column_int64(st, 1));
            r.tasks += static_cast<std::uint64_t>(sqlite3_column_int64(st, 1));
          });
  // parsl-mpi's own table has each row's app and end state: one scan, where Parsl's tables
  // (or views of ours) need a join of status and task.
  const bool life = db.columns("task_life").count("end_state") > 0;
  db.each(life ? "SELECT task_func_name, end_state, count(*) FROM task_life WHERE run_id = ?1 AND end_state IN "
                 "('exec_done', 'memo_done', 'failed', 'dep_fail') GROUP BY 1, 2"
               : "SELECT t.task_func_name, s.task_status_name, count(*) FROM status s JOIN task t ON t.task_id = "
                 "s.task_id AND t.run_id = s.run_id WHERE s.run_id = ?1 AND s.task_status_name IN ('exec_done', "
                 "'memo_done', 'failed', 'dep_fail') GROUP BY 1, 2",
          run, [&](sqlite3_stmt* st) {
            app_at(Db::text(st, 0)).final_states[Db::text(st, 1)] = static_cast<std::uint64_t>(sqlite3_column_int64(st, 2));
          });
  r.query_seconds_per_app_state = std::chrono::duration<double>(Clock::now() - q0).count();

  // The slowest tries, by their run time: running to running_ended on the worker (our
  // extra column), else to returned (Parsl's databases, in-process tries).
  const auto try_cols = db.columns("try");
  const std::string end_col = try_cols.count("task_try_time_running_ended")
                                  ? "coalesce(task_try_time_running_ended, task_try_time_returned)"
                                  : "task_try_time_returned";
  q0 = Clock::now();
  const std::string slowest_sql =
      "SELECT y.task_id, y.try_id, (SELECT task_func_name FROM task t WHERE t.task_id = y.task_id AND t.run_id = "
      "y.run_id), coalesce(y.hostname, ''), y.secs FROM (SELECT task_id, try_id, run_id, hostname, (julianday(" +
      end_col + ") - julianday(task_try_time_running)) * 86400.0 AS secs FROM try WHERE run_id = ?1 AND "
      "task_try_time_running IS NOT NULL AND secs IS NOT NULL ORDER BY secs DESC LIMIT 10) y";
  db.each(slowest_sql.c_str(), run, [&](sqlite3_stmt* st) {
            r.slowest.push_back(SlowTry{static_cast<std::uint64_t>(sqlite3_column_int64(st, 0)),
                                        sqlite3_column_int(st, 1), Db::text(st, 2), Db::text(st, 3),
                                        sqlite3_column_double(st, 4)});
          });
  r.query_seconds_slowest = std::chrono::duration<double>(Clock::now() - q0).count();

  // Failed tasks: their last try's error (a dependency failure has none: its inputs failed).
  db.each("SELECT count(*) FROM status WHERE run_id = ?1 AND task_status_name IN ('failed', 'dep_fail')", run,
          [&](sqlite3_stmt* st) { r.failed_total = static_cast<std::uint64_t>(sqlite3_column_int64(st, 0)); });
  db.each("SELECT t.task_id, t.task_func_name, s.task_status_name, t.task_fail_count, (SELECT task_fail_history FROM "
          "try y WHERE y.task_id = t.task_id AND y.run_id = t.run_id ORDER BY try_id DESC LIMIT 1), t.task_depends "
          "FROM status s JOIN task t ON t.task_id = s.task_id AND t.run_id = s.run_id WHERE s.run_id = ?1 AND "
          "s.task_status_name IN ('failed', 'dep_fail') ORDER BY t.task_id LIMIT 1000",
          run, [&](sqlite3_stmt* st) {
            FailedTask f{static_cast<std::uint64_t>(sqlite3_column_int64(st, 0)), Db::text(st, 1), Db::text(st, 2),
                         Db::text(st, 4), {}, sqlite3_column_int(st, 3)};
            if (f.state == "dep_fail") f.error = "dependency failure: its inputs (tasks " + Db::text(st, 5) + ") failed";
            f.logs = logs_in(f.error);
            f.error = first_line(f.error);
            r.failed.push_back(std::move(f));
          });
  const auto node_cols = db.columns("node");
  if (node_cols.count("hostname") && node_cols.count("worker_count"))
    db.each("SELECT hostname, cpu_count, total_memory, worker_count FROM node WHERE run_id = ?1 ORDER BY hostname", run,
            [&](sqlite3_stmt* st) {
              r.nodes.push_back(Node{Db::text(st, 0), sqlite3_column_int(st, 1), sqlite3_column_int(st, 3),
                                     static_cast<std::uint64_t>(sqlite3_column_int64(st, 2))});
            });
  if (db.columns("block").count("status"))
    db.each("SELECT executor_label, block_id, coalesce(job_id, '-'), status, timestamp FROM block WHERE run_id = ?1 "
            "ORDER BY timestamp",
            run, [&](sqlite3_stmt* st) {
              r.blocks.push_back(Db::text(st, 4) + "  executor " + Db::text(st, 0) + ", block " + Db::text(st, 1) +
                                 ", job " + Db::text(st, 2) + ": " + Db::text(st, 3));
            });

  // Tries: run times per app, busy time per worker.
  const bool has_rank = try_cols.count("worker_rank") > 0;
  struct Interval {
    std::size_t lane;
    double start, end;
    int app;
  };
  std::vector<Interval> intervals;
  std::unordered_map<std::string, std::size_t> lane_index;
  double last = r.completed.empty() ? 0 : parse_time(r.completed.c_str()) - t0;
  const std::string tries_sql =
      std::string("SELECT t.task_func_name, coalesce(y.hostname, ''), ") + (has_rank ? "y.worker_rank" : "NULL") +
      ", y.task_try_time_running, " + end_col + " FROM try y JOIN task t ON t.task_id = y.task_id AND "
      "t.run_id = y.run_id WHERE y.run_id = ?1 AND y.task_try_time_running IS NOT NULL";
  db.each(tries_sql.c_str(), run, [&](sqlite3_stmt* st) {
    AppSummary& app = app_at(Db::text(st, 0));
    const double start = parse_time(reinterpret_cast<const char*>(sqlite3_column_text(st, 3))) - t0;
    const double end = parse_time(reinterpret_cast<const char*>(sqlite3_column_text(st, 4))) - t0;
    if (end < start || start < -1e6) return;  // not returned (the run was killed), or bad text
    app.run_seconds.push_back(end - start);
    if (!full) return;
    const std::string host = Db::text(st, 1);
    const bool ranked = sqlite3_column_type(st, 2) != SQLITE_NULL;
    const std::string lane = ranked ? host + " rank " + std::to_string(sqlite3_column_int(st, 2)) : host + " (in process)";
    auto [it, added] = lane_index.emplace(lane, r.lanes.size());
    if (added) r.lanes.push_back(Lane{lane, host, {}, {}, 0, 0});
    intervals.push_back(Interval{it->second, start, end, static_cast<int>(&app - r.apps.data())});
    last = std::max(last, end);
  });
  for (auto& a : r.apps) {
    a.median = median_of(a.run_seconds);
    a.max = a.run_seconds.empty() ? 0 : *std::max_element(a.run_seconds.begin(), a.run_seconds.end());
  }
  if (!full) return r;

  // States over time: one pass over the status rows in each task's order.
  std::vector<std::tuple<double, int, int>> moves;  // time, from group, to group
  const char* groups[] = {"pending", "launched", "running", "done", "failed"};
  auto group_of = [](const std::string& s) {
    if (s == "pending" || s == "fail_retryable" || s == "retry") return 0;
    if (s == "launched") return 1;
    if (s == "running" || s == "running_ended" || s == "joining") return 2;
    if (s == "exec_done" || s == "memo_done") return 3;
    if (s == "failed" || s == "dep_fail") return 4;
    return -1;
  };
  std::int64_t task = -1;
  int group = -1;
  db.each("SELECT task_id, task_status_name, timestamp FROM status WHERE run_id = ?1 ORDER BY task_id, timestamp, try_id",
          run, [&](sqlite3_stmt* st) {
            const std::int64_t id = sqlite3_column_int64(st, 0);
            if (id != task) {
              task = id;
              group = -1;
            }
            const int g = group_of(Db::text(st, 1));
            if (g < 0 || g == group) return;
            const double t = parse_time(reinterpret_cast<const char*>(sqlite3_column_text(st, 2))) - t0;
            moves.emplace_back(t, group, g);
            last = std::max(last, t);
            group = g;
          });
  r.span = std::max(last, 1e-3);
  r.bin_seconds = r.span / r.bins;
  auto bin_of = [&](double t) {
    return std::clamp(static_cast<int>(t / r.bin_seconds), 0, r.bins - 1);
  };
  std::sort(moves.begin(), moves.end());
  for (const char* g : groups) r.states.push_back(Series{g, std::vector<double>(static_cast<std::size_t>(r.bins), 0)});
  {
    long count[5] = {};
    std::size_t m = 0;
    for (int b = 0; b < r.bins; ++b) {
      const double end = (b + 1) * r.bin_seconds;
      for (; m < moves.size() && std::get<0>(moves[m]) < end; ++m) {
        if (std::get<1>(moves[m]) >= 0) --count[std::get<1>(moves[m])];
        ++count[std::get<2>(moves[m])];
      }
      for (int g = 0; g < 5; ++g) r.states[static_cast<std::size_t>(g)].values[static_cast<std::size_t>(b)] = static_cast<double>(count[g]);
    }
  }

  // Busy time per worker; lanes' segments merged so that the page draws a few thousand bars.
  std::sort(intervals.begin(), intervals.end(), [](const Interval& a, const Interval& b) {
    return a.lane != b.lane ? a.lane < b.lane : a.start < b.start;
  });
  const double merge_gap = intervals.size() > 4000 ? r.span / 400 : 0;
  for (const Interval& iv : intervals) {
    Lane& l = r.lanes[iv.lane];
    l.busy_seconds += iv.end - iv.start;
    ++l.tries;
    if (!l.busy.empty() && iv.start <= l.busy.back().second + merge_gap) {
      l.busy.back().second = std::max(l.busy.back().second, iv.end);
      if (l.app_of_segment.back() != iv.app) l.app_of_segment.back() = -1;
    } else {
      l.busy.emplace_back(iv.start, iv.end);
      l.app_of_segment.push_back(iv.app);
    }
  }
  std::vector<std::string> host_of_lane;  // by the index `intervals` hold, before the sort
  for (const auto& l : r.lanes) host_of_lane.push_back(l.host);
  std::sort(r.lanes.begin(), r.lanes.end(), [](const Lane& a, const Lane& b) { return a.name < b.name; });

  // Utilisation per node: busy worker-seconds per bin over the node's workers.
  std::map<std::string, std::size_t> node_series;
  std::map<std::string, int> workers_of;
  for (const auto& n : r.nodes) workers_of[n.host] += n.workers;
  std::map<std::string, int> lanes_of;
  for (const auto& l : r.lanes) ++lanes_of[l.host];
  for (const auto& l : r.lanes) {
    auto [it, added] = node_series.emplace(l.host, r.utilisation.size());
    if (added) r.utilisation.push_back(Series{l.host, std::vector<double>(static_cast<std::size_t>(r.bins), 0)});
  }
  std::vector<std::size_t> series_of_lane;
  for (const auto& h : host_of_lane) series_of_lane.push_back(node_series[h]);
  for (const Interval& iv : intervals) {
    auto& v = r.utilisation[series_of_lane[iv.lane]].values;
    for (int b = bin_of(iv.start); b <= bin_of(iv.end); ++b) {
      const double lo = std::max(iv.start, b * r.bin_seconds), hi = std::min(iv.end, (b + 1) * r.bin_seconds);
      if (hi > lo) v[static_cast<std::size_t>(b)] += hi - lo;
    }
  }
  for (auto& s : r.utilisation) {
    const int workers = workers_of.count(s.name) && workers_of[s.name] > 0 ? workers_of[s.name] : lanes_of[s.name];
    for (auto& x : s.values) x = 100.0 * x / (r.bin_seconds * std::max(1, workers));
    s.name += " (" + std::to_string(std::max(1, workers)) + " workers)";
  }

  // CPU and memory of running tasks: each sample holds until the try's next one (or, the
  // last, for one interval); per bin, the tries' values are summed.
  if (db.columns("resource").count("psutil_process_memory_resident")) {
    struct Sample {
      double t, interval, cpu, memory;
    };
    std::map<std::pair<std::int64_t, int>, std::vector<Sample>> per_try;  // rows come in time order
    db.each("SELECT task_id, try_id, timestamp, coalesce(resource_monitoring_interval, 0), "
            "coalesce(psutil_process_cpu_percent, 0), coalesce(psutil_process_memory_resident, 0) FROM resource "
            "WHERE run_id = ?1 ORDER BY timestamp",
            run, [&](sqlite3_stmt* st) {
              const double t = parse_time(reinterpret_cast<const char*>(sqlite3_column_text(st, 2))) - t0;
              per_try[{sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1)}].push_back(
                  Sample{t, sqlite3_column_double(st, 3), sqlite3_column_double(st, 4) / 100.0,
                         sqlite3_column_double(st, 5) / (1024.0 * 1024 * 1024)});
              ++r.resource_rows;
            });
    r.cpu.values.assign(static_cast<std::size_t>(r.bins), 0);
    r.memory.values.assign(static_cast<std::size_t>(r.bins), 0);
    std::vector<std::pair<double, double>> here(static_cast<std::size_t>(r.bins));
    std::vector<char> used(static_cast<std::size_t>(r.bins));
    for (const auto& [key, samples] : per_try) {
      std::fill(used.begin(), used.end(), 0);
      for (std::size_t k = 0; k < samples.size(); ++k) {
        const Sample& s = samples[k];
        const double until = k + 1 < samples.size() ? samples[k + 1].t : s.t + s.interval;
        const int first = bin_of(s.t), last_bin = std::max(first, bin_of(until) - 1);
        for (int b = first; b <= last_bin; ++b) {
          here[static_cast<std::size_t>(b)] = {s.cpu, s.memory};  // a later sample in a bin wins
          used[static_cast<std::size_t>(b)] = 1;
        }
      }
      for (std::size_t b = 0; b < here.size(); ++b)
        if (used[b]) {
          r.cpu.values[b] += here[b].first;
          r.memory.values[b] += here[b].second;
        }
    }
  }
  return r;
}

}  // namespace parsl::report
