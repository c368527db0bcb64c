#pragma once
// parsl-report's model of one run: read from its monitoring.db (Parsl's schema and our extra
// columns, docs/monitoring.md) and aggregated for a page or a terminal, so that a run of a
// million tasks becomes a few thousand numbers.
#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace parsl::report {

/// A database parsl-report cannot read: missing, locked, not SQLite, not Parsl's schema.
/// The message names the file and says what to do.
class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Time bins of a series: `bins` values over [0, span] seconds from the run's start.
struct Series {
  std::string name;
  std::vector<double> values;
};

struct AppSummary {
  std::string name;
  std::uint64_t tasks = 0;
  std::map<std::string, std::uint64_t> final_states;  // exec_done, memo_done, failed, dep_fail
  std::vector<double> run_seconds;                    // of each finished try (for the histogram)
  double median = 0, max = 0;
};

struct Lane {  // one worker: a rank on a host, or a host's in-process pool
  std::string name;
  std::string host;
  // Busy segments [start, end) in seconds, merged when closer than the page can show.
  std::vector<std::pair<double, double>> busy;
  std::vector<int> app_of_segment;  // an app index, or -1 for a segment of several apps
  double busy_seconds = 0;
  std::uint64_t tries = 0;
};

struct SlowTry {
  std::uint64_t task = 0;
  int try_id = 0;
  std::string app, where;
  double seconds = 0;
};

struct FailedTask {
  std::uint64_t task = 0;
  std::string app, state, error, logs;
  int tries = 0;
};

struct Node {
  std::string host;
  int cores = 0, workers = 0;
  std::uint64_t memory = 0;
};

struct Run {
  std::filesystem::path db;
  std::string run_id, workflow, host, user, rundir, began, completed;
  double span = 0;  // seconds from the first to the last record
  std::uint64_t tasks = 0, completed_count = 0, failed_count = 0;
  std::vector<AppSummary> apps;
  std::vector<Lane> lanes;
  std::vector<Node> nodes;
  std::vector<std::string> blocks;  // "executor block job status" lines
  int bins = 120;
  double bin_seconds = 0;
  std::vector<Series> states;       // tasks in each state over time
  std::vector<Series> utilisation;  // per node: busy workers / workers, percent
  Series cpu{"CPU (cores)", {}}, memory{"resident memory (GiB)", {}};
  std::uint64_t resource_rows = 0;
  std::vector<SlowTry> slowest;
  std::vector<FailedTask> failed;
  std::uint64_t failed_total = 0;
  double query_seconds_per_app_state = 0, query_seconds_slowest = 0;  // for the text summary
};

/// The monitoring database of `path`: a run folder (runinfo/NNN) or the database file.
/// Throws ReportError naming the path when there is none.
std::filesystem::path find_database(const std::filesystem::path& path);

/// Reads and aggregates the run (the database's first, or only, workflow). `full`: also the
/// per-try and per-status passes the page needs; the text summary does without them.
Run load_run(const std::filesystem::path& db, bool full);

/// Seconds of "YYYY-MM-DD HH:MM:SS[.ffffff]" since 1970-01-01 00:00 of the same clock;
/// negative when the text is not such a time.
double parse_time(const char* text);

/// "12 us", "3.4 ms", "5.67 s", "8.9 min".
std::string format_seconds(double seconds);

}  // namespace parsl::report
