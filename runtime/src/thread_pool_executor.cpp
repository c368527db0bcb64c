#include "parsl/runtime/thread_pool_executor.hpp"

#include <unistd.h>

#include <chrono>
#include <thread>

#include "parsl/runtime/errors.hpp"
#include "parsl/serial/remote_error.hpp"

namespace parsl {

namespace {
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
}  // namespace

ThreadPoolExecutor::ThreadPoolExecutor(int threads, std::string label)
    : Executor(std::move(label)),
      threads_(threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))) {}

ThreadPoolExecutor::~ThreadPoolExecutor() { shutdown(); }

void ThreadPoolExecutor::start() {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  workers_.reserve(static_cast<std::size_t>(threads_));
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

void ThreadPoolExecutor::submit(TaskHandle task) {
  bool wake;
  {
    std::lock_guard lock(mutex_);
    if (stop_ || !started_)
      throw KernelError("executor '" + label() + "' is not running: task " + std::to_string(task.id()) +
                        " cannot be queued");
    const int priority = task.priority();
    if (priority == 0) {
      normal_.push_back(std::move(task));
    } else {
      others_[priority].push_back(std::move(task));
      ++others_queued_;
    }
    queued_.fetch_add(1, std::memory_order_release);
    wake = sleeping_ > 0;
  }
  if (wake) cv_.notify_one();
}

bool ThreadPoolExecutor::pop_locked(TaskHandle& out) {
  if (others_queued_ > 0) {
    for (auto it = others_.begin(); it != others_.end();) {
      if (it->second.empty()) {
        it = others_.size() > 8 ? others_.erase(it) : std::next(it);
        continue;
      }
      if (it->first > 0 && !normal_.empty()) break;  // priority 0 goes before positive ones
      out = std::move(it->second.front());
      it->second.pop_front();
      --others_queued_;
      queued_.fetch_sub(1, std::memory_order_relaxed);
      return true;
    }
  }
  if (normal_.empty()) return false;
  out = std::move(normal_.front());
  normal_.pop_front();
  queued_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

bool ThreadPoolExecutor::try_pop(TaskHandle& out) {
  std::lock_guard lock(mutex_);
  return pop_locked(out);
}

void ThreadPoolExecutor::worker_loop() {
  using clock = std::chrono::steady_clock;
  constexpr auto kPollFor = std::chrono::microseconds(50);
  TaskHandle task;
  for (;;) {
    // Poll without the lock for a short while: back-to-back tasks then cost no wake-up.
    const auto poll_until = clock::now() + kPollFor;
    bool got = false;
    for (unsigned spin = 0;; ++spin) {
      if (queued_.load(std::memory_order_acquire) > 0 && try_pop(task)) {
        got = true;
        break;
      }
      if ((spin & 63) == 63) {
        if (clock::now() > poll_until) break;
        std::this_thread::yield();  // share the core with the submitting thread
      } else {
        cpu_relax();
      }
    }
    if (!got) {
      std::unique_lock lock(mutex_);
      ++sleeping_;
      cv_.wait(lock, [&] { return queued_.load(std::memory_order_relaxed) > 0 || stop_; });
      --sleeping_;
      if (!pop_locked(task)) return;  // stop_ and nothing left
    }
    task.run();
    task = TaskHandle();
  }
}

void ThreadPoolExecutor::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  // Busy threads see stop_ once they go idle; pollers fall through to the wait and leave.
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
}

std::vector<Executor::Node> ThreadPoolExecutor::nodes() const {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return {Node{serial::this_host(), static_cast<int>(std::thread::hardware_concurrency()),
               pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : 0,
               threads_}};
}

}  // namespace parsl
