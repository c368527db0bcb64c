#include "parsl/runtime/data_flow_kernel.hpp"
#include "parsl/runtime/executor.hpp"
#include "parsl/runtime/isolation.hpp"
#include "parsl/runtime/staging.hpp"
#include "parsl/runtime/task_context.hpp"
#include "parsl/runtime/try_runner.hpp"
#include "job_deadline.hpp"
#include "monitoring.hpp"

namespace parsl {

int TaskHandle::priority() const noexcept { return task_->priority_; }

bool TaskHandle::isolated() const noexcept {
  const AppDef& app = task_->app();
  return app.kind == AppDef::Kind::function && !app.mpi &&
         (app.options.isolate || task_->dfk_->config().isolate_tasks);
}

const Resources& TaskHandle::resources() const noexcept { return task_->resources_; }

bool TaskHandle::mpi_app() const noexcept { return task_->app().mpi; }

double TaskHandle::walltime() const noexcept { return task_->walltime_ ? task_->walltime_->count() : 0.0; }

void TaskHandle::run() const {
  if (!live()) return;  // cancelled while it waited in the queue: it never runs
  DataFlowKernel& dfk = *task_->dfk_;
  dfk.try_started(task_, attempt_);
  TaskContext context{task_->id(), attempt_, {}, &task_->cancel_requested_};
  if (task_->walltime_) context.walltime = task_->walltime_->count();
  if (isolated()) {
    // The encoded try runner, as on an MPI worker: its value's bytes go to the memo table.
    const EncodedOutcome out = run_encoded_try(task_->app(), task_->encoded_arguments(), context,
                                               task_->input_files(), task_->outputs(), /*isolate=*/true);
    if (!task_->claim(attempt_)) return;  // timed out or cancelled meanwhile
    if (!out.ok()) {
      dfk.try_failed(task_, out.error());
      return;
    }
    try {
      task_->set_result_from_bytes(out.bytes());
    } catch (...) {
      dfk.try_failed(task_, std::current_exception());
      return;
    }
    const std::string_view bytes = out.bytes();
    dfk.try_succeeded(task_, &bytes);
    return;
  }
  // In process and typed: the one path for apps whose types are not serializable.
  if (auto ending = detail::job_ending(context)) {
    if (task_->claim(attempt_)) dfk.try_failed(task_, ending);
    return;
  }
  detail::TryResult r;
  try {
    for (const auto& f : task_->input_files()) stage_in(f);  // remote inputs first
  } catch (...) {
    if (task_->claim(attempt_)) dfk.try_failed(task_, std::current_exception());
    return;
  }
  {
    detail::ScopedTaskContext scope(context);
    r = task_->run_local(attempt_);
  }
  if (r.outcome == detail::TryOutcome::succeeded) {
    try {
      for (const auto& f : task_->outputs()) stage_out(f);  // the try already holds its claim
    } catch (...) {
      r = {detail::TryOutcome::failed, std::current_exception()};
    }
  }
  switch (r.outcome) {
    case detail::TryOutcome::succeeded:
      dfk.try_succeeded(task_, nullptr);
      break;
    case detail::TryOutcome::failed:
      dfk.try_failed(task_, std::move(r.error));
      break;
    case detail::TryOutcome::joining:
      dfk.try_joining(task_);
      break;
    case detail::TryOutcome::discarded:
      break;
  }
}

void TaskHandle::mark_running(double already_running) const {
  task_->dfk_->try_started(task_, attempt_, already_running);
}

void TaskHandle::ran_on(std::int32_t rank, std::string_view host, std::string_view cores, std::int64_t started_us,
                        std::int64_t ended_us) const {
  if (auto* m = task_->dfk_->monitor_.get()) m->try_worker(id(), attempt_, rank, host, cores, started_us, ended_us);
}

void TaskHandle::report_usage(const ResourceSample& sample) const {
  if (auto* m = task_->dfk_->monitor_.get()) m->resource(id(), attempt_, sample);
}

bool TaskHandle::live() const noexcept { return task_->attempt_.load(std::memory_order_acquire) == attempt_; }

void TaskHandle::complete_encoded(std::string_view result) const {
  if (!task_->claim(attempt_)) return;
  try {
    task_->set_result_from_bytes(result);
  } catch (...) {
    task_->dfk_->try_failed(task_, std::current_exception());
    return;
  }
  task_->dfk_->try_succeeded(task_, &result);  // the memo table keeps these very bytes
}

void TaskHandle::fail(std::exception_ptr error) const {
  if (task_->claim(attempt_)) task_->dfk_->try_failed(task_, std::move(error));
}

}  // namespace parsl
