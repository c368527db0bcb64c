#include "parsl/mpi_exec/worker_core.hpp"

#include <algorithm>
#include <thread>
#include <utility>

#include "parsl/runtime/app_registry.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/task_context.hpp"

namespace parsl::mpi {

namespace {
constexpr std::size_t kFlushEvents = 256;
}

WorkerCore::WorkerCore(int rank, int min_prefetch, int max_prefetch, Runner runner)
    : rank_(rank),
      runner_(runner ? std::move(runner) : Runner([this](const TaskMsg& t) { return run_registered(t, &cancel_running_, rank_); })),
      min_prefetch_(min_prefetch),
      max_prefetch_(std::max(min_prefetch, max_prefetch)),
      prefetch_(min_prefetch) {}

int WorkerCore::prefetch() const {
  std::lock_guard lock(mutex_);
  return prefetch_;
}

std::int64_t WorkerCore::wanted_credit() const noexcept {
  // While a long task runs, or the worker is reserved for a placed task, ask for nothing:
  // what came would only be handed back.
  if ((running_ && running_->long_running) || placed_) return 0;
  // Tasks held or promised: queued, running, plus credit granted that no task has used yet.
  // (A parent never sends more than was granted; the clamp keeps one that did from
  // inflating the next request.)
  const std::int64_t held = static_cast<std::int64_t>(queue_.size()) + (running_ ? 1 : 0) +
                            std::max<std::int64_t>(0, granted_ - received_);
  return std::max<std::int64_t>(0, 1 + prefetch_ - held);
}

void WorkerCore::on_down(DownMsg&& msg) {
  bool woke = false;
  {
    std::lock_guard lock(mutex_);
    received_ += static_cast<std::int64_t>(msg.tasks.size());
    for (auto& t : msg.tasks) queue_.push(std::move(t));
    for (std::uint64_t id : msg.cancel) {
      if (running_ && running_->id == id) {
        cancel_running_.store(true, std::memory_order_release);  // bash and isolated tasks are killed
      } else if (placed_ && placed_->task.id == id && placed_->member >= 0 && !placed_started_) {
        // A placed task not started: the worker is free again. Rank 0 counts this event to
        // release the worker (the task's future has already failed).
        events_.push_back(Event{id, placed_->task.attempt, EventKind::failed, rank_,
                                EncodedOutcome::failure(std::make_exception_ptr(TaskCancelled(
                                                            "task " + std::to_string(id) +
                                                            " was cancelled before it started")),
                                                        rank_)
                                    .bytes()});
        clear_placed_locked();
      } else {
        queue_.remove(id);  // not here at all: finished, or handed back (the parent drops it)
      }
    }
    for (std::uint64_t id : msg.release)
      if (placed_ && placed_->member < 0 && placed_->task.id == id) clear_placed_locked();
    for (auto& p : msg.placed) {
      placed_ = std::move(p);
      has_placed_.store(true, std::memory_order_release);
      placed_started_ = false;
      ready_sent_ = false;
      go_ = !placed_->wait_for_go;
      for (auto& t : queue_.take_all()) returned_.push_back(std::move(t));  // for other workers
    }
    for (std::uint64_t id : msg.go)
      if (placed_ && placed_->task.id == id) go_ = true;
    if (placed_ && go_ && placed_->member >= 0 && placed_->task.mpi && !placed_started_)
      mpi_due_.store(true, std::memory_order_release);
    queued_.store(queue_.size(), std::memory_order_release);
    if (msg.control != Control::none) control_ = msg.control;
    woke = can_start_locked() || control_ != Control::none;
  }
  if (woke) work_cv_.notify_one();
}

void WorkerCore::clear_placed_locked() {
  placed_.reset();
  has_placed_.store(false, std::memory_order_release);
}

bool WorkerCore::placed() const {
  std::lock_guard lock(mutex_);
  return placed_.has_value();
}

std::optional<Placement> WorkerCore::take_mpi_start() {
  // The worker's main thread asks on every turn of its loop: no lock unless a go came.
  if (!mpi_due_.load(std::memory_order_acquire)) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (!placed_ || placed_->member < 0 || !go_ || placed_started_ || !placed_->task.mpi) {
    mpi_due_.store(false, std::memory_order_relaxed);  // cancelled meanwhile
    return std::nullopt;
  }
  if (running_) return std::nullopt;
  placed_started_ = true;
  mpi_due_.store(false, std::memory_order_relaxed);
  start_running_locked(placed_->task);
  running_->start_reported = true;
  events_.push_back(
      Event{placed_->task.id, placed_->task.attempt, EventKind::started, rank_, {}, 0.0, running_->started_us});
  return placed_;
}

void WorkerCore::check_running(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (placed_) {
    // Reserved: what arrives on credit granted before goes back at once.
    if (!queue_.empty()) {
      for (auto& t : queue_.take_all()) returned_.push_back(std::move(t));
      queued_.store(0, std::memory_order_release);
    }
    if (!ready_sent_ && placed_->wait_for_go && !running_) {
      ready_sent_ = true;
      events_.push_back(Event{placed_->task.id, placed_->task.attempt, EventKind::ready, rank_, {}, 0.0});
    }
  }
  if (!running_) return;
  const auto ran = now - running_->start;
  if (!running_->start_reported && ran >= kReportStartAfter) {
    running_->start_reported = true;
    events_.push_back(Event{running_->id, running_->attempt, EventKind::started, rank_, {},
                            std::chrono::duration<double>(ran).count(), running_->started_us});
  }
  if (ran >= kHandBackAfter) {
    if (!running_->long_running) {
      running_->long_running = true;
      // Expect more like it: the next tasks are asked for one at a time.
      prefetch_ = min_prefetch_;
      mean_seconds_ = std::max(mean_seconds_, std::chrono::duration<double>(ran).count());
    }
    // Everything queued behind a long task goes back for idle workers, also what arrives
    // later on credit granted before the task started.
    for (auto& t : queue_.take_all()) returned_.push_back(std::move(t));
    queued_.store(0, std::memory_order_release);
  }
}

UpMsg WorkerCore::take_up() {
  std::lock_guard lock(mutex_);
  UpMsg m;
  m.credit = wanted_credit();
  granted_ += m.credit;
  m.events = std::exchange(events_, {});
  m.returned = std::exchange(returned_, {});
  news_ = false;
  last_up_ = Clock::now();
  return m;
}

bool WorkerCore::should_flush(Clock::time_point now, Clock::duration flush_after) const {
  std::lock_guard lock(mutex_);
  const bool something = !events_.empty() || !returned_.empty() || wanted_credit() > 0;
  if (!something) return false;
  const bool runner_idle = queue_.empty() && !running_;
  return runner_idle || events_.size() >= kFlushEvents || !returned_.empty() || now - last_up_ >= flush_after ||
         (running_ && running_->start_reported && !events_.empty()) || (placed_ && !events_.empty());
}

void WorkerCore::wait_for_news(std::chrono::microseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!news_) news_cv_.wait_for(lock, timeout, [&] { return news_; });
}

bool WorkerCore::idle() const {
  std::lock_guard lock(mutex_);
  return queue_.empty() && !running_;
}

bool WorkerCore::running() const {
  std::lock_guard lock(mutex_);
  return running_.has_value();
}

Control WorkerCore::control() const {
  std::lock_guard lock(mutex_);
  return control_;
}

void WorkerCore::close() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  work_cv_.notify_all();
}

bool WorkerCore::can_start_locked() const {
  if (running_) return false;
  if (placed_) return placed_->member >= 0 && go_ && !placed_started_ && !placed_->task.mpi;
  return !queue_.empty();
}

std::int64_t WorkerCore::wall_us() noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<WorkerCore::RunningTry> WorkerCore::running_try() const {
  std::lock_guard lock(mutex_);
  if (!running_) return std::nullopt;
  return RunningTry{running_->id, running_->attempt, running_->started_us};
}

void WorkerCore::report_usage(std::uint64_t id, std::uint32_t attempt, std::string sample) {
  std::lock_guard lock(mutex_);
  if (!running_ || running_->id != id || running_->attempt != attempt) return;
  Event e{id, attempt, EventKind::usage, rank_, std::move(sample), 0.0, running_->started_us};
  events_.push_back(std::move(e));
}

void WorkerCore::start_running_locked(const TaskMsg& t) {
  running_ = Running{t.id, t.attempt, Clock::now(), stamp_starts_ ? wall_us() : 0};
  cancel_running_.store(false, std::memory_order_relaxed);
}

std::optional<TaskMsg> WorkerCore::start_next_locked() {
  if (!can_start_locked()) return std::nullopt;
  if (placed_) {  // a placed task (not MPI: the communication thread runs those)
    placed_started_ = true;
    start_running_locked(placed_->task);
    return placed_->task;
  }
  TaskMsg t = queue_.pop();
  queued_.store(queue_.size(), std::memory_order_release);
  start_running_locked(t);
  return t;
}

std::optional<TaskMsg> WorkerCore::wait_next() {
  // Poll briefly first: the next batch usually arrives within microseconds of the last
  // results going up, and sleeping on the condition variable costs a wake-up each time.
  for (int i = 0; i < 200; ++i) {
    if (queued_.load(std::memory_order_acquire) > 0 || i % 16 == 15) {
      std::lock_guard lock(mutex_);
      if (auto t = start_next_locked()) return t;
      if (closing_) return std::nullopt;
    }
    std::this_thread::yield();
  }
  std::unique_lock lock(mutex_);
  work_cv_.wait(lock, [&] { return can_start_locked() || closing_; });
  return start_next_locked();
}

void WorkerCore::execute(const TaskMsg& task) { execute(task, runner_); }

void WorkerCore::execute(const TaskMsg& task, const Runner& runner) {
  Event done{task.id, task.attempt, EventKind::succeeded, rank_, {}};
  std::optional<Placement> placement;
  if (has_placed_.load(std::memory_order_acquire)) {  // plain tasks take no extra lock
    std::lock_guard lock(mutex_);
    if (placed_ && placed_started_ && placed_->task.id == task.id && placed_->task.attempt == task.attempt)
      placement = placed_;
  }
  const auto t0 = Clock::now();
  EncodedOutcome out;
  try {
    if (placement && binder_) binder_(&*placement);
    out = runner(task);
  } catch (...) {
    out = EncodedOutcome::failure(std::current_exception(), rank_);
  }
  done.kind = out.ok() ? EventKind::succeeded : EventKind::failed;
  done.payload = std::move(out).bytes();  // sent up as the runner made them
  if (placement && binder_) binder_(nullptr);
  finish(std::move(done), std::chrono::duration<double>(Clock::now() - t0).count());
}

void WorkerCore::finish(Event done, double seconds) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    done.seconds = seconds;
    if (running_ && running_->id == done.id && running_->attempt == done.attempt) done.started_us = running_->started_us;
    // A member's part is over: the worker takes other work again.
    if (placed_ && placed_->member >= 0 && placed_started_ && placed_->task.id == done.id &&
        placed_->task.attempt == done.attempt)
      clear_placed_locked();
    events_.push_back(std::move(done));
    running_.reset();
    mean_seconds_ = mean_seconds_ < 0 ? seconds : 0.8 * mean_seconds_ + 0.2 * seconds;
    const double fit = kPrefetchWindow / std::max(mean_seconds_, 1e-9);
    prefetch_ = static_cast<int>(std::clamp<double>(fit, min_prefetch_, max_prefetch_));
    // Tell the communication thread when it has a reason to write: the queue ran dry (ask
    // for more now), or a batch of events is ready.
    if ((queue_.empty() || events_.size() >= kFlushEvents) && !news_) {
      news_ = true;
      wake = true;
    }
  }
  if (wake) news_cv_.notify_one();
}

std::optional<TaskMsg> WorkerCore::start_next() {
  std::lock_guard lock(mutex_);
  return start_next_locked();
}

void WorkerCore::complete(const TaskMsg& task, EncodedOutcome out, double seconds) {
  Event done{task.id, task.attempt, out.ok() ? EventKind::succeeded : EventKind::failed, rank_, {}};
  done.payload = std::move(out).bytes();
  finish(std::move(done), seconds);
}

bool WorkerCore::has_work() const {
  std::lock_guard lock(mutex_);
  return can_start_locked();
}

void WorkerCore::run_one() {
  std::optional<TaskMsg> t;
  {
    std::lock_guard lock(mutex_);
    t = start_next_locked();
  }
  if (t) execute(*t);
}

EncodedOutcome WorkerCore::run_registered(const TaskMsg& task, const std::atomic<bool>* cancel, std::int32_t rank) {
  auto def = AppRegistry::instance().find(task.app);
  if (!def)
    return EncodedOutcome::failure(
        std::make_exception_ptr(ConfigError("app '" + task.app +
                                            "' is not registered on this rank: every rank must run the same "
                                            "binary, with apps declared at namespace scope")),
        rank);
  if (!def->invoke_encoded)
    return EncodedOutcome::failure(std::make_exception_ptr(ConfigError(
                                       "app '" + task.app + "' cannot run on a remote worker: its types are not serializable")),
                                   rank);
  TaskContext context{task.id, task.attempt, {}, cancel};
  if (task.walltime > 0) context.walltime = task.walltime;
  return run_encoded_try(*def, task.args, context, task.inputs, task.outputs, task.isolate, rank);
}

}  // namespace parsl::mpi
