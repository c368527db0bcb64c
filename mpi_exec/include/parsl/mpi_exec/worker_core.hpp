#pragma once
/// @file
/// `WorkerCore`: the protocol logic of a worker rank, without MPI.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "parsl/mpi_exec/protocol.hpp"
#include "parsl/mpi_exec/task_queue.hpp"
#include "parsl/runtime/try_runner.hpp"

namespace parsl::mpi {

/// A worker's queue and bookkeeping, shared by its two threads: the *communication thread*
/// (the rank's main thread, the only one that calls MPI) and the *runner thread*, which
/// runs one task at a time. Because the communication thread never runs task code, a worker
/// answers its parent while a task runs: it reports a task's start as soon as it has run
/// for `kReportStartAfter` (so rank 0 starts the walltime clock), and when a task has run
/// for `kHandBackAfter` it hands every task still queued behind it back to its parent, for
/// idle workers to take (see docs/design.md, "Mixed task lengths").
///
/// Adaptive prefetch: the worker asks for enough tasks to hold 1 + prefetch, where prefetch
/// starts at `min_prefetch` and rises towards `max_prefetch` while its tasks are short (so
/// that about `kPrefetchWindow` of work waits in its queue). While a task runs longer than
/// `kHandBackAfter` it asks for nothing. Thread-safe.
class WorkerCore {
 public:
  using Clock = std::chrono::steady_clock;
  /// Runs one task: its value's bytes or its failure (a runner that throws fails the task
  /// with what it threw).
  using Runner = std::function<EncodedOutcome(const TaskMsg&)>;
  /// Called on the thread that runs a placed task, with its Placement before the task and
  /// with null after: binds the thread to the task's cores and names its GPUs.
  using Binder = std::function<void(const Placement*)>;

  /// The first message up asks for 1 + `min_prefetch` tasks. The default runner looks the
  /// app up in the AppRegistry.
  WorkerCore(int rank, int min_prefetch, int max_prefetch, Runner runner = {});

  static constexpr double kPrefetchWindow = 1e-3;  ///< seconds of queued work to aim for
  static constexpr auto kReportStartAfter = std::chrono::microseconds(200);
  static constexpr auto kHandBackAfter = std::chrono::milliseconds(5);

  /// The prefetch depth the worker aims for now.
  int prefetch() const;
  void set_binder(Binder binder) { binder_ = std::move(binder); }

  // ---- communication thread ----
  /// Queues the tasks, applies the cancellations, records a control code.
  void on_down(DownMsg&& msg);
  /// Looks at the running task: reports its start once it has run `kReportStartAfter`, and
  /// hands the queue back once it has run `kHandBackAfter`. While the worker holds a
  /// Placement, hands back everything queued and reports `ready` once idle.
  void check_running(Clock::time_point now);
  /// An MPI task whose `go` came and whose turn it is: marks it running, queues its
  /// `started` event and returns its Placement. The communication thread then sends that
  /// event, builds the task's communicator and runs the task itself with execute().
  std::optional<Placement> take_mpi_start();
  /// The worker holds a Placement (it takes no other work).
  bool placed() const;
  /// Events, handed-back tasks and credit gathered since the last call, as the next message up.
  UpMsg take_up();
  /// Whether a message should go up now: something to say, and the runner is idle, or 256
  /// events wait, or `flush_after` passed since the last message, or a start or hand-back
  /// waits.
  bool should_flush(Clock::time_point now, Clock::duration flush_after) const;
  /// Sleeps up to `timeout` or until the runner has something to report.
  void wait_for_news(std::chrono::microseconds timeout);
  /// Nothing queued and nothing running.
  bool idle() const;
  /// A task is running.
  bool running() const;
  Control control() const;
  /// Stops the runner thread's loop (after shutdown).
  void close();

  // ---- runner thread ----
  /// Blocks until a task can start (returns it, marked running) or close() (returns nothing).
  std::optional<TaskMsg> wait_next();
  /// Runs `task` (from wait_next or take_mpi_start) and records its outcome; with `runner`
  /// instead of the worker's own.
  void execute(const TaskMsg& task);
  void execute(const TaskMsg& task, const Runner& runner);
  /// The flag the running task's code polls for cancellation (bash and isolated tasks).
  const std::atomic<bool>& cancel_flag() const noexcept { return cancel_running_; }

  // ---- emulation (one thread holds the tasks instead of running them) ----
  /// Starts the best queued task (or a placed one whose turn it is) without running it, as
  /// wait_next would, and returns it; nothing when nothing can start.
  std::optional<TaskMsg> start_next();
  /// Records the outcome of a task started by start_next or take_mpi_start that took
  /// `seconds`, as execute() would have.
  void complete(const TaskMsg& task, EncodedOutcome out, double seconds);

  // ---- single-threaded use (tests) ----
  bool has_work() const;
  /// Starts the best queued task and runs it on this thread.
  void run_one();

  /// The runner that finds the app by name in the AppRegistry and runs it with
  /// run_encoded_try (the same try runner as an isolated try in any executor); `cancel`
  /// becomes the task's TaskContext::cancel; failures name `rank`.
  static EncodedOutcome run_registered(const TaskMsg& task, const std::atomic<bool>* cancel = nullptr,
                                       std::int32_t rank = -1);

  /// The try running now, if any: id, attempt and its start on the wall clock (microseconds
  /// since the epoch).
  struct RunningTry {
    std::uint64_t id = 0;
    std::uint32_t attempt = 0;
    std::int64_t started_us = 0;
  };
  std::optional<RunningTry> running_try() const;
  /// Queues a `usage` event (an encoded ResourceSample) for try `id`/`attempt`, if it still
  /// runs; it goes up with the next message.
  void report_usage(std::uint64_t id, std::uint32_t attempt, std::string sample);
  /// Microseconds since the epoch on the wall clock.
  static std::int64_t wall_us() noexcept;
  /// Stamp each try's start with the wall clock (monitoring); off, events carry 0 and a
  /// task costs no clock read for it.
  void stamp_starts(bool on) noexcept { stamp_starts_ = on; }

 private:
  struct Running {
    std::uint64_t id = 0;
    std::uint32_t attempt = 0;
    Clock::time_point start;
    std::int64_t started_us = 0;  // the wall clock at start (monitoring's running time)
    bool start_reported = false;
    bool long_running = false;  // past kHandBackAfter: hand back, ask for nothing
  };
  std::optional<TaskMsg> start_next_locked();
  bool can_start_locked() const;
  void clear_placed_locked();
  void start_running_locked(const TaskMsg& t);
  void finish(Event done, double seconds);
  std::int64_t wanted_credit() const noexcept;

  int rank_;
  bool stamp_starts_ = false;
  Runner runner_;
  Binder binder_;
  mutable std::mutex mutex_;
  std::condition_variable work_cv_;  // the runner waits for tasks
  std::condition_variable news_cv_;  // the communication thread waits for events
  TaskQueue queue_;
  std::optional<Running> running_;
  std::vector<Event> events_;
  std::vector<TaskMsg> returned_;
  std::vector<std::uint64_t> cancelled_;  // ids to drop when they are popped or arrive
  std::atomic<bool> cancel_running_{false};
  std::atomic<std::size_t> queued_{0};  // queue_.size(), for the runner's lock-free polling
  bool news_ = false;
  bool closing_ = false;
  int min_prefetch_, max_prefetch_, prefetch_;
  double mean_seconds_ = -1;   // moving average of task run time; < 0 until the first task
  std::int64_t granted_ = 0;   // credit sent up, ever
  std::int64_t received_ = 0;  // tasks received, ever (handed-back ones included: no longer held)
  Clock::time_point last_up_ = Clock::now();
  Control control_ = Control::none;
  // A placed task (docs/design.md, "Resources and MPI tasks"): at most one at a time.
  std::optional<Placement> placed_;
  bool placed_started_ = false;
  bool ready_sent_ = false;
  bool go_ = false;
  std::atomic<bool> mpi_due_{false};     // an MPI task's go came: take_mpi_start() has work
  std::atomic<bool> has_placed_{false};  // placed_ set: execute() looks at it (else no lock)
};

}  // namespace parsl::mpi
