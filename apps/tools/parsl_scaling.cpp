// parsl-scaling: a strong or weak scaling study of any MPI program (a parsl-mpi workflow,
// parsl-run, or your own), with repeats, as a CSV and a plot.
//
//   parsl-scaling --workers=1,2,4,8 [--repeats=3] [--mode=strong|weak] [--out=DIR]
//                 [--launcher=mpirun] [--launcher-args="--oversubscribe"] -- COMMAND [ARGS...]
//   parsl-scaling --nodes=1,2,4 --submit-args="--site NAME ..." [...] -- COMMAND [ARGS...]
//
// With --nodes, each size is a batch job: `parsl-submit --nodes N --submit-dir
// DIR/submit-N-R SUBMIT_ARGS -- COMMAND ARGS` ({nodes} in ARGS replaced), and the time is
// the job's (from its first state RUNNING to its end, as parsl-submit recorded them at its
// poll interval), not the time it waited in the queue; runs.csv has both.
//
// Each size runs `LAUNCHER -np W+1 LAUNCHER_ARGS COMMAND ARGS` (rank 0 hosts the kernel, W
// ranks work), `repeats` times, and times the whole run. `{workers}` and `{ranks}` in ARGS
// are replaced by the size, so that a weak-scaling command can grow its work with it.
// Writes DIR/runs.csv (every run), DIR/summary.csv (per size: median, min, max, speed-up,
// efficiency against the smallest size) and DIR/scaling.svg (time and efficiency against
// workers); each run's output goes to DIR/run-W-R.log. Exit 0 when every run succeeded, 1
// when some failed (named), 2 for a bad command line.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "parsl/launch/submission.hpp"

namespace fs = std::filesystem;

namespace {

#ifdef PARSL_MPIEXEC
constexpr const char* kLauncher = PARSL_MPIEXEC;
#else
constexpr const char* kLauncher = "mpirun";
#endif

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "parsl-scaling: %s\n"
               "usage: parsl-scaling --workers=1,2,4 [--repeats=3] [--mode=strong|weak] [--out=DIR]\n"
               "                     [--launcher=%s] [--launcher-args=\"...\"] -- COMMAND [ARGS...]\n"
               "       parsl-scaling --nodes=1,2,4 --submit-args=\"--site NAME ...\" [--repeats=3] [--mode=...]\n"
               "                     [--out=DIR] [--submit=parsl-submit] -- COMMAND [ARGS...]\n",
               why.c_str(), kLauncher);
  std::exit(2);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

struct Run {
  int workers, repeat, exit;
  double seconds;
  double wall = 0;  // --nodes: submission to end, the queue included
};

// The seconds the jobs of the submission under `base` ran (first seen running to first
// seen ended, summed over its jobs); negative when not known.
double job_seconds(const fs::path& base) {
  try {
    const auto dirs = parsl::launch::Submission::list(base);
    if (dirs.empty()) return -1;
    const auto sub = parsl::launch::Submission::open(dirs.back());
    double total = 0;
    for (const auto& j : sub.jobs()) {
      if (j.started <= 0 || j.ended < j.started) return -1;
      total += j.ended - j.started;
    }
    return sub.jobs().empty() ? -1 : total;
  } catch (const std::exception&) {
    return -1;
  }
}

// parsl-submit beside this program, else on PATH.
std::string default_submit() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && fs::exists(self.parent_path() / "parsl-submit")) return (self.parent_path() / "parsl-submit").string();
  return "parsl-submit";
}

// Runs argv with its output in `log`; returns the exit status (128 + signal when killed).
int run_command(const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = ::fork();
  if (pid < 0) return 127;
  if (pid == 0) {
    if (std::FILE* f = std::fopen(log.c_str(), "w")) {
      ::dup2(::fileno(f), 1);
      ::dup2(::fileno(f), 2);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "parsl-scaling: cannot start %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string g_size_name = "workers";  // the x axis: workers, or nodes

struct Row {
  int workers;
  double median, min, max, speedup, efficiency;
  int runs;
};

// Time (median, min-max bars) and efficiency against workers (log2 axis), one SVG.
std::string plot(const std::vector<Row>& rows, const std::string& mode) {
  const double W = 720, H = 300, left = 60, right = 20, top = 30, bottom = 40;
  const double x0 = std::log2(rows.front().workers), x1 = std::max(x0 + 1, std::log2(rows.back().workers));
  double tmax = 0;
  for (const Row& r : rows) tmax = std::max(tmax, r.max);
  tmax = tmax > 0 ? tmax * 1.1 : 1;
  auto px = [&](int panel, double workers) {
    const double w = (W - left - right - 60) / 2;  // two panels, 60 px apart
    return left + panel * (w + 60) + (std::log2(workers) - x0) / (x1 - x0) * w;
  };
  auto py = [&](double v, double vmax) { return top + (1 - v / vmax) * (H - top - bottom); };
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  const char* titles[] = {"time (s): median, min-max", mode == "weak" ? "weak-scaling efficiency" : "strong-scaling efficiency"};
  for (int panel = 0; panel < 2; ++panel) {
    const double vmax = panel == 0 ? tmax : 1.2;
    s << "<text x=\"" << px(panel, rows.front().workers) << "\" y=\"18\">" << titles[panel] << "</text>\n";
    s << "<line x1=\"" << px(panel, std::exp2(x0)) << "\" y1=\"" << py(0, vmax) << "\" x2=\"" << px(panel, std::exp2(x1))
      << "\" y2=\"" << py(0, vmax) << "\" stroke=\"black\"/>\n";
    for (const Row& r : rows)
      s << "<text x=\"" << px(panel, r.workers) - 4 << "\" y=\"" << H - bottom + 15 << "\">" << r.workers << "</text>\n";
    s << "<text x=\"" << px(panel, std::exp2((x0 + x1) / 2)) - 20 << "\" y=\"" << H - 8 << "\">" << g_size_name << "</text>\n";
    for (int i = 0; i <= 4; ++i) {
      const double v = vmax * i / 4;
      s << "<text x=\"" << px(panel, std::exp2(x0)) - 45 << "\" y=\"" << py(v, vmax) + 4 << "\">" << std::round(v * 100) / 100
        << "</text>\n";
    }
    s << "<polyline fill=\"none\" stroke=\"" << (panel == 0 ? "#1f77b4" : "#d62728") << "\" stroke-width=\"2\" points=\"";
    for (const Row& r : rows) s << px(panel, r.workers) << "," << py(panel == 0 ? r.median : r.efficiency, vmax) << " ";
    s << "\"/>\n";
    for (const Row& r : rows) {
      const double v = panel == 0 ? r.median : r.efficiency;
      s << "<circle cx=\"" << px(panel, r.workers) << "\" cy=\"" << py(v, vmax) << "\" r=\"3\"/>\n";
      if (panel == 0)
        s << "<line x1=\"" << px(0, r.workers) << "\" y1=\"" << py(r.min, vmax) << "\" x2=\"" << px(0, r.workers)
          << "\" y2=\"" << py(r.max, vmax) << "\" stroke=\"#1f77b4\"/>\n";
    }
    if (panel == 1)
      s << "<line x1=\"" << px(1, std::exp2(x0)) << "\" y1=\"" << py(1, vmax) << "\" x2=\"" << px(1, std::exp2(x1))
        << "\" y2=\"" << py(1, vmax) << "\" stroke=\"gray\" stroke-dasharray=\"4 3\"/>\n";
  }
  s << "</svg>\n";
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes;
  int repeats = 3;
  std::string mode = "strong", launcher = kLauncher, out_dir, submit = default_submit();
  std::vector<std::string> launcher_args, command, submit_args;
  bool by_nodes = false, by_workers = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      const std::string prefix = std::string(name) + "=";
      return a.rfind(prefix, 0) == 0 ? a.substr(prefix.size()) : std::string("\x01");
    };
    if (a == "--") {
      for (++i; i < argc; ++i) command.emplace_back(argv[i]);
    } else if (a.rfind("--workers=", 0) == 0 || a.rfind("--nodes=", 0) == 0) {
      const bool nodes = a.rfind("--nodes=", 0) == 0;
      (nodes ? by_nodes : by_workers) = true;
      const std::string name = nodes ? "--nodes" : "--workers";
      for (const auto& w : split(a.substr(name.size() + 1), ',')) {
        char* end = nullptr;
        const long n = std::strtol(w.c_str(), &end, 10);
        if (*end != '\0' || n < 1 || n > (1 << 20))
          usage("bad " + std::string(nodes ? "node" : "worker") + " count '" + w + "' in " + name);
        sizes.push_back(static_cast<int>(n));
      }
    } else if (std::string sa = value("--submit-args"); sa != "\x01") {
      submit_args = split(sa, ' ');
    } else if (std::string sb = value("--submit"); sb != "\x01") {
      submit = sb;
    } else if (std::string r = value("--repeats"); r != "\x01") {
      repeats = std::atoi(r.c_str());
      if (repeats < 1 || repeats > 1000) usage("--repeats must be from 1 to 1000, not '" + r + "'");
    } else if (std::string m = value("--mode"); m != "\x01") {
      if (m != "strong" && m != "weak") usage("--mode must be strong or weak, not '" + m + "'");
      mode = m;
    } else if (std::string o = value("--out"); o != "\x01") {
      out_dir = o;
    } else if (std::string l = value("--launcher"); l != "\x01") {
      launcher = l;
    } else if (std::string la = value("--launcher-args"); la != "\x01") {
      launcher_args = split(la, ' ');
    } else {
      usage("unknown option '" + a + "'");
    }
  }
  if (by_nodes && by_workers) usage("--workers and --nodes cannot be mixed: one study is by workers or by nodes");
  if (sizes.empty()) usage("--workers=LIST or --nodes=LIST is required");
  if (by_nodes && submit_args.empty())
    usage("--nodes runs each size as a batch job through parsl-submit: give --submit-args, e.g. "
          "--submit-args=\"--site NAME --walltime 10\"");
  if (by_nodes) g_size_name = "nodes";
  if (command.empty()) usage("no command after --");
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  if (out_dir.empty()) out_dir = "scaling-" + std::to_string(::time(nullptr));
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) usage("cannot create " + out_dir + ": " + ec.message());

  std::vector<Run> runs;
  for (int w : sizes) {
    for (int r = 1; r <= repeats; ++r) {
      const fs::path sdir = fs::absolute(fs::path(out_dir) / ("submit-" + std::to_string(w) + "-" + std::to_string(r)));
      std::vector<std::string> args;
      if (by_nodes) {
        args = {submit, "--nodes", std::to_string(w), "--submit-dir", sdir.string()};
        args.insert(args.end(), submit_args.begin(), submit_args.end());
        args.emplace_back("--");
      } else {
        args = {launcher, "-np", std::to_string(w + 1)};
        args.insert(args.end(), launcher_args.begin(), launcher_args.end());
      }
      for (std::string c : command) {
        for (const auto& [key, val] :
             {std::pair<std::string, int>{"{workers}", w}, {"{ranks}", w + 1}, {"{nodes}", w}})
          for (std::size_t at; (at = c.find(key)) != std::string::npos;) c.replace(at, key.size(), std::to_string(val));
        args.push_back(c);
      }
      const fs::path log = fs::path(out_dir) / ("run-" + std::to_string(w) + "-" + std::to_string(r) + ".log");
      const auto t0 = std::chrono::steady_clock::now();
      const int code = run_command(args, log);
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      double secs = wall;
      if (by_nodes) {
        const double job = job_seconds(sdir);
        if (job >= 0) secs = job;
      }
      runs.push_back({w, r, code, secs, wall});
      std::printf("%s %d, run %d/%d: %.3f s%s\n", g_size_name.c_str(), w, r, repeats, secs,
                  code == 0 ? "" : (", FAILED with exit " + std::to_string(code) + " (" + log.string() + ")").c_str());
      std::fflush(stdout);
    }
  }

  std::ofstream csv(fs::path(out_dir) / "runs.csv");
  if (by_nodes) {
    csv << "nodes,repeat,seconds,wall_seconds,exit\n";
    for (const Run& r : runs) csv << r.workers << "," << r.repeat << "," << r.seconds << "," << r.wall << "," << r.exit << "\n";
  } else {
    csv << "workers,ranks,repeat,seconds,exit\n";
    for (const Run& r : runs) csv << r.workers << "," << r.workers + 1 << "," << r.repeat << "," << r.seconds << "," << r.exit << "\n";
  }
  std::vector<Row> rows;
  for (int w : sizes) {
    std::vector<double> t;
    for (const Run& r : runs)
      if (r.workers == w && r.exit == 0) t.push_back(r.seconds);
    if (t.empty()) continue;
    rows.push_back({w, median(t), *std::min_element(t.begin(), t.end()), *std::max_element(t.begin(), t.end()), 0, 0,
                    static_cast<int>(t.size())});
  }
  for (Row& r : rows) {
    const Row& base = rows.front();
    const double ratio = base.median / r.median;  // weak: the efficiency; strong: the speed-up
    r.efficiency = mode == "weak" ? ratio : ratio * base.workers / r.workers;
    r.speedup = mode == "weak" ? ratio * r.workers / base.workers : ratio;
  }
  std::ofstream sum(fs::path(out_dir) / "summary.csv");
  sum << g_size_name << ",runs,median_s,min_s,max_s,speedup,efficiency\n";
  std::printf("\n%s scaling of: %s\n%8s %6s %10s %10s %10s %9s %11s\n", mode.c_str(), command.front().c_str(), g_size_name.c_str(),
              "runs", "median s", "min s", "max s", "speed-up", "efficiency");
  for (const Row& r : rows) {
    sum << r.workers << "," << r.runs << "," << r.median << "," << r.min << "," << r.max << "," << r.speedup << ","
        << r.efficiency << "\n";
    std::printf("%8d %6d %10.3f %10.3f %10.3f %9.2f %11.2f\n", r.workers, r.runs, r.median, r.min, r.max, r.speedup,
                r.efficiency);
  }
  if (!rows.empty()) std::ofstream(fs::path(out_dir) / "scaling.svg") << plot(rows, mode);
  int failed = 0;
  for (const Run& r : runs) failed += r.exit != 0;
  std::printf("runs: %s/runs.csv; summary: %s/summary.csv; plot: %s/scaling.svg\n", out_dir.c_str(), out_dir.c_str(),
              out_dir.c_str());
  if (failed) std::fprintf(stderr, "parsl-scaling: %d of %zu runs failed (see their logs)\n", failed, runs.size());
  return failed ? 1 : 0;
}
