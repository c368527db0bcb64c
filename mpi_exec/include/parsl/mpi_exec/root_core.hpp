#pragma once
/// @file
/// `RootCore`: the protocol logic of rank 0, without MPI.

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "parsl/mpi_exec/dispatcher.hpp"
#include "parsl/mpi_exec/placer.hpp"
#include "parsl/mpi_exec/protocol.hpp"
#include "parsl/runtime/executor.hpp"

namespace parsl::mpi {

/// Rank 0's side of the tree: takes tries from the kernel with their `TaskHandle`s, hands
/// them down as credit allows, routes cancellations, and turns the events that come up into
/// reports on the handles (`mark_running`, `complete_encoded`, `fail`). An event for a try
/// that is no longer live (timed out and retried, cancelled) is dropped. Not thread-safe:
/// rank 0's MPI thread drives it.
///
/// @code
///   RootCore root(topology.place(0).children);
///   root.submit(std::move(msg), handle);
///   root.on_up(child, decode_up(bytes, child));
///   for (auto& [child, msg] : root.dispatch()) send(child, encode(msg));
/// @endcode
class RootCore {
 public:
  /// Applies one outcome to its handle. The default reports it to the kernel; tests record.
  using Apply = std::function<void(const Event&, const TaskHandle&)>;

  /// `machine`: the workers by node, for tasks that are placed (see Placer); without one,
  /// such tasks fail with ConfigError.
  explicit RootCore(std::vector<int> children, std::size_t max_batch = 512, Apply apply = {}, Machine machine = {});
  /// The same, sharing the executor's Machine.
  RootCore(std::vector<int> children, std::size_t max_batch, Apply apply, std::shared_ptr<const Machine> machine);

  /// One try from the kernel. A try that is no longer live (cancelled between the kernel's
  /// launch and here) is dropped. Plain tasks go down the tree; others to the Placer.
  void submit(TaskMsg&& task, TaskHandle handle);
  /// The kernel cancelled task `id`: dropped here if queued, else a cancel goes down its path.
  void cancel(std::uint64_t id);
  /// A message from a child: credit, events (applied to their handles), handed-back tasks.
  void on_up(int child, UpMsg&& msg);
  /// Messages to send now, down the tree (kTagDown).
  std::vector<std::pair<int, DownMsg>> dispatch();
  /// Messages to send now directly to workers (kTagDirect): placements, go, release, cancel.
  std::vector<std::pair<int, DownMsg>> direct();
  const Placer& placer() const noexcept { return placer_; }
  /// Log lines from the tree (worker start-up, binding).
  std::vector<std::string> take_notes() { return d_.take_notes(); }
  /// Tries sent or queued whose outcome has not come.
  std::size_t in_flight() const noexcept { return d_.tracked() + placer_.in_flight(); }
  std::size_t finished_children() const noexcept { return d_.finished_children(); }
  /// Credit the tree has granted, ever.
  std::int64_t granted() const noexcept { return d_.granted(); }
  /// Start-up lines the tree counted instead of sending (UpMsg::notes_dropped).
  std::int64_t notes_dropped() const noexcept { return d_.notes_dropped(); }
  const std::vector<int>& children() const noexcept { return d_.children(); }
  /// "rank 0 sent N tasks in M messages and received ..." for the log.
  std::string traffic() const;

  /// Where each worker rank is, for monitoring: its host and the cores it is bound to.
  struct WorkerPlace {
    std::string host;
    std::string cores;  ///< hwloc logical indices, "0-3"; empty when workers are not pinned
  };
  /// Fills the table of worker places from `machine` (`pinned`: workers bind to their block).
  void set_worker_places(const Machine& machine, bool pinned);

  /// The default Apply: reports to the kernel through the handle, with where and when the
  /// try ran on its worker (`places`, indexed by rank, may be null or short).
  static void report(const Event& event, const TaskHandle& handle, const std::vector<WorkerPlace>* places = nullptr);

 private:
  std::vector<WorkerPlace> places_;
  void apply_placed();
  Dispatcher d_;
  Placer placer_;
  Apply apply_;
  std::uint64_t messages_in_ = 0, messages_out_ = 0, tasks_out_ = 0, results_in_ = 0;
};

}  // namespace parsl::mpi
