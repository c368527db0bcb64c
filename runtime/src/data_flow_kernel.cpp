#include "parsl/runtime/data_flow_kernel.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "checkpointer.hpp"
#include "job_deadline.hpp"
#include "memo_table.hpp"
#include "monitoring.hpp"
#include "parsl/runtime/app_registry.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/thread_pool_executor.hpp"
#include "parsl/serial/checkpoint_file.hpp"
#include "parsl/serial/content_hash.hpp"
#include "resources.hpp"
#include "walltime_timer.hpp"

namespace parsl {

namespace detail {

namespace {

/// Turns recursion into iteration: a task that completes inline makes its dependents ready,
/// which may complete inline, and so on. Each thread runs such work from a queue at the
/// outermost level, so a chain of 100,000 tasks needs no 100,000 stack frames.
struct Trampoline {
  struct Job {
    std::shared_ptr<TaskRecord> task;
    bool relaunch;
  };
  int depth = 0;
  std::vector<Job> jobs;
  std::size_t head = 0;
};
thread_local Trampoline tl_trampoline;

std::atomic<DataFlowKernel*> g_current{nullptr};

std::filesystem::path make_run_dir(const std::filesystem::path& base) {
  std::error_code ec;
  std::filesystem::create_directories(base, ec);
  if (ec) throw ConfigError("cannot create the run directory " + base.string() + ": " + ec.message());
  int next = 0;
  for (const auto& entry : std::filesystem::directory_iterator(base, ec)) {
    const std::string name = entry.path().filename().string();
    int n = 0;
    auto [ptr, err] = std::from_chars(name.data(), name.data() + name.size(), n);
    if (err == std::errc() && ptr == name.data() + name.size()) next = std::max(next, n + 1);
  }
  // Another process may take the same number at the same moment: mkdir decides.
  for (int tries = 0; tries < 1000; ++tries, ++next) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%03d", next);
    const std::filesystem::path dir = base / buf;
    if (::mkdir(dir.c_str(), 0755) == 0) return dir;
    if (errno != EEXIST)
      throw ConfigError("cannot create the run directory " + dir.string() + ": " + std::strerror(errno));
  }
  throw ConfigError("cannot find a free run directory number under " + base.string());
}

}  // namespace
}  // namespace detail

using detail::TaskRecord;

DataFlowKernel::DataFlowKernel(Config config) : config_(std::move(config)) {
  DataFlowKernel* expected = nullptr;
  if (!detail::g_current.compare_exchange_strong(expected, this)) {
    throw KernelError("a DataFlowKernel is already running in this process (run directory " +
                      expected->run_dir().string() + "); call cleanup() on it before starting another");
  }
  try {
    AppRegistry::instance().check();
    detail::job_deadline(/*reload=*/true);  // a bad PARSL_JOB_END_TIME or PARSL_DRAIN stops the run here, named
    if (!(config_.retries >= 0))
      throw ConfigError("Config::retries must be zero or more, got " + std::to_string(config_.retries));
    if (config_.checkpoint_mode == CheckpointMode::periodic &&
        !(config_.checkpoint_period.count() > 0 && config_.checkpoint_period.count() <= kMaxWalltime))
      throw ConfigError("Config::checkpoint_period must be more than 0 s and at most a year, got " +
                        std::to_string(config_.checkpoint_period.count()) + " s");
    if (config_.internal_threads < 1)
      throw ConfigError("Config::internal_threads must be at least 1, got " +
                        std::to_string(config_.internal_threads));
    if (config_.executors.empty()) config_.executors.push_back(std::make_shared<ThreadPoolExecutor>());
    for (std::size_t i = 0; i < config_.executors.size(); ++i) {
      const auto& e = config_.executors[i];
      if (!e) throw ConfigError("Config::executors[" + std::to_string(i) + "] is null");
      if (e->label().empty()) throw ConfigError("Config::executors[" + std::to_string(i) + "] has an empty label");
      if (e->label().rfind("_parsl", 0) == 0)
        throw ConfigError("executor label '" + e->label() + "' is reserved (labels starting with _parsl)");
      for (std::size_t j = 0; j < i; ++j)
        if (config_.executors[j]->label() == e->label())
          throw ConfigError("two executors share the label '" + e->label() + "': labels must be unique");
    }
    if (config_.run_dir.empty() && (config_.checkpoint_mode != CheckpointMode::none || config_.monitoring))
      throw ConfigError("Config::run_dir is empty (no run folder), but checkpoints and monitoring are written there");
    if (!config_.run_dir.empty()) run_dir_ = detail::make_run_dir(config_.run_dir), logger_.open(run_dir_ / "parsl.log", config_.log_level);
    logger_.info("DataFlowKernel starting in " + run_dir_.string());
    memo_ = std::make_unique<detail::MemoTable>();
    const std::size_t loaded = detail::load_checkpoints(config_.checkpoint_files, *memo_);
    if (!config_.checkpoint_files.empty())
      logger_.info("loaded " + std::to_string(loaded) + " checkpointed results into the memo table");
    if (config_.checkpoint_mode != CheckpointMode::none)
      checkpointer_ = std::make_unique<detail::Checkpointer>(run_dir_ / "checkpoint", config_.checkpoint_mode,
                                                             config_.checkpoint_period, logger_, config_.on_checkpoint);
    if (config_.monitoring) monitor_ = detail::MonitoringDb::for_run(run_dir_);
    if (monitor_) logger_.info("monitoring to " + monitor_->file().string());
    internal_executor_ = std::make_shared<ThreadPoolExecutor>(config_.internal_threads, "_parsl_internal");
    for (auto& e : config_.executors) {
      executors_.push_back({e, false});
      user_executors_.push_back(e.get());
    }
    executors_.push_back({internal_executor_, true});
    std::size_t started = 0;
    try {
      for (; started < executors_.size(); ++started) {
        executors_[started].executor->start();
        logger_.info("executor '" + executors_[started].executor->label() + "' started");
      }
    } catch (...) {
      for (std::size_t i = 0; i < started; ++i) executors_[i].executor->shutdown();
      throw;
    }
    if (monitor_) monitor_->executors_started(user_executors_);
  } catch (...) {
    detail::g_current.store(nullptr);
    throw;
  }
}

DataFlowKernel::~DataFlowKernel() {
  try {
    cleanup();
  } catch (...) {
    // A destructor must not throw; cleanup already logged what went wrong.
  }
}

DataFlowKernel& DataFlowKernel::current() {
  DataFlowKernel* dfk = detail::g_current.load(std::memory_order_acquire);
  if (dfk == nullptr)
    throw KernelError("no DataFlowKernel is running: call apps inside parsl::run(...) or while a "
                      "parsl::DataFlowKernel object is alive (and before its cleanup())");
  return *dfk;
}

DataFlowKernel* DataFlowKernel::current_or_null() noexcept {
  return detail::g_current.load(std::memory_order_acquire);
}

TaskStateCounts DataFlowKernel::task_state_counts() const noexcept {
  TaskStateCounts out;
  for (std::size_t i = 0; i < kTaskStateCount; ++i) out.count[i] = counts_[i].load(std::memory_order_relaxed);
  return out;
}

std::size_t DataFlowKernel::memo_size() const { return memo_->size(); }

void DataFlowKernel::set_state(TaskRecord& t, TaskState s) noexcept {
  const TaskState old = t.state_.exchange(s, std::memory_order_acq_rel);
  counts_[static_cast<std::size_t>(old)].fetch_sub(1, std::memory_order_relaxed);
  counts_[static_cast<std::size_t>(s)].fetch_add(1, std::memory_order_relaxed);
  if (monitor_) monitor_->state_changed(t.id_, t.tries_, old, s, t.executor_, t.last_failure_, t.fail_cost_);
}

bool DataFlowKernel::change_state(TaskRecord& t, TaskState from, TaskState to) noexcept {
  if (!t.state_.compare_exchange_strong(from, to, std::memory_order_acq_rel)) return false;
  counts_[static_cast<std::size_t>(from)].fetch_sub(1, std::memory_order_relaxed);
  counts_[static_cast<std::size_t>(to)].fetch_add(1, std::memory_order_relaxed);
  if (monitor_) monitor_->state_changed(t.id_, t.tries_, from, to, t.executor_, t.last_failure_, t.fail_cost_);
  return true;
}

Executor* DataFlowKernel::choose_executor(const TaskRecord& t) {
  const AppDef& app = t.app();
  if (app.kind == AppDef::Kind::join) return internal_executor_.get();
  const auto& labels = app.options.executors;
  Executor* chosen = nullptr;
  if (labels.empty()) {
    chosen = user_executors_.size() == 1
                 ? user_executors_[0]
                 : user_executors_[round_robin_.fetch_add(1, std::memory_order_relaxed) % user_executors_.size()];
  } else {
    Executor* candidates[16];
    std::size_t n = 0;
    for (const auto& label : labels) {
      Executor* found = nullptr;
      for (Executor* e : user_executors_)
        if (e->label() == label) found = e;
      if (found == nullptr) {
        std::string have;
        for (Executor* e : user_executors_) have += (have.empty() ? "" : ", ") + e->label();
        throw ConfigError("app '" + app.name + "' asks for executor label '" + label +
                          "', but this kernel's executors are: " + have);
      }
      if (n < 16) candidates[n++] = found;
    }
    chosen = n == 1 ? candidates[0] : candidates[round_robin_.fetch_add(1, std::memory_order_relaxed) % n];
  }
  if (!chosen->runs_in_process() && !app.serializable)
    throw ConfigError("app '" + app.name + "' cannot run on executor '" + chosen->label() +
                      "': its argument or result types cannot be serialized");
  return chosen;
}

void DataFlowKernel::submit(std::shared_ptr<TaskRecord> task, const CallOptions& options) {
  // Count first, then check: cleanup() closes the door and then waits for the count.
  outstanding_.fetch_add(1, std::memory_order_acq_rel);
  if (!accepting_.load(std::memory_order_acquire)) {
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) outstanding_.notify_all();
    throw KernelError("the DataFlowKernel in " + run_dir_.string() +
                      " has been shut down: app '" + task->app_name() + "' cannot be submitted");
  }
  TaskRecord& t = *task;
  try {
    t.executor_ = choose_executor(t);
    t.walltime_ = options.walltime ? options.walltime : t.app().options.walltime;
    if (t.walltime_ && !(t.walltime_->count() > 0 && t.walltime_->count() <= kMaxWalltime))
      throw ConfigError("app '" + t.app_name() + "': a walltime of " + std::to_string(t.walltime_->count()) +
                        " s; it must be > 0 and at most " + std::to_string(static_cast<long>(kMaxWalltime)) +
                        " s (a year)");
    t.resources_ = detail::resources_of(t.app(), options);
    t.executor_->check_resources(t.app(), t.resources_);
  } catch (...) {
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) outstanding_.notify_all();
    throw;
  }
  t.dfk_ = this;
  t.id_ = next_id_.fetch_add(1, std::memory_order_relaxed);
  const AppOptions& o = t.app().options;
  t.priority_ = options.priority ? *options.priority : o.priority;
  t.outputs_ = options.outputs;
  t.retries_ = options.retries;
  for (const auto& in : options.inputs) {
    t.input_files_.push_back(in.data().file());
    if (in.data().parent()) t.input_tasks_.push_back(in.data().parent());
  }
  counts_[static_cast<std::size_t>(TaskState::pending)].fetch_add(1, std::memory_order_relaxed);
  if (monitor_) {
    std::string depends;
    for_each_input(t, [&](TaskRecord& dep) { depends += (depends.empty() ? "" : ",") + std::to_string(dep.id_); });
    monitor_->task(t.id_, t.app_name(), t.app().options.cache, depends);
  }
  if (logger_.enabled(LogLevel::debug))
    logger_.debug("task " + std::to_string(t.id_) + " submitted (app '" + t.app_name() + "')");

  // Count the inputs not yet done; the extra 1 keeps the count from reaching zero while we
  // are still registering.
  t.pending_dependencies_.store(1, std::memory_order_relaxed);
  for_each_input(t, [&](TaskRecord& dep) {
    t.pending_dependencies_.fetch_add(1, std::memory_order_relaxed);
    dep.on_done([this, task] {
      if (task->pending_dependencies_.fetch_sub(1, std::memory_order_acq_rel) == 1) ready(task);
    });
  });
  if (t.pending_dependencies_.fetch_sub(1, std::memory_order_acq_rel) == 1) ready(std::move(task));
}

void DataFlowKernel::for_each_input(const TaskRecord& t, const std::function<void(TaskRecord&)>& fn) {
  t.for_each_dependency(fn);
  for (const auto& producer : t.input_tasks_) fn(*producer);
}

void DataFlowKernel::ready(std::shared_ptr<TaskRecord> task) { dispatch(std::move(task), false); }

void DataFlowKernel::dispatch(std::shared_ptr<TaskRecord> task, bool relaunch) {
  auto& tr = detail::tl_trampoline;
  if (tr.depth > 0) {
    tr.jobs.push_back({std::move(task), relaunch});
    return;
  }
  tr.depth = 1;
  if (relaunch)
    launch(std::move(task));
  else
    process_ready(std::move(task));
  while (tr.head < tr.jobs.size()) {
    auto job = std::move(tr.jobs[tr.head++]);
    if (job.relaunch)
      launch(std::move(job.task));
    else
      process_ready(std::move(job.task));
  }
  tr.jobs.clear();
  tr.head = 0;
  tr.depth = 0;
}

void DataFlowKernel::process_ready(std::shared_ptr<TaskRecord> task) {
  TaskRecord& t = *task;
  // Try 0 is "not launched yet": whoever claims it decides the task's fate, this or cancel().
  if (!t.claim(0)) return;
  bool failed_input = false;
  for_each_input(t, [&](TaskRecord& dep) { failed_input = failed_input || dep.error() != nullptr; });
  if (failed_input) {
    dependency_failed(task);
    return;
  }
  try {
    t.resolve_arguments();
    if (config_.app_cache && t.app().options.cache && memo_lookup(t)) {
      finish(task, TaskState::memo_done, nullptr);
      return;
    }
  } catch (...) {
    finish(task, TaskState::failed, std::current_exception());
    return;
  }
  launch(std::move(task));
}

void DataFlowKernel::launch(std::shared_ptr<TaskRecord> task) {
  TaskRecord& t = *task;
  // We hold the claim of the previous try (0: not launched yet). A cancel() that came while
  // we held it waits for us to release it, or leaves the flag for us.
  if (t.cancel_requested_.load(std::memory_order_acquire)) {
    finish_cancelled(task);
    return;
  }
  const std::uint32_t attempt = ++t.tries_;
  set_state(t, TaskState::launched);  // before the try becomes claimable by cancel()
  t.attempt_.store(attempt, std::memory_order_release);
  try {
    t.executor_->submit(TaskHandle(task, attempt));
  } catch (...) {
    // The executor refused the task: that is this try's failure.
    if (t.claim(attempt)) try_failed(task, std::current_exception());
  }
}

void DataFlowKernel::dependency_failed(const std::shared_ptr<TaskRecord>& task) {
  std::vector<std::uint64_t> failed;
  const TaskRecord* first = nullptr;
  for_each_input(*task, [&](TaskRecord& d) {
    if (d.error() == nullptr) return;
    if (std::find(failed.begin(), failed.end(), d.id()) == failed.end()) failed.push_back(d.id());
    if (first == nullptr) first = &d;
  });
  std::vector<std::uint64_t> chain{first->id()};
  std::uint64_t root = first->id();
  std::uint64_t length = 1;
  std::exception_ptr cause = first->error();
  try {
    std::rethrow_exception(first->error());
  } catch (const DependencyError& up) {
    for (std::uint64_t id : up.chain()) {
      if (chain.size() >= DependencyError::kMaxChainShown) break;
      chain.push_back(id);
    }
    root = up.root_task_id();
    length = 1 + up.chain_length();
    cause = up.root_cause();
  } catch (...) {
  }
  finish(task, TaskState::dep_fail,
         std::make_exception_ptr(DependencyError(task->id(), std::move(failed), std::move(chain), root,
                                                 length, std::move(cause))));
}

void DataFlowKernel::try_started(const std::shared_ptr<TaskRecord>& task, std::uint32_t attempt,
                                 double already_running) {
  // Not if the try was cancelled (or otherwise settled) before it started.
  if (task->attempt_.load(std::memory_order_acquire) != attempt ||
      !change_state(*task, TaskState::launched, TaskState::running))
    return;
  if (task->walltime_) {
    const double seconds = task->walltime_->count();
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(seconds - already_running));
    // Bash and isolated tries are killed at the deadline by their runner, which then fails
    // the try: the future must not fail while the command still runs. The kernel's timer
    // only stands behind them (a runner that cannot report), after the runner's own grace
    // (SIGTERM, up to 1 s, SIGKILL).
    if (task->app().bash || TaskHandle(task, attempt).isolated()) deadline += std::chrono::seconds(2);
    std::lock_guard lock(timer_mutex_);
    if (!timer_) timer_ = std::make_unique<detail::WalltimeTimer>(*this);
    timer_->schedule(task, attempt, deadline, seconds);
  }
}

void DataFlowKernel::try_succeeded(const std::shared_ptr<TaskRecord>& task, const std::string_view* encoded) {
  if (config_.app_cache && task->app().options.cache) memo_store(*task, encoded);
  finish(task, TaskState::exec_done, nullptr);
}

void DataFlowKernel::try_failed(const std::shared_ptr<TaskRecord>& task, std::exception_ptr error) {
  TaskRecord& t = *task;
  if (monitor_) t.last_failure_ = describe(error);
  try {
    std::rethrow_exception(error);
  } catch (const JobEnding&) {
    // Not a failure of the task: the job is ending. A retry would meet the same deadline.
    if (!draining_.exchange(true)) logger_.info("the batch job is ending: no more tasks start (" + describe(error) + ")");
    finish(task, TaskState::failed, std::move(error));
    return;
  } catch (...) {
  }
  double cost = 1.0;
  if (config_.retry_handler) {
    try {
      const TaskInfo info{t.id_, t.app_name(), t.tries_, t.fail_cost_, t.executor_->label()};
      cost = config_.retry_handler(error, info);
    } catch (...) {
      logger_.warning("retry handler threw for task " + std::to_string(t.id_) + ": " +
                      describe(std::current_exception()));
      finish(task, TaskState::failed, std::current_exception());
      return;
    }
  }
  t.fail_cost_ += cost;
  const double budget = t.retries_ ? *t.retries_ : config_.retries;
  if (t.fail_cost_ <= budget) {
    set_state(t, TaskState::fail_retryable);
    if (logger_.enabled(LogLevel::info))
      logger_.info("task " + std::to_string(t.id_) + " try " + std::to_string(t.tries_) + " failed (" +
                   describe(error) + "); retrying, failure cost " + std::to_string(t.fail_cost_) +
                   " of " + std::to_string(budget));
    dispatch(task, true);
    return;
  }
  if (logger_.enabled(LogLevel::info))
    logger_.info("task " + std::to_string(t.id_) + " failed after " + std::to_string(t.tries_) +
                 " tries: " + describe(error));
  finish(task, TaskState::failed, std::move(error));
}

void DataFlowKernel::try_joining(const std::shared_ptr<TaskRecord>& task) {
  set_state(*task, TaskState::joining);
  task->start_join(task);
}

void DataFlowKernel::join_finished(const std::shared_ptr<TaskRecord>& task, std::exception_ptr error) {
  const TaskState final_state = error ? TaskState::failed : TaskState::exec_done;
  finish(task, final_state, std::move(error));
}

void DataFlowKernel::finish(const std::shared_ptr<TaskRecord>& task, TaskState final_state,
                            std::exception_ptr error) {
  TaskRecord& t = *task;
  t.error_ = std::move(error);
  t.release_arguments();
  t.input_tasks_.clear();
  t.encoded_args_ = std::string();  // has_encoded_args_ stays set: nothing may encode released arguments
  set_state(t, final_state);
  if (logger_.enabled(LogLevel::debug))
    logger_.debug("task " + std::to_string(t.id_) + " " + std::string(to_string(final_state)));
  std::vector<TaskRecord::Callback> callbacks;
  t.callbacks_lock_.lock();
  t.done_.store(1, std::memory_order_release);
  callbacks.swap(t.callbacks_);
  t.callbacks_lock_.unlock();
  t.done_.notify_all();
  for (auto& cb : callbacks) cb();
  // Last: dependents made ready above are already counted, so zero really means idle.
  if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) outstanding_.notify_all();
}

bool DataFlowKernel::cancel(const std::shared_ptr<TaskRecord>& task) {
  TaskRecord& t = *task;
  if (t.done() || t.state() == TaskState::joining) return false;
  t.cancel_requested_.store(true, std::memory_order_release);  // a running bash/isolated try polls this
  // Claim the current try (0: not launched) so that nothing else reports it. A claimed try is
  // being reported right now: wait for that, briefly. If the claimant relaunches, launch()
  // sees the flag; if we are the claimant's own thread (a done-callback), the wait ends and
  // the flag does the work.
  for (int spins = 0;; ++spins) {
    if (t.done()) return false;
    const std::uint32_t a = t.attempt_.load(std::memory_order_acquire);
    if ((a & TaskRecord::kClaimed) == 0) {
      if (!t.claim(a)) continue;
      finish_cancelled(task);
      if (a > 0) t.executor_->cancel(t.id_);  // drop it from the executor's queues, kill a running command
      return true;
    }
    if (t.state() == TaskState::joining) return false;
    if (spins > 10000) return true;  // the claimant will see the flag
    std::this_thread::yield();
  }
}

void DataFlowKernel::finish_cancelled(const std::shared_ptr<TaskRecord>& task) {
  if (logger_.enabled(LogLevel::info)) logger_.info("task " + std::to_string(task->id_) + " cancelled");
  finish(task, TaskState::failed,
         std::make_exception_ptr(TaskCancelled("task " + std::to_string(task->id_) + " (app '" + task->app_name() +
                                               "') was cancelled")));
}

bool DataFlowKernel::memo_lookup(TaskRecord& t) {
  serial::ContentHasher h;
  const auto& ignore = t.app().ignored_positions;
  h.add_field(t.app().name).add_field(t.app().options.version);
  h.add_field(ignore.empty() ? t.encoded_arguments() : t.encode_arguments_except(ignore));
  t.memo_key_ = h.digest();
  t.has_memo_key_ = true;
  std::string bytes;
  if (!memo_->lookup(t.memo_key_, bytes)) return false;
  try {
    t.set_result_from_bytes(bytes);
  } catch (const std::exception& e) {
    logger_.warning("memo entry " + t.memo_key_.hex() + " for app '" + t.app_name() +
                    "' cannot be decoded (" + e.what() + "); running the task");
    return false;
  }
  if (logger_.enabled(LogLevel::debug))
    logger_.debug("task " + std::to_string(t.id_) + " memo hit " + t.memo_key_.hex());
  return true;
}

void DataFlowKernel::memo_store(const TaskRecord& t, const std::string_view* encoded) {
  if (!t.has_memo_key_) return;
  try {
    std::string bytes = encoded ? std::string(*encoded) : t.encode_result();
    if (checkpointer_) checkpointer_->add(t.memo_key_, bytes, t.id_);
    memo_->store(t.memo_key_, std::move(bytes));
  } catch (const std::exception& e) {
    logger_.warning("cannot memoize task " + std::to_string(t.id_) + ": " + e.what());
  }
}

std::size_t DataFlowKernel::checkpoint() { return checkpointer_ ? checkpointer_->flush() : 0; }

std::vector<std::filesystem::path> get_all_checkpoints(const std::filesystem::path& run_dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(run_dir, ec)) {
    const auto dir = e.path() / "checkpoint";
    if (std::filesystem::is_directory(dir, ec) && !std::filesystem::is_empty(dir, ec)) out.push_back(dir);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::filesystem::path> get_last_checkpoint(const std::filesystem::path& run_dir) {
  auto all = get_all_checkpoints(run_dir);
  if (all.empty()) return {};
  return {all.back()};
}

void DataFlowKernel::wait_for_current_tasks() {
  for (;;) {
    const std::int64_t v = outstanding_.load(std::memory_order_acquire);
    if (v == 0) return;
    outstanding_.wait(v, std::memory_order_acquire);
  }
}

void DataFlowKernel::cleanup() {
  std::lock_guard lock(cleanup_mutex_);
  if (cleaned_up_.load()) return;
  // Join apps submit inner tasks while we drain, so keep the door open until idle.
  wait_for_current_tasks();
  accepting_.store(false, std::memory_order_seq_cst);
  wait_for_current_tasks();
  for (auto& slot : executors_) {
    try {
      slot.executor->shutdown();
    } catch (const std::exception& e) {
      logger_.error("executor '" + slot.executor->label() + "' failed to shut down: " + e.what());
    }
  }
  {
    std::lock_guard tl(timer_mutex_);
    timer_.reset();
  }
  if (checkpointer_) {
    try {
      const std::size_t n = checkpointer_->flush();  // every mode writes what is left
      checkpointer_.reset();
      logger_.info("final checkpoint: " + std::to_string(n) + " results");
    } catch (const std::exception& e) {
      logger_.error(std::string("final checkpoint failed: ") + e.what());
    }
  }
  const TaskStateCounts c = task_state_counts();
  if (monitor_) {
    monitor_->workflow_end(c[TaskState::exec_done] + c[TaskState::memo_done], c[TaskState::failed] + c[TaskState::dep_fail]);
    const auto file = monitor_->file();
    logger_.info("monitoring: writing the last " + monitor_->backlog() + " to " + file.string());
    monitor_.reset();  // writes what is queued
    logger_.info("monitoring database written: " + file.string());
  }
  std::string summary = "DataFlowKernel shut down; tasks:";
  for (std::size_t i = 0; i < kTaskStateCount; ++i)
    if (c.count[i] != 0) summary += " " + std::string(to_string(static_cast<TaskState>(i))) + "=" + std::to_string(c.count[i]);
  logger_.info(summary);
  logger_.close();
  cleaned_up_.store(true);
  DataFlowKernel* self = this;
  detail::g_current.compare_exchange_strong(self, nullptr);
}

}  // namespace parsl
