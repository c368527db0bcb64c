#include "parsl/runtime/detail/task_record.hpp"

#include <thread>

#include "parsl/runtime/app.hpp"
#include "parsl/runtime/app_def.hpp"
#include "parsl/runtime/data_flow_kernel.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/file.hpp"

namespace parsl::detail {

TaskRecord::~TaskRecord() = default;

const std::string& TaskRecord::app_name() const noexcept { return app_->name; }

void TaskRecord::wait() const noexcept {
  // Most waits in a busy workflow are short: poll briefly before sleeping on the futex.
  for (int i = 0; i < 2000; ++i) {
    if (done()) return;
    if (i > 64) std::this_thread::yield();
  }
  while (done_.load(std::memory_order_acquire) == 0) done_.wait(0, std::memory_order_acquire);
}

bool TaskRecord::wait_until(std::chrono::steady_clock::time_point deadline) const noexcept {
  // std::atomic has no timed wait: sleep in growing steps, capped so the caller sees the
  // completion within ~1 ms.
  auto step = std::chrono::microseconds(1);
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return done();
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(step, deadline - now));
    if (step < std::chrono::microseconds(1000)) step *= 2;
  }
  return true;
}

void TaskRecord::on_done(Callback cb) {
  callbacks_lock_.lock();
  if (done_.load(std::memory_order_acquire) == 0) {
    callbacks_.push_back(std::move(cb));
    callbacks_lock_.unlock();
    return;
  }
  callbacks_lock_.unlock();
  cb();
}

namespace {
// encode_arguments(), with an error that says what ran out of memory.
std::string encode_or_explain(const TaskRecord& t) {
  try {
    return t.encode_arguments();
  } catch (const std::bad_alloc&) {
    throw SerializationError("app '" + t.app_name() +
                             "': encoding its arguments for another process ran out of memory (std::bad_alloc); "
                             "data that many tasks read can be placed on the workers once with parsl::share");
  }
}
}  // namespace

const std::string& TaskRecord::encoded_arguments() {
  if (!has_encoded_args_) {
    encoded_args_ = encode_or_explain(*this);
    has_encoded_args_ = true;
  }
  return encoded_args_;
}

std::string TaskRecord::take_encoded_arguments() {
  if (!has_encoded_args_) return encode_or_explain(*this);
  has_encoded_args_ = false;
  return std::move(encoded_args_);
}

void TaskRecord::start_join(const std::shared_ptr<TaskRecord>&) {}

void TaskRecord::report_join(const std::shared_ptr<TaskRecord>& self, std::exception_ptr error) {
  self->dfk_->join_finished(self, std::move(error));
}

void throw_not_serializable_impl(const std::string& app, const char* what) {
  throw ConfigError("app '" + app + "': its " + what +
                    " cannot be serialized with Cereal, so it can run only on executors that run "
                    "tasks in this process and cannot be memoized. Give the types a serialize() "
                    "member or use a thread pool executor");
}

void throw_void_with_bytes_impl(const std::string& app, std::size_t n) {
  throw SerializationError("app '" + app + "' returns void but its result message holds " +
                           std::to_string(n) + " bytes");
}

void throw_empty_future() {
  throw KernelError("this AppFuture is empty (default-constructed): it refers to no task");
}

void throw_empty_future_argument() {
  throw KernelError("an app argument is an empty AppFuture (default-constructed, no task): pass a future "
                    "returned by an app call");
}

void log_callback_error(std::uint64_t id, const std::exception_ptr& e) {
  if (DataFlowKernel* dfk = DataFlowKernel::current_or_null())
    dfk->logger().error("a done-callback of task " + std::to_string(id) + " threw " + describe(e));
}

bool cancel_task(const std::shared_ptr<TaskRecord>& task) {
  return task->dfk_ != nullptr && task->dfk_->cancel(task);
}

void throw_app_problem(const std::string& name) {
  AppRegistry::instance().check();
  throw ConfigError("app '" + name + "' is not registered");
}

}  // namespace parsl::detail
