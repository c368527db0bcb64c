#include "parsl/runtime/task_context.hpp"

namespace parsl {

namespace {
thread_local TaskContext tl_context;
}

const TaskContext& current_task() noexcept { return tl_context; }

detail::ScopedTaskContext::ScopedTaskContext(TaskContext c) noexcept : saved_(tl_context) { tl_context = c; }
detail::ScopedTaskContext::~ScopedTaskContext() { tl_context = saved_; }

}  // namespace parsl
