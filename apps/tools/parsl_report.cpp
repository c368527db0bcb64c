// parsl-report: a run's monitoring database as one self-contained HTML page, or a summary in
// the terminal.
//
//   parsl-report runinfo/NNN               writes runinfo/NNN/report.html
//   parsl-report runinfo/NNN -o page.html  writes page.html
//   parsl-report --text runinfo/NNN        prints the summary
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "report/report.hpp"

namespace {

#ifndef PARSL_CHARTJS
#define PARSL_CHARTJS "/usr/share/javascript/chart.js/chart.min.js"
#endif

constexpr const char* kUsage =
    "usage: parsl-report [--text] [-o FILE] [--chartjs=PATH] RUN\n"
    "  RUN            a run folder (runinfo/NNN) or its monitoring.db\n"
    "  --text         print a summary instead of writing the page\n"
    "  -o FILE        where the page goes (default RUN/report.html)\n"
    "  --chartjs=PATH Chart.js to copy into the page (default " PARSL_CHARTJS
    ",\n                 from Debian's libjs-chart.js; also $PARSL_CHARTJS)\n";

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

namespace parsl::report {

void write_text(const Run& r, std::ostream& out) {
  char line[512];
  out << "run " << r.run_id << " (" << r.workflow << ") on " << r.host << " by " << r.user << "\n"
      << "  folder    " << r.rundir << "\n  began     " << r.began << "\n  completed "
      << (r.completed.empty() ? "(not recorded: the run was stopped)" : r.completed) << "\n";
  out << "tasks: " << r.tasks << " (" << r.completed_count << " completed, " << r.failed_count << " failed)\n";
  std::snprintf(line, sizeof line, "  %-32s %9s %9s %9s %9s %9s %11s %11s\n", "app", "tasks", "exec_done", "memo_done",
                "failed", "dep_fail", "median run", "longest run");
  out << line;
  for (const auto& a : r.apps) {
    auto n = [&](const char* s) { return a.final_states.count(s) ? a.final_states.at(s) : 0; };
    std::snprintf(line, sizeof line, "  %-32.32s %9llu %9llu %9llu %9llu %9llu %11s %11s\n", a.name.c_str(),
                  static_cast<unsigned long long>(a.tasks), static_cast<unsigned long long>(n("exec_done")),
                  static_cast<unsigned long long>(n("memo_done")), static_cast<unsigned long long>(n("failed")),
                  static_cast<unsigned long long>(n("dep_fail")), format_seconds(a.median).c_str(),
                  format_seconds(a.max).c_str());
    out << line;
  }
  if (!r.nodes.empty()) {
    out << "nodes:\n";
    for (const auto& n : r.nodes) {
      std::snprintf(line, sizeof line, "  %-32.32s %4d cores %8.1f GiB %5d workers\n", n.host.c_str(), n.cores,
                    static_cast<double>(n.memory) / (1 << 30), n.workers);
      out << line;
    }
  }
  for (const auto& b : r.blocks) out << "block: " << b << "\n";
  if (!r.slowest.empty()) {
    out << "slowest tries:\n";
    for (const auto& s : r.slowest) {
      std::snprintf(line, sizeof line, "  task %-10llu try %-3d %-32.32s %-20.20s %11s\n",
                    static_cast<unsigned long long>(s.task), s.try_id, s.app.c_str(), s.where.c_str(),
                    format_seconds(s.seconds).c_str());
      out << line;
    }
  }
  std::snprintf(line, sizeof line, "queries: tasks per app and state %.3f s, slowest tries %.3f s\n",
                r.query_seconds_per_app_state, r.query_seconds_slowest);
  out << line;
  if (r.failed_total > 0) {
    out << "failed tasks: " << r.failed_total << (r.failed_total > 20 ? " (the first 20)" : "") << "\n";
    for (std::size_t i = 0; i < r.failed.size() && i < 20; ++i) {
      const auto& f = r.failed[i];
      out << "  task " << f.task << " (" << f.app << ", " << f.state << ", " << f.tries << " tries): " << f.error << "\n";
    }
    out << "  the run's log: " << r.rundir << "/parsl.log\n";
  }
}

}  // namespace parsl::report

int main(int argc, char** argv) {
  bool text = false;
  std::string out_file, run_arg;
  const char* env_chartjs = std::getenv("PARSL_CHARTJS");
  std::string chartjs = env_chartjs && *env_chartjs ? env_chartjs : PARSL_CHARTJS;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--text") {
      text = true;
    } else if (a == "-o" && i + 1 < argc) {
      out_file = argv[++i];
    } else if (a.rfind("--chartjs=", 0) == 0) {
      chartjs = a.substr(10);
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "parsl-report: unknown option '" << a << "'\n" << kUsage;
      return 2;
    } else if (run_arg.empty()) {
      run_arg = a;
    } else {
      std::cerr << "parsl-report: one run at a time ('" << run_arg << "' and '" << a << "')\n" << kUsage;
      return 2;
    }
  }
  if (run_arg.empty()) {
    std::cerr << "parsl-report: which run? give a run folder (runinfo/NNN)\n" << kUsage;
    return 2;
  }
  try {
    const auto db = parsl::report::find_database(run_arg);
    if (text) {
      parsl::report::write_text(parsl::report::load_run(db, false), std::cout);
      return 0;
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(chartjs, ec))
      throw parsl::report::ReportError("Chart.js is not at " + chartjs +
                                       ": install Debian's libjs-chart.js, give --chartjs=PATH, or use --text");
    const std::string script = read_file(chartjs);
    const auto run = parsl::report::load_run(db, true);
    if (out_file.empty()) out_file = (db.parent_path() / "report.html").string();
    const std::string tmp = out_file + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw parsl::report::ReportError("cannot write " + tmp);
      parsl::report::write_html(run, out, script);
      out.close();
      if (!out) throw parsl::report::ReportError("cannot write " + tmp + " (disk full?)");
    }
    std::filesystem::rename(tmp, out_file);
    std::cout << "parsl-report: " << out_file << " (" << run.tasks << " tasks, " << run.lanes.size()
              << " workers)\n";
    return 0;
  } catch (const parsl::report::ReportError& e) {
    std::cerr << "parsl-report: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "parsl-report: " << e.what() << "\n";
    return 1;
  }
}
