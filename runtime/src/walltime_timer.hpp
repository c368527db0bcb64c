#pragma once
// Internal: the kernel's walltime timer (see docs/design.md, "Walltime of function apps").
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "parsl/runtime/data_flow_kernel.hpp"
#include "parsl/runtime/detail/task_record.hpp"
#include "parsl/runtime/errors.hpp"

namespace parsl::detail {

/// One thread that fails tries whose walltime expired. Holds weak references only: a task
/// that finished and was dropped costs nothing here.
class WalltimeTimer {
 public:
  explicit WalltimeTimer(DataFlowKernel& dfk) : dfk_(dfk), thread_([this] { loop(); }) {}
  ~WalltimeTimer() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void schedule(const std::shared_ptr<TaskRecord>& task, std::uint32_t attempt,
                std::chrono::steady_clock::time_point deadline, double seconds) {
    {
      std::lock_guard lock(mutex_);
      heap_.push(Entry{deadline, task, attempt, seconds});
    }
    cv_.notify_one();
  }

 private:
  struct Entry {
    std::chrono::steady_clock::time_point deadline;
    std::weak_ptr<TaskRecord> task;
    std::uint32_t attempt;
    double seconds;
    bool operator>(const Entry& o) const { return deadline > o.deadline; }
  };
  void loop() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      if (heap_.empty()) {
        cv_.wait(lock);
        continue;
      }
      const auto deadline = heap_.top().deadline;
      if (std::chrono::steady_clock::now() < deadline) {
        cv_.wait_until(lock, deadline);
        continue;
      }
      Entry e = heap_.top();
      heap_.pop();
      lock.unlock();
      if (auto t = e.task.lock(); t && t->claim(e.attempt)) {
        dfk_.try_failed(t, std::make_exception_ptr(AppTimeout(
                               "task " + std::to_string(t->id()) + " (app '" + t->app_name() +
                               "') exceeded its walltime of " + std::to_string(e.seconds) + " s")));
      }
      lock.lock();
    }
  }

  DataFlowKernel& dfk_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace parsl::detail
