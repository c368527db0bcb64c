#include "parsl/mpi_exec/worker_core.hpp"

#include <algorithm>
#include <chrono>

#include "parsl/runtime/app_registry.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/isolation.hpp"
#include "parsl/runtime/staging.hpp"
#include "parsl/runtime/task_context.hpp"
#include "parsl/serial/codec.hpp"
#include "parsl/serial/remote_error.hpp"

namespace parsl::mpi {

WorkerCore::WorkerCore(int rank, int min_prefetch, int max_prefetch, Runner runner)
    : rank_(rank),
      runner_(runner ? std::move(runner) : Runner(&WorkerCore::run_registered)),
      min_prefetch_(min_prefetch),
      max_prefetch_(std::max(min_prefetch, max_prefetch)),
      prefetch_(min_prefetch) {}

std::int64_t WorkerCore::wanted_credit() const noexcept {
  // Tasks held or promised: queued, plus credit granted that no task has used yet.
  const std::int64_t held = static_cast<std::int64_t>(queue_.size()) + (granted_ - received_);
  return std::max<std::int64_t>(0, 1 + prefetch_ - held);
}

void WorkerCore::on_down(DownMsg&& msg) {
  received_ += static_cast<std::int64_t>(msg.tasks.size());
  for (auto& t : msg.tasks) queue_.push(std::move(t));
  if (msg.control != Control::none) control_ = msg.control;
}

void WorkerCore::run_one() {
  TaskMsg task = queue_.pop();
  events_.push_back(Event{task.id, task.attempt, EventKind::started, rank_, {}});
  Event done{task.id, task.attempt, EventKind::succeeded, rank_, {}};
  const auto t0 = std::chrono::steady_clock::now();
  try {
    done.payload = runner_(task);
  } catch (...) {
    done.kind = EventKind::failed;
    done.payload = serial::encode(serial::RemoteError::from_exception(std::current_exception(), rank_));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  events_.push_back(std::move(done));
  mean_seconds_ = mean_seconds_ < 0 ? seconds : 0.8 * mean_seconds_ + 0.2 * seconds;
  const double fit = kPrefetchWindow / std::max(mean_seconds_, 1e-9);
  prefetch_ = static_cast<int>(std::clamp<double>(fit, min_prefetch_, max_prefetch_));
}

UpMsg WorkerCore::take_up() {
  UpMsg m;
  m.credit = wanted_credit();
  granted_ += m.credit;
  m.events = std::exchange(events_, {});
  return m;
}

std::string WorkerCore::run_registered(const TaskMsg& task) {
  auto def = AppRegistry::instance().find(task.app);
  if (!def)
    throw ConfigError("app '" + task.app + "' is not registered on this rank: every rank must run the same "
                      "binary, with apps declared at namespace scope");
  if (!def->invoke_encoded)
    throw ConfigError("app '" + task.app + "' cannot run on a remote worker: its types are not serializable");
  TaskContext context{task.id, task.attempt, {}};
  if (task.walltime > 0) context.walltime = task.walltime;
  detail::ScopedTaskContext scope(context);
  for (const auto& f : task.inputs) stage_in(f);
  std::string result = task.isolate ? run_isolated(*def, task.args) : def->invoke_encoded(task.args);
  for (const auto& f : task.outputs) stage_out(f);
  return result;
}

}  // namespace parsl::mpi
