#include "job_deadline.hpp"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <atomic>
#include <mutex>

#include "parsl/runtime/errors.hpp"

namespace parsl::detail {

namespace {

std::optional<double> number_from(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(v, &end);
  if (end == v || *end != '\0' || !std::isfinite(d) || d < 0)
    throw ConfigError(std::string(name) + "='" + v + "' is not a number of seconds" +
                      (std::string(name) == "PARSL_JOB_END_TIME" ? " since the epoch (date +%s)" : ""));
  return d;
}

std::string clock_time(double epoch) {
  const std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

}  // namespace

namespace {
// Read on every try: an atomic load when there is no deadline, no lock either way.
std::atomic<int> g_state{0};  // 0 not read yet, 1 no deadline, 2 a deadline
std::atomic<double> g_end{0}, g_drain{0};
std::mutex g_mutex;           // for (re)reading the environment
}  // namespace

std::optional<JobDeadline> job_deadline(bool reload) {
  int state = g_state.load(std::memory_order_acquire);
  if (state == 0 || reload) {
    std::lock_guard lock(g_mutex);
    state = g_state.load(std::memory_order_acquire);
    if (state == 0 || reload) {
      g_state.store(0, std::memory_order_release);  // a throw below leaves it unread
      const auto end = number_from("PARSL_JOB_END_TIME");
      const auto drain = number_from("PARSL_DRAIN");
      g_end.store(end.value_or(0), std::memory_order_relaxed);
      g_drain.store(drain.value_or(0), std::memory_order_relaxed);
      state = end ? 2 : 1;
      g_state.store(state, std::memory_order_release);
    }
  }
  if (state == 1) return std::nullopt;
  return JobDeadline{g_end.load(std::memory_order_relaxed), g_drain.load(std::memory_order_relaxed)};
}

std::exception_ptr job_ending(const TaskContext& task) noexcept {
  try {
    const auto d = job_deadline();
    if (!d) return nullptr;
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    // Every try passes here: no allocation unless the try is refused.
    auto who = [&] { return "task " + std::to_string(task.task_id) + " not started: "; };
    if (now >= d->end - d->drain)
      return std::make_exception_ptr(JobEnding(
          who() + "the batch job ends at " + clock_time(d->end) + " and draining began " +
          std::to_string(static_cast<long>(d->drain)) + " s before (PARSL_JOB_END_TIME, PARSL_DRAIN); a resumed run starts it"));
    if (task.walltime && now + *task.walltime > d->end)
      return std::make_exception_ptr(JobEnding(
          who() + "its walltime of " + std::to_string(static_cast<long>(*task.walltime)) + " s would run past the batch job's end at " +
          clock_time(d->end) + "; a resumed run starts it"));
    return nullptr;
  } catch (const ConfigError&) {
    return nullptr;  // a bad value already stopped the kernel at start (rank 0)
  } catch (...) {
    return std::current_exception();
  }
}

}  // namespace parsl::detail
