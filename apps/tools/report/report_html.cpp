// parsl-report's page: one self-contained HTML file. The charts are drawn by Chart.js (Debian's
// libjs-chart.js), whose script is copied into the page, so it opens without a network.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "report.hpp"

namespace parsl::report {

namespace {

std::string html(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Chart.js's palette-free colours: distinct hues, readable on white.
std::string colour(std::size_t i) {
  static const char* c[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return c[i % 10];
}

// JSON for a <script> block: "</" must not close it.
std::string script_json(const nlohmann::json& j) {
  std::string s = j.dump();
  for (std::size_t at = 0; (at = s.find("</", at)) != std::string::npos; at += 3) s.replace(at, 2, "<\\/");
  return s;
}

nlohmann::json line_chart(const Run& r, const std::vector<Series>& series, const std::string& y_title) {
  nlohmann::json labels = nlohmann::json::array();
  for (int b = 0; b < r.bins; ++b) labels.push_back(std::round((b + 0.5) * r.bin_seconds * 1000) / 1000);
  nlohmann::json sets = nlohmann::json::array();
  for (std::size_t i = 0; i < series.size(); ++i)
    sets.push_back({{"label", series[i].name}, {"data", series[i].values}, {"borderColor", colour(i)},
                    {"backgroundColor", colour(i)}, {"pointRadius", 0}, {"borderWidth", 2}});
  return {{"type", "line"},
          {"data", {{"labels", labels}, {"datasets", sets}}},
          {"options", {{"scales", {{"x", {{"title", {{"display", true}, {"text", "seconds since the run began"}}}}},
                                   {"y", {{"beginAtZero", true}, {"title", {{"display", true}, {"text", y_title}}}}}}}}}};
}

}  // namespace

void write_html(const Run& r, std::ostream& out, const std::string& chartjs) {
  const std::size_t kLanes = 200;  // more workers than this: the first ones, and a note
  nlohmann::json charts = nlohmann::json::object();

  // Gantt: one row per worker, a floating bar per busy segment, coloured by app.
  {
    nlohmann::json lanes = nlohmann::json::array();
    std::vector<nlohmann::json> per_app(r.apps.size() + 1, nlohmann::json::array());
    for (std::size_t i = 0; i < r.lanes.size() && i < kLanes; ++i) {
      const Lane& l = r.lanes[i];
      lanes.push_back(l.name);
      for (std::size_t s = 0; s < l.busy.size(); ++s) {
        const int app = l.app_of_segment[s];
        per_app[app < 0 ? r.apps.size() : static_cast<std::size_t>(app)].push_back(
            {{"x", {l.busy[s].first, l.busy[s].second}}, {"y", l.name}});
      }
    }
    nlohmann::json sets = nlohmann::json::array();
    for (std::size_t a = 0; a <= r.apps.size(); ++a) {
      if (per_app[a].empty()) continue;
      sets.push_back({{"label", a < r.apps.size() ? r.apps[a].name : std::string("several apps (merged)")},
                      {"data", per_app[a]}, {"backgroundColor", a < r.apps.size() ? colour(a) : "#999999"},
                      {"borderSkipped", false}, {"barPercentage", 0.9}, {"categoryPercentage", 1.0}});
    }
    charts["gantt"] = {
        {"type", "bar"},
        {"height", std::max<std::size_t>(160, 40 + 16 * std::min(r.lanes.size(), kLanes))},
        {"data", {{"labels", lanes}, {"datasets", sets}}},
        {"options", {{"indexAxis", "y"},
                     {"scales", {{"x", {{"min", 0}, {"max", r.span}, {"title", {{"display", true}, {"text", "seconds since the run began"}}}}},
                                 {"y", {{"stacked", true}}}}}}}};
  }
  charts["states"] = line_chart(r, r.states, "tasks");
  charts["utilisation"] = line_chart(r, r.utilisation, "busy workers, % of the node's");
  if (r.resource_rows > 0) {
    auto c = line_chart(r, {r.cpu, r.memory}, "CPU (cores)");
    c["data"]["datasets"][1]["yAxisID"] = "y2";
    c["options"]["scales"]["y2"] = {{"position", "right"}, {"beginAtZero", true},
                                    {"title", {{"display", true}, {"text", "resident memory (GiB)"}}},
                                    {"grid", {{"drawOnChartArea", false}}}};
    charts["resources"] = c;
  }
  // Run-time histogram per app: log-spaced bins over every app's range.
  {
    double lo = 1e300, hi = 0;
    for (const auto& a : r.apps)
      for (double s : a.run_seconds) {
        lo = std::min(lo, std::max(s, 1e-6));
        hi = std::max(hi, s);
      }
    if (hi > 0) {
      const int bins = 30;
      const double l0 = std::log10(lo), l1 = std::max(std::log10(hi), l0 + 1e-3);
      nlohmann::json labels = nlohmann::json::array(), sets = nlohmann::json::array();
      for (int b = 0; b < bins; ++b) labels.push_back(format_seconds(std::pow(10, l0 + (b + 0.5) * (l1 - l0) / bins)));
      for (std::size_t a = 0; a < r.apps.size(); ++a) {
        if (r.apps[a].run_seconds.empty()) continue;
        std::vector<std::uint64_t> counts(bins, 0);
        for (double s : r.apps[a].run_seconds) {
          const double x = (std::log10(std::max(s, 1e-6)) - l0) / (l1 - l0) * bins;
          ++counts[static_cast<std::size_t>(std::clamp(static_cast<int>(x), 0, bins - 1))];
        }
        sets.push_back({{"label", r.apps[a].name}, {"data", counts}, {"backgroundColor", colour(a)}});
      }
      charts["durations"] = {
          {"type", "bar"},
          {"data", {{"labels", labels}, {"datasets", sets}}},
          {"options", {{"scales", {{"x", {{"stacked", true}, {"title", {{"display", true}, {"text", "run time of a try (log bins)"}}}}},
                                   {"y", {{"stacked", true}, {"title", {{"display", true}, {"text", "tries"}}}}}}}}}};
    }
  }

  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>parsl-report: " << html(r.run_id)
      << "</title>\n<style>\nbody{font-family:sans-serif;margin:1.5em;color:#222;max-width:1300px}"
         "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;"
         "vertical-align:top}th{background:#f0f0f0}td.n{text-align:right}section{margin:1.5em 0}"
         ".note{color:#666}code{font-size:90%;word-break:break-all}</style>\n</head><body>\n";
  out << "<h1>parsl-report: run " << html(r.run_id) << "</h1>\n<table>";
  auto row = [&](const std::string& k, const std::string& v) { out << "<tr><th>" << k << "</th><td>" << html(v) << "</td></tr>"; };
  row("workflow", r.workflow);
  row("run folder", r.rundir);
  row("host, user", r.host + ", " + r.user);
  row("began", r.began);
  row("completed", r.completed.empty() ? "(not recorded: the run was stopped)" : r.completed);
  row("span", format_seconds(r.span));
  row("tasks", std::to_string(r.tasks) + " (" + std::to_string(r.completed_count) + " completed, " +
                   std::to_string(r.failed_count) + " failed)");
  row("database", r.db.string());
  out << "</table>\n";
  out << "<section><h2>Tasks per app</h2><table><tr><th>app</th><th>tasks</th><th>exec_done</th><th>memo_done</th>"
         "<th>failed</th><th>dep_fail</th><th>median run</th><th>longest run</th></tr>\n";
  for (const auto& a : r.apps) {
    auto n = [&](const char* s) { return a.final_states.count(s) ? std::to_string(a.final_states.at(s)) : "0"; };
    out << "<tr><td>" << html(a.name) << "</td><td class=n>" << a.tasks << "</td><td class=n>" << n("exec_done")
        << "</td><td class=n>" << n("memo_done") << "</td><td class=n>" << n("failed") << "</td><td class=n>"
        << n("dep_fail") << "</td><td class=n>" << format_seconds(a.median) << "</td><td class=n>" << format_seconds(a.max)
        << "</td></tr>\n";
  }
  out << "</table></section>\n";
  auto chart = [&](const char* id, const char* title, const std::string& note) {
    out << "<section><h2>" << title << "</h2>";
    if (!note.empty()) out << "<p class=note>" << html(note) << "</p>";
    if (charts.contains(id)) {
      const int h = charts[id].contains("height") ? charts[id]["height"].get<int>() : 320;
      out << "<canvas id=\"" << id << "\" width=\"1200\" height=\"" << h << "\"></canvas>";
    } else {
      out << "<p class=note>Nothing to draw.</p>";
    }
    out << "</section>\n";
  };
  chart("gantt", "Task timeline per worker",
        (r.lanes.size() > kLanes ? "The first " + std::to_string(kLanes) + " of " + std::to_string(r.lanes.size()) +
                                       " workers. "
                                 : std::string()) +
            "Each bar is a stretch of work on one worker; tries closer together than the page can show are merged.");
  chart("states", "Tasks by state over time", "");
  chart("durations", "Run times of tries per app", "");
  chart("utilisation", "Worker utilisation per node", "");
  chart("resources", "CPU and memory of running tasks",
        r.resource_rows ? std::to_string(r.resource_rows) + " resource samples."
                        : "No resource samples: tasks shorter than the monitoring interval, or the interval was 0.");

  out << "<section><h2>Failed tasks</h2>";
  if (r.failed.empty()) out << "<p>None.</p>";
  else {
    if (r.failed_total > r.failed.size())
      out << "<p class=note>The first " << r.failed.size() << " of " << r.failed_total << ".</p>";
    out << "<table><tr><th>task</th><th>app</th><th>state</th><th>tries</th><th>error</th><th>logs</th></tr>\n";
    for (const auto& f : r.failed)
      out << "<tr><td class=n>" << f.task << "</td><td>" << html(f.app) << "</td><td>" << f.state << "</td><td class=n>"
          << f.tries << "</td><td>" << html(f.error) << "</td><td><code>" << html(f.logs) << "</code></td></tr>\n";
    out << "</table>";
  }
  out << "<p class=note>The run's log: <code>" << html(r.rundir) << "/parsl.log</code></p></section>\n";
  out << "<section><h2>Slowest tries</h2><table><tr><th>task</th><th>try</th><th>app</th><th>host</th>"
         "<th>run time</th></tr>\n";
  for (const auto& s : r.slowest)
    out << "<tr><td class=n>" << s.task << "</td><td class=n>" << s.try_id << "</td><td>" << html(s.app) << "</td><td>"
        << html(s.where) << "</td><td class=n>" << format_seconds(s.seconds) << "</td></tr>\n";
  out << "</table></section>\n<section><h2>Nodes and blocks</h2><table><tr><th>host</th><th>cores</th>"
         "<th>memory</th><th>workers</th></tr>\n";
  for (const auto& n : r.nodes)
    out << "<tr><td>" << html(n.host) << "</td><td class=n>" << n.cores << "</td><td class=n>"
        << static_cast<double>(n.memory) / (1 << 30) << " GiB</td><td class=n>" << n.workers << "</td></tr>\n";
  out << "</table><ul>";
  for (const auto& b : r.blocks) out << "<li>" << html(b) << "</li>";
  out << "</ul></section>\n";
  out << "<p class=note>Made by parsl-report from " << html(r.db.string()) << ". Charts: Chart.js.</p>\n";
  out << "<script>\n" << chartjs << "\n</script>\n<script>\nconst charts = " << script_json(charts) << ";\n" << R"JS(
Chart.defaults.animation = false;
Chart.defaults.responsive = false;
Chart.defaults.devicePixelRatio = 1;
for (const [id, config] of Object.entries(charts)) {
  const canvas = document.getElementById(id);
  if (canvas) new Chart(canvas, config);
}
// What was drawn, for anyone (or any test) who asks the page: painted pixels per canvas.
let drawn = 0;
for (const c of document.querySelectorAll('canvas')) {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) ++n;
  c.dataset.painted = n;
  if (n > 0) ++drawn;
}
document.body.dataset.chartsDrawn = drawn;
)JS" << "</script>\n</body></html>\n";
}

}  // namespace parsl::report
