#include "parsl/runtime/config.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/thread_pool_executor.hpp"
#include "parsl/serial/text.hpp"

namespace parsl {

namespace {

constexpr std::string_view kPrefix = "--parsl-";

long parse_int(std::string_view option, std::string_view value, long min, long max) {
  long out = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || ptr != value.data() + value.size() || out < min || out > max)
    throw ConfigError("bad value '" + excerpt(value) + "' for " + std::string(option) +
                      ": expected a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  return out;
}

double parse_number(std::string_view option, std::string_view value) {
  const std::string s(value);
  std::size_t used = 0;
  double out = 0;
  try {
    out = std::stod(s, &used);
  } catch (...) {
    used = 0;
  }
  if (used != s.size() || s.empty() || !std::isfinite(out) || out < 0)
    throw ConfigError("bad value '" + excerpt(s) + "' for " + std::string(option) + ": expected a number >= 0");
  return out;
}

bool parse_bool(std::string_view option, std::string_view value) {
  if (value == "true" || value == "1" || value == "yes" || value == "on") return true;
  if (value == "false" || value == "0" || value == "no" || value == "off") return false;
  throw ConfigError("bad value '" + excerpt(value) + "' for " + std::string(option) +
                    ": expected true or false");
}

}  // namespace

std::string Config::options_help() {
  return "parsl-mpi options (all optional, --parsl-NAME=VALUE):\n"
         "  --parsl-threads=N       threads of the default thread pool executor (default: one per core)\n"
         "  --parsl-retries=X       failure budget per task (default 0: no retries)\n"
         "  --parsl-run-dir=PATH    where runinfo/NNN folders go (default runinfo; none: no run folder)\n"
         "  --parsl-log-level=L     debug | info | warning | error | off (default info)\n"
         "  --parsl-app-cache=B     true | false: memoize apps declared cacheable (default true)\n"
         "  --parsl-monitoring=B    true | false: write runinfo/NNN/monitoring.db (default false)\n"
         "  --parsl-monitoring-interval=S  seconds between resource samples of running tasks (default 5; 0: none)\n"
         "  --parsl-mpi-fanout=N    most children per dispatcher rank in the MPI tree (default 64)\n"
         "  --parsl-mpi-ranks-per-node=N  group ranks into nodes of N (default: real nodes)\n"
         "  --parsl-mpi-prefetch=N  least tasks a worker holds beyond the one it runs (default 0)\n"
         "  --parsl-mpi-max-prefetch=N  most, for short tasks (default 64)\n"
         "  --parsl-mpi-pin=B       pin workers to cores with hwloc (default true)\n"
         "  --parsl-mpi-start-timeout=S  seconds every rank has to start before the job is stopped\n"
         "                          with a message naming the missing ranks (default 120)\n"
         "  --parsl-mpi-emulate=NxW emulate N nodes of W workers each: rank 0 and one path of\n"
         "                          sub-masters are real, the other ranks host the rest (docs/scaling.md)\n"
         "  --parsl-help            print this help and exit\n";
}

bool Config::help_requested(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i)
    if (argv[i] != nullptr && std::string_view(argv[i]) == "--parsl-help") return true;
  return false;
}

Config Config::from_args(int argc, const char* const* argv) {
  Config config;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i] != nullptr ? argv[i] : "";
    if (arg.substr(0, kPrefix.size()) != kPrefix) continue;
    if (arg == "--parsl-help") continue;
    const auto eq = arg.find('=');
    if (eq == std::string_view::npos)
      throw ConfigError("option " + excerpt(arg) + " needs a value: write " + excerpt(arg) + "=VALUE");
    const std::string_view name = arg.substr(0, eq);
    const std::string_view value = arg.substr(eq + 1);
    if (name == "--parsl-threads") {
      threads = static_cast<int>(parse_int(name, value, 1, 4096));
    } else if (name == "--parsl-retries") {
      config.retries = parse_number(name, value);
    } else if (name == "--parsl-run-dir") {
      if (value.empty()) throw ConfigError("--parsl-run-dir needs a non-empty path (or none: no run folder)");
      config.run_dir = value == "none" ? std::string() : std::string(value);
    } else if (name == "--parsl-log-level") {
      config.log_level = parse_log_level(value);
    } else if (name == "--parsl-app-cache") {
      config.app_cache = parse_bool(name, value);
    } else if (name == "--parsl-monitoring") {
      config.monitoring = parse_bool(name, value);
    } else if (name == "--parsl-monitoring-interval") {
      config.monitoring_interval = parse_number(name, value);
      if (!(config.monitoring_interval >= 0 && config.monitoring_interval <= 86400))
        throw ConfigError("bad value '" + excerpt(value) + "' for --parsl-monitoring-interval: expected seconds "
                          "from 0 (no samples) to 86400");
    } else if (name.substr(0, 12) == "--parsl-mpi-") {
      config.mpi_options[std::string(name.substr(12))] = std::string(value);
    } else {
      throw ConfigError("unknown option " + excerpt(name) + "\n" + options_help());
    }
  }
  if (threads > 0) config.executors.push_back(std::make_shared<ThreadPoolExecutor>(threads));
  return config;
}

}  // namespace parsl
