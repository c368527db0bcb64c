#pragma once
/// @file
/// `ThreadPoolExecutor`: runs tasks on threads of this process.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "parsl/runtime/executor.hpp"

namespace parsl {

/// Runs tasks on a fixed set of threads in this process (Parsl's ThreadPoolExecutor): queued
/// tasks start by priority, lower first, and in submission order among equals, as on the MPI
/// executor. Arguments are passed in memory: no serialization.
///
/// Idle threads poll for ~50 microseconds after their last task (so a steady stream of
/// short tasks sees no wake-up latency), then sleep on a condition variable and use no CPU.
///
/// @code
///   config.executors.push_back(std::make_shared<parsl::ThreadPoolExecutor>(4, "cpu"));
/// @endcode
class ThreadPoolExecutor final : public Executor {
 public:
  /// `threads` <= 0 means one per hardware thread. Threads start in start().
  explicit ThreadPoolExecutor(int threads = 0, std::string label = "threads");
  ~ThreadPoolExecutor() override;

  void start() override;
  void submit(TaskHandle task) override;
  /// Runs what is queued, then joins the threads.
  void shutdown() override;
  int threads() const noexcept { return threads_; }
  /// This host, its hardware threads and memory, and the pool's threads as workers.
  std::vector<Node> nodes() const override;

 private:
  void worker_loop();
  bool try_pop(TaskHandle& out);
  bool pop_locked(TaskHandle& out);  // the best queued task; mutex_ held

  int threads_;
  std::mutex mutex_;
  std::condition_variable cv_;
  // Priority 0 (the default) has its own FIFO, so the common case costs what a plain queue
  // does; other priorities get a FIFO each. Emptied FIFOs stay (there are usually few
  // priorities, and a steady stream then allocates nothing) unless there are many.
  std::deque<TaskHandle> normal_;
  std::map<int, std::deque<TaskHandle>> others_;
  std::size_t others_queued_ = 0;
  std::atomic<std::size_t> queued_{0};
  int sleeping_ = 0;
  bool stop_ = false;
  bool started_ = false;
  std::vector<std::thread> workers_;
};

/// Runs each task on the thread that submits it, before submit() returns. For tests and
/// for measuring the kernel's own cost per task; a task that blocks blocks its caller.
class InlineExecutor final : public Executor {
 public:
  explicit InlineExecutor(std::string label = "inline") : Executor(std::move(label)) {}
  void submit(TaskHandle task) override { task.run(); }
  void shutdown() override {}
};

}  // namespace parsl
