// Per-task resources: what a call asks for, checked at submission.
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/executor.hpp"
#include "resources.hpp"

namespace parsl {

namespace {
std::string bytes_text(std::uint64_t b) {
  char buf[64];
  if (b >= (1ULL << 30))
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(b) / (1ULL << 30));
  else if (b >= (1ULL << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(b) / (1ULL << 20));
  else
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(b));
  return buf;
}
}  // namespace

std::string Resources::describe() const {
  std::string out = std::to_string(cores) + (cores == 1 ? " core" : " cores");
  if (gpus > 0) out += ", " + std::to_string(gpus) + (gpus == 1 ? " GPU" : " GPUs");
  if (memory > 0) out += ", " + bytes_text(memory);
  if (ranks > 1) out += " per rank, " + std::to_string(ranks) + " ranks";
  return out;
}

void Executor::check_resources(const AppDef& app, const Resources& need) const {
  if (need.plain() && !app.mpi) return;  // every task's path: no system calls
  if (app.mpi)
    throw ConfigError("app '" + app.name + "' is an MPI app: only the MPI executor runs it (start the program with "
                      "mpirun and at least " + std::to_string(need.ranks + 1) + " ranks); executor '" + label() +
                      "' runs tasks on threads of this process");
  if (need.gpus > 0)
    throw ConfigError("app '" + app.name + "' asks for " + need.describe() + ", but executor '" + label() +
                      "' runs tasks on threads of this process and hands out no GPUs");
  if (need.ranks > 1)
    throw ConfigError("app '" + app.name + "' asks for " + need.describe() + ", but executor '" + label() +
                      "' runs tasks on threads of this process and reserves no ranks (the MPI executor does)");
  const unsigned hw = std::thread::hardware_concurrency();
  if (hw > 0 && static_cast<unsigned>(need.cores) > hw)
    throw ConfigError("app '" + app.name + "' asks for " + need.describe() + ", but this machine has " +
                      std::to_string(hw) + " cores");
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0 && need.memory > static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page))
    throw ConfigError("app '" + app.name + "' asks for " + need.describe() + ", but this machine has " +
                      bytes_text(static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page)) + " of memory");
}

namespace detail {

Resources resources_of(const AppDef& app, const CallOptions& call) {
  const AppOptions& o = app.options;
  Resources r{call.cores.value_or(o.cores), call.gpus.value_or(o.gpus), call.memory.value_or(o.memory),
              call.ranks.value_or(o.ranks)};
  auto bad = [&](const char* what, long long v, const char* rule) {
    throw ConfigError("app '" + app.name + "': ." + what + " = " + std::to_string(v) + "; it must be " + rule);
  };
  if (r.cores < 1 || r.cores > kMaxCores) bad("cores", r.cores, "from 1 to 65536");
  if (r.gpus < 0 || r.gpus > kMaxGpus) bad("gpus", r.gpus, "from 0 to 1024");
  if (r.ranks < 1 || r.ranks > kMaxRanks) bad("ranks", r.ranks, "from 1 to 16777216");
  if (r.ranks > 1 && !app.mpi && !app.bash)
    throw ConfigError("app '" + app.name + "': .ranks = " + std::to_string(r.ranks) +
                      " is for MPI apps (parsl::mpi_app) and bash apps (which start an MPI program with "
                      "$PARSL_MPI_PREFIX) only");
  if (app.kind == AppDef::Kind::join && !r.plain())
    throw ConfigError("app '" + app.name + "' is a join app: it runs on the kernel's side and takes no resources");
  return r;
}

}  // namespace detail
}  // namespace parsl
