#include "parsl/mpi_exec/worker_core.hpp"

#include "parsl/runtime/app_registry.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/serial/codec.hpp"
#include "parsl/serial/remote_error.hpp"

namespace parsl::mpi {

WorkerCore::WorkerCore(int rank, std::int64_t capacity, Runner runner)
    : rank_(rank), runner_(runner ? std::move(runner) : Runner(&WorkerCore::run_registered)), credit_(capacity) {}

void WorkerCore::on_down(DownMsg&& msg) {
  for (auto& t : msg.tasks) {
    const std::int32_t p = t.priority;
    queue_.push(Entry{p, seq_++, std::move(t)});
  }
  if (msg.control != Control::none) control_ = msg.control;
}

void WorkerCore::run_one() {
  TaskMsg task = std::move(const_cast<Entry&>(queue_.top()).task);
  queue_.pop();
  events_.push_back(Event{task.id, task.attempt, EventKind::started, rank_, {}});
  Event done{task.id, task.attempt, EventKind::succeeded, rank_, {}};
  try {
    done.payload = runner_(task);
  } catch (...) {
    done.kind = EventKind::failed;
    done.payload = serial::encode(serial::RemoteError::from_exception(std::current_exception(), rank_));
  }
  events_.push_back(std::move(done));
  ++credit_;
}

UpMsg WorkerCore::take_up() {
  UpMsg m;
  m.credit = std::exchange(credit_, 0);
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
  return def->invoke_encoded(task.args);
}

}  // namespace parsl::mpi
