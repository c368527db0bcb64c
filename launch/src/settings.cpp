#include "parsl/launch/settings.hpp"

#include <cstdlib>
#include <fstream>

#include "parsl/launch/command_runner.hpp"

namespace parsl::launch {

namespace fs = std::filesystem;

const std::map<std::string, std::string>& Settings::known_keys() {
  static const std::map<std::string, std::string> keys = {
      {"provider", "the batch system: local, slurm, pbspro, torque, cobalt, lsf"},
      {"launcher", "how the job starts its ranks: srun, aprun, jsrun, mpiexec, mpirun, pals, simple"},
      {"launcher-options", "extra flags for the launcher, put right after its own"},
      {"nodes", "nodes per job"},
      {"ranks-per-node", "MPI ranks per node"},
      {"cores-per-rank", "cores for each rank"},
      {"gpus-per-rank", "GPUs for each rank"},
      {"walltime", "per job: HH:MM:SS, MM:SS, D-HH:MM:SS, minutes, or seconds with 's'"},
      {"partition", "the partition (Slurm) or queue (the others) to submit to"},
      {"queue", "the same as partition"},
      {"account", "the account or project to charge"},
      {"node-features", "node properties: Torque nodes=N:ppn=P:<this>, PBS Pro select, Slurm --constraint, "
                        "LSF -alloc_flags, Cobalt --attrs"},
      {"scheduler-options", "extra directive lines for the job script (use \\n between lines)"},
      {"worker-init", "bash run in the job before the launch, e.g. 'module load x'"},
      {"job-name", "the job's name in the queue"},
      {"max-jobs", "at most this many jobs for one campaign (walltime, node failure, preemption)"},
      {"queue-ahead", "yes: queue the next job behind the running one with a scheduler dependency"},
      {"drain", "seconds before the job's end when parsl-run stops starting tasks (0: no draining)"},
      {"resume-args", "arguments added after the program name from the second job on "
                      "(default: --resume for parsl-run)"},
      {"cmd-timeout", "seconds any scheduler command may take"},
      {"poll", "seconds between status polls (default: the provider's)"},
      {"submit-dir", "where run folders go (default: ./submit)"},
      {"description", "what this profile is for (shown by parsl-submit sites)"},
  };
  return keys;
}

void Settings::set(const std::string& key, const std::string& value, const std::string& origin) {
  if (!known_keys().count(key)) {
    std::string known;
    for (const auto& [k, help] : known_keys()) known += (known.empty() ? "" : ", ") + k;
    throw LaunchError(origin + ": unknown setting '" + key + "'; known settings: " + known);
  }
  const std::string k = key == "queue" ? "partition" : key;
  values_[k] = value;
  origins_[k] = origin;
}

void Settings::merge(const Settings& other) {
  for (const auto& [k, v] : other.values_) {
    values_[k] = v;
    origins_[k] = other.origin(k);
  }
}

std::string Settings::get(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key == "queue" ? "partition" : key);
  return it == values_.end() ? fallback : it->second;
}

std::string Settings::origin(const std::string& key) const {
  auto it = origins_.find(key);
  return it == origins_.end() ? "default" : it->second;
}

int Settings::get_int(const std::string& key, int fallback, int min) const {
  if (!has(key)) return fallback;
  const std::string v = get(key);
  long n = -1;
  if (!v.empty() && v.size() < 10 && v.find_first_not_of("0123456789") == std::string::npos) n = std::stol(v);
  if (n < min)
    throw LaunchError(origin(key) + ": " + key + " must be a whole number of at least " + std::to_string(min) +
                      ", got '" + v + "'");
  return static_cast<int>(n);
}

bool Settings::get_bool(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const std::string v = get(key);
  if (v == "yes" || v == "true" || v == "1" || v == "on" || v.empty()) return true;
  if (v == "no" || v == "false" || v == "0" || v == "off") return false;
  throw LaunchError(origin(key) + ": " + key + " must be yes or no, got '" + v + "'");
}

Settings load_profile(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw LaunchError("cannot read the profile " + file.string());
  Settings s;
  std::map<std::string, int> seen;
  std::string line;
  int number = 0;
  auto trim = [](std::string t) {
    const auto b = t.find_first_not_of(" \t\r");
    const auto e = t.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : t.substr(b, e - b + 1);
  };
  while (std::getline(in, line)) {
    ++number;
    const std::string where = file.string() + ":" + std::to_string(number);
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    const auto eq = t.find('=');
    if (eq == std::string::npos)
      throw LaunchError(where + ": expected 'key = value', got '" + t + "'");
    const std::string key = trim(t.substr(0, eq));
    std::string value = trim(t.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    std::string canon = key == "queue" ? "partition" : key;
    if (auto it = seen.find(canon); it != seen.end())
      throw LaunchError(where + ": '" + key + "' is set twice (first on line " + std::to_string(it->second) + ")");
    seen[canon] = number;
    s.set(key, value, where);
  }
  return s;
}

std::vector<fs::path> site_search_path() {
  std::vector<fs::path> dirs;
  if (const char* p = std::getenv("PARSL_SITE_PATH")) {
    std::string all = p;
    std::size_t start = 0;
    while (start <= all.size()) {
      auto end = all.find(':', start);
      if (end == std::string::npos) end = all.size();
      if (end > start) dirs.emplace_back(all.substr(start, end - start));
      start = end + 1;
    }
  }
  if (const char* home = std::getenv("HOME")) dirs.push_back(fs::path(home) / ".config/parsl-mpi/sites");
#ifdef PARSL_SITES_INSTALL_DIR
  dirs.emplace_back(PARSL_SITES_INSTALL_DIR);
#endif
#ifdef PARSL_SITES_SOURCE_DIR
  dirs.emplace_back(PARSL_SITES_SOURCE_DIR);
#endif
  return dirs;
}

std::map<std::string, fs::path> list_sites() {
  std::map<std::string, fs::path> sites;
  for (const auto& dir : site_search_path()) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".conf") sites.emplace(e.path().stem().string(), e.path());
  }
  return sites;
}

fs::path find_site(const std::string& name) {
  if (name.find('/') != std::string::npos || (name.size() > 5 && name.ends_with(".conf"))) {
    if (fs::exists(name)) return name;
    throw LaunchError("--site " + name + ": no such profile file");
  }
  for (const auto& dir : site_search_path())
    if (fs::exists(dir / (name + ".conf"))) return dir / (name + ".conf");
  std::string searched, found;
  for (const auto& dir : site_search_path()) searched += (searched.empty() ? "" : ", ") + dir.string();
  for (const auto& [n, p] : list_sites()) found += (found.empty() ? "" : ", ") + n;
  throw LaunchError("--site " + name + ": no profile " + name + ".conf in " + searched +
                    (found.empty() ? std::string() : "; known sites: " + found));
}

}  // namespace parsl::launch
