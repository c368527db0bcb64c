#pragma once
/// @file
/// `AppFuture<T>`: the handle an app call returns at once.

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "parsl/runtime/detail/task_record.hpp"
#include "parsl/runtime/data_future.hpp"
#include "parsl/runtime/task_state.hpp"
#include "parsl/serial/codec.hpp"

namespace parsl {

template <class T>
class AppFuture;

namespace detail {

/// Storage for a task's value; `void` tasks have none.
template <class T>
class ValueSlot {
 public:
  std::optional<T> value;
};
template <>
class ValueSlot<void> {};

/// A task record that yields a `T`.
template <class T>
class ValueTask : public TaskRecord, public ValueSlot<T> {
 public:
  using TaskRecord::TaskRecord;

  std::string encode_result() const override {
    if constexpr (std::is_void_v<T>) {
      return {};
    } else if constexpr (serial::is_serializable_v<T>) {
      return serial::encode(*this->value);
    } else {
      throw_not_serializable("result");
    }
  }
  void set_result_from_bytes(std::string_view bytes) override {
    if constexpr (std::is_void_v<T>) {
      if (!bytes.empty()) throw_void_with_bytes(bytes.size());
    } else if constexpr (serial::is_serializable_v<T>) {
      this->value.emplace(serial::decode<T>(bytes));
    } else {
      throw_not_serializable("result");
    }
  }

 protected:
  [[noreturn]] void throw_not_serializable(const char* what) const;
  [[noreturn]] void throw_void_with_bytes(std::size_t n) const;
};

void throw_not_serializable_impl(const std::string& app, const char* what);
void throw_void_with_bytes_impl(const std::string& app, std::size_t n);

template <class T>
void ValueTask<T>::throw_not_serializable(const char* what) const {
  throw_not_serializable_impl(app_name(), what);
  std::terminate();
}
template <class T>
void ValueTask<T>::throw_void_with_bytes(std::size_t n) const {
  throw_void_with_bytes_impl(app_name(), n);
  std::terminate();
}

template <class T>
std::shared_ptr<TaskRecord> record_of(const AppFuture<T>& f);
/// AppFuture::cancel().
bool cancel_task(const std::shared_ptr<TaskRecord>& task);

}  // namespace detail

/// The future of one task: the app's return value of type `T` (or `void`), or its error.
///
/// Cheap to copy (a shared handle); all copies see the same task. Every method is
/// thread-safe. Futures can be passed to other apps as arguments: that is an edge in the
/// task graph, and the receiving task runs with the value once this one is done.
///
/// @code
///   auto f = square(4);          // AppFuture<int>, returned at once
///   auto g = square(f);          // runs after f, with f's value
///   int v = g.get();             // 256, or rethrows the task's error
/// @endcode
template <class T>
class AppFuture {
 public:
  using value_type = T;

  /// An empty future (no task); `valid()` is false and every other call throws.
  AppFuture() = default;

  bool valid() const noexcept { return task_ != nullptr; }
  /// The kernel's id of the task (1, 2, ... in submission order per kernel).
  std::uint64_t task_id() const { return checked().id(); }
  /// The task's current state.
  TaskState state() const { return checked().state(); }
  /// True once the task is final (succeeded, failed, dep_fail or memo_done).
  bool done() const { return checked().done(); }
  /// Blocks until done().
  void wait() const { checked().wait(); }
  /// Blocks until done() or the timeout passes; returns done().
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    return checked().wait_until(std::chrono::steady_clock::now() +
                                std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout));
  }
  /// Waits, then returns the value or rethrows the task's error (its own exception type
  /// for tasks run in this process; `TaskError` for unregistered remote types;
  /// `DependencyError`, `JoinError` or `AppTimeout` for the kernel's own failures).
  /// The reference stays valid while any copy of this future (or the task) lives.
  decltype(auto) get() const& {
    wait();
    if (task_->error()) std::rethrow_exception(task_->error());
    if constexpr (!std::is_void_v<T>) return static_cast<const T&>(*task_->value);
  }
  /// On a temporary future: returns the value by value, so `auto x = app(1).get();` and
  /// `const auto& x = app(1).get();` are both safe.
  T get() && {
    wait();
    if (task_->error()) std::rethrow_exception(task_->error());
    if constexpr (!std::is_void_v<T>) {
      if (task_.use_count() == 1) return std::move(*task_->value);
      return *task_->value;
    }
  }
  /// One DataFuture per file in the call's `outputs`, in order.
  std::vector<DataFuture> outputs() const {
    std::vector<DataFuture> out;
    for (const auto& f : checked().outputs()) out.emplace_back(task_, f);
    return out;
  }
  /// Cancels the task. One that has not started never runs, wherever it waits (the kernel,
  /// an executor's queue, a sub-master, a worker's queue); a running bash or isolated task
  /// is killed; a running in-process function app's future fails at once, while its thread
  /// runs on to the end of the body (C++ cannot stop a thread safely). The future fails
  /// with `TaskCancelled`, without retries, and dependents fail with `DependencyError`.
  /// Returns true when the task was cancelled; false when it had already finished (nothing
  /// changes) or is a join app waiting on its inner futures (cancel those instead).
  bool cancel() const { return detail::cancel_task(task_of()); }
  /// Waits, then returns the task's error, or nullptr when it succeeded.
  std::exception_ptr exception() const {
    wait();
    return task_->error();
  }
  /// Calls `cb(*this)` once the task is final: at once on this thread if it already is,
  /// else on the thread that completes it (keep it short; do not block in it). Exceptions
  /// thrown by `cb` are logged and dropped.
  const AppFuture& add_done_callback(std::function<void(const AppFuture<T>&)> cb) const {
    checked();
    AppFuture self = *this;
    task_->on_done([self, cb = std::move(cb)]() noexcept {
      try {
        cb(self);
      } catch (...) {
        detail_log_callback_error(self.task_id(), std::current_exception());
      }
    });
    return *this;
  }

  /// Wraps a task record; used by apps and executors, not by users.
  explicit AppFuture(std::shared_ptr<detail::ValueTask<T>> task) noexcept : task_(std::move(task)) {}

 private:
  template <class U>
  friend std::shared_ptr<detail::TaskRecord> detail::record_of(const AppFuture<U>&);
  static void detail_log_callback_error(std::uint64_t id, const std::exception_ptr& e);

  std::shared_ptr<detail::TaskRecord> task_of() const {
    checked();
    return task_;
  }
  const detail::ValueTask<T>& checked() const {
    if (!task_) throw_empty();
    return *task_;
  }
  [[noreturn]] static void throw_empty();

  std::shared_ptr<detail::ValueTask<T>> task_;
};

namespace detail {
[[noreturn]] void throw_empty_future();
void log_callback_error(std::uint64_t id, const std::exception_ptr& e);

template <class T>
std::shared_ptr<TaskRecord> record_of(const AppFuture<T>& f) {
  return f.task_;
}
}  // namespace detail

template <class T>
void AppFuture<T>::throw_empty() {
  detail::throw_empty_future();
}
template <class T>
void AppFuture<T>::detail_log_callback_error(std::uint64_t id, const std::exception_ptr& e) {
  detail::log_callback_error(id, e);
}

}  // namespace parsl
