#pragma once
/// @file
/// `WorkerCore`: the protocol logic of a worker rank, without MPI.

#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include "parsl/mpi_exec/protocol.hpp"

namespace parsl::mpi {

/// Runs the tasks its parent sends, best priority first, one at a time, and gathers the
/// events for the way up. Not thread-safe: one thread per rank.
class WorkerCore {
 public:
  /// Runs one task and returns its encoded result, or throws what the app threw.
  using Runner = std::function<std::string(const TaskMsg&)>;

  /// `capacity` is the credit announced in the first message up (1 + prefetch). The default
  /// runner looks the app up in the AppRegistry.
  WorkerCore(int rank, std::int64_t capacity, Runner runner = {});

  void on_down(DownMsg&& msg);
  bool has_work() const noexcept { return !queue_.empty(); }
  /// Runs the best queued task; records started and succeeded/failed events.
  void run_one();
  /// Events and credit gathered since the last call, as the next message up.
  UpMsg take_up();
  bool has_up() const noexcept { return !events_.empty() || credit_ > 0; }
  std::size_t events_waiting() const noexcept { return events_.size(); }
  Control control() const noexcept { return control_; }

  /// The runner that finds the app by name in the AppRegistry.
  static std::string run_registered(const TaskMsg& task);

 private:
  struct Entry {
    std::int32_t priority;
    std::uint64_t seq;
    TaskMsg task;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.priority != b.priority ? a.priority > b.priority : a.seq > b.seq;
    }
  };
  int rank_;
  Runner runner_;
  std::priority_queue<Entry, std::vector<Entry>, Later> queue_;
  std::uint64_t seq_ = 0;
  std::vector<Event> events_;
  std::int64_t credit_;
  Control control_ = Control::none;
};

}  // namespace parsl::mpi
