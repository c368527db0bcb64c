#pragma once
/// @file
/// `MpiExecutor`: runs tasks on the worker ranks of an MPI job.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "parsl/mpi_exec/placer.hpp"
#include "parsl/mpi_exec/protocol.hpp"
#include "parsl/runtime/config.hpp"
#include "parsl/runtime/executor.hpp"

namespace parsl {

/// How the MPI executor shapes its tree and workers. Command line: `--parsl-mpi-NAME=VALUE`.
struct MpiOptions {
  std::string label = "mpi";
  /// Most children per dispatcher from other nodes (--parsl-mpi-fanout).
  int fanout = 64;
  /// 0: nodes are found with MPI_Comm_split_type(shared). N > 0: ranks r with equal r / N
  /// form a node, to build deep trees on one machine (--parsl-mpi-ranks-per-node).
  int ranks_per_node = 0;
  /// Tasks a worker holds beyond the one it runs, at least (--parsl-mpi-prefetch). A worker
  /// whose tasks are short raises this towards `max_prefetch` to hold about 1 ms of work;
  /// tasks of 1 ms or more keep it here. The default 0 (Parsl's prefetch_capacity) means a
  /// long task never waits behind another on a busy worker while a worker is idle. Set both
  /// equal for a fixed depth.
  int prefetch = 0;
  /// Upper bound of the adaptive prefetch (--parsl-mpi-max-prefetch).
  int max_prefetch = 64;
  /// Bind each worker to its share of its node's cores with hwloc (--parsl-mpi-pin). Unset:
  /// on when the job is all parsl's (parsl::run on MPI_COMM_WORLD, parsl-run); off beside a
  /// host code (a Session, or parsl::run on a communicator smaller than MPI_COMM_WORLD),
  /// where workers that pin keep inside their launcher's binding.
  std::optional<bool> pin;
  /// Most tasks in one message down.
  int max_batch = 512;
  /// Config::monitoring: workers stamp each try's start with the wall clock.
  bool monitoring = false;
  /// Seconds between workers' resource samples of running tasks; 0: none. Set from
  /// Config::monitoring_interval when Config::monitoring is on.
  double sample_interval = 0;
  /// Seconds every rank of the communicator has to start (--parsl-mpi-start-timeout): a
  /// rank that never calls parsl::run ends the job with a message naming it after this.
  int start_timeout = 120;
  /// Emulated scale (--parsl-mpi-emulate=NODESxWORKERS, emulation.hpp): 0 for none.
  int emulate_nodes = 0;
  int emulate_workers = 0;

  /// Reads `config.mpi_options`; throws ConfigError naming an unknown option or bad value.
  static MpiOptions from_config(const Config& config);
};

/// Runs tasks on the worker ranks of the job that `parsl::run` started. Put one in
/// `Config::executors` to choose its label and options; `parsl::run` adds one when the
/// configuration names no executor. Arguments and results travel serialized, so apps that
/// run here need serializable types. Thread-safe.
class MpiExecutor final : public Executor {
 public:
  explicit MpiExecutor(MpiOptions options = {});
  ~MpiExecutor() override;

  /// Throws ConfigError when used outside parsl::run (no MPI job attached).
  void start() override;
  void submit(TaskHandle task) override;
  void cancel(std::uint64_t task_id) override;
  /// Tasks with resources or MPI ranks must fit the job's workers (Machine::check); MPI apps
  /// cannot be isolated.
  void check_resources(const AppDef& app, const Resources& need) const override;
  /// Asks the tree to stop once every submitted task is reported, and waits until every
  /// rank of the tree has said bye (so cleanup() covers the whole job's shutdown).
  void shutdown() override;
  /// Queues the value for every worker, ahead of the tasks submitted after it.
  void share(std::uint64_t id, const std::shared_ptr<const std::string>& bytes) override;
  void unshare(std::uint64_t id) override;
  bool runs_in_process() const noexcept override { return false; }
  /// The job's nodes (the hardware gather at start-up) with their worker ranks.
  std::vector<Node> nodes() const override;
  const MpiOptions& options() const noexcept { return options_; }

  /// For the rank-0 loop: tasks submitted since the last call, and whether shutdown was
  /// asked. Blocks up to `wait` when there is nothing.
  struct Pending {
    /// parsl::share's values (before `tasks`, which may refer to them) and releases.
    std::vector<std::pair<std::uint64_t, std::shared_ptr<const std::string>>> shares;
    std::vector<std::uint64_t> released;
    std::vector<std::pair<mpi::TaskMsg, TaskHandle>> tasks;
    std::vector<std::uint64_t> cancels;  ///< after `tasks`
    bool stop = false;
  };
  Pending take(std::chrono::microseconds wait);
  /// Marks the executor as driven by a rank-0 loop over the workers of `machine` (parsl::run
  /// does this), with `resolved`: its options merged with the command line's, pin decided.
  void attach(mpi::Machine machine = {}, const std::optional<MpiOptions>& resolved = std::nullopt) {
    machine_ = std::make_shared<const mpi::Machine>(std::move(machine));
    if (resolved) {
      const std::string label = options_.label;
      options_ = *resolved;
      options_.label = label;
    }
    attached_ = true;
  }
  const mpi::Machine& machine() const noexcept { return *machine_; }
  /// The same, to share rather than copy (rank 0's Placer).
  std::shared_ptr<const mpi::Machine> shared_machine() const noexcept { return machine_; }
  /// Wakes a waiting take().
  void wake();
  /// The rank-0 loop has stopped the tree; releases shutdown().
  void mark_stopped();
  /// For the rank-0 loop: every worker of the tree has asked for its first tasks.
  void mark_ready();
  /// Waits until every worker has said it is there (asked for its first tasks), at most
  /// `timeout`; returns whether they all have. Benchmarks wait so that they time the tasks,
  /// not the start of thousands of workers.
  bool wait_ready(std::chrono::duration<double> timeout);

 private:
  MpiOptions options_;
  std::shared_ptr<const mpi::Machine> machine_ = std::make_shared<const mpi::Machine>();
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::pair<mpi::TaskMsg, TaskHandle>> incoming_;
  std::vector<std::uint64_t> cancels_;
  std::vector<std::pair<std::uint64_t, std::shared_ptr<const std::string>>> shares_;
  std::vector<std::uint64_t> released_;
  bool stop_ = false;
  bool stopped_ = false;
  bool attached_ = false;
  bool ready_ = false;
  std::condition_variable stopped_cv_;
};

}  // namespace parsl
