#pragma once
/// @file
/// `WorkerCore`: the protocol logic of a worker rank, without MPI.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "parsl/mpi_exec/protocol.hpp"
#include "parsl/mpi_exec/task_queue.hpp"

namespace parsl::mpi {

/// Runs the tasks its parent sends, best priority first, one at a time, and gathers the
/// events for the way up. Not thread-safe: one thread per rank.
///
/// Adaptive prefetch: the worker asks for enough tasks to hold 1 + prefetch, where prefetch
/// starts at `min_prefetch` and rises towards `max_prefetch` while its tasks are short (so
/// that about `kPrefetchWindow` of work waits in its queue). Long tasks keep it at the
/// minimum (0 by default), so none waits behind another while some worker is idle.
class WorkerCore {
 public:
  /// Runs one task and returns its encoded result, or throws what the app threw.
  using Runner = std::function<std::string(const TaskMsg&)>;

  /// The first message up asks for 1 + `min_prefetch` tasks. The default runner looks the
  /// app up in the AppRegistry.
  WorkerCore(int rank, int min_prefetch, int max_prefetch, Runner runner = {});

  static constexpr double kPrefetchWindow = 1e-3;  ///< seconds of queued work to aim for
  /// The prefetch depth the worker aims for now.
  int prefetch() const noexcept { return prefetch_; }

  void on_down(DownMsg&& msg);
  bool has_work() const noexcept { return !queue_.empty(); }
  /// Runs the best queued task; records started and succeeded/failed events.
  void run_one();
  /// Events and credit gathered since the last call, as the next message up.
  UpMsg take_up();
  bool has_up() const noexcept { return !events_.empty() || wanted_credit() > 0; }
  std::size_t events_waiting() const noexcept { return events_.size(); }
  Control control() const noexcept { return control_; }

  /// The runner that finds the app by name in the AppRegistry.
  static std::string run_registered(const TaskMsg& task);

 private:
  int rank_;
  Runner runner_;
  TaskQueue queue_;
  std::int64_t wanted_credit() const noexcept;
  std::vector<Event> events_;
  int min_prefetch_, max_prefetch_, prefetch_;
  double mean_seconds_ = -1;        // moving average of task run time; < 0 until the first task
  std::int64_t granted_ = 0;        // credit sent up, ever
  std::int64_t received_ = 0;       // tasks received, ever
  Control control_ = Control::none;
};

}  // namespace parsl::mpi
