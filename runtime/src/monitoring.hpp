#pragma once
// Parsl-style monitoring at the kernel: a SQLite database in Parsl's schema
// (parsl/monitoring/db_manager.py: workflow, task, try, status, node, block, resource), written
// by one thread in transactions with prepared statements, so that the kernel's threads only
// append records to a queue. A task's life is one row per try (our table `task_life`), of
// which `task`, `try` and `status` are views: one INSERT per no-op task instead of seven.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <thread>
#include <vector>

#include "parsl/runtime/executor.hpp"
#include "parsl/runtime/resource_sample.hpp"
#include "parsl/runtime/task_state.hpp"

struct sqlite3;

namespace parsl::detail {

class MonitoringDb {
 public:
  /// Opens (creates) `file` with Parsl's tables and indexes in WAL mode, inserts the
  /// workflow row and starts the writer. Throws ConfigError naming the file when it cannot
  /// be opened or written (locked, not a database, a database of another schema).
  MonitoringDb(const std::filesystem::path& file, std::string run_id, const std::string& workflow_name,
               const std::string& rundir);
  /// Writes what is queued and closes the database. Never throws (errors go to the log).
  /// The database of the run in `run_dir`: run_dir/monitoring.db, with a run id unique to
  /// this run (folder, pid, start time).
  static std::unique_ptr<MonitoringDb> for_run(const std::filesystem::path& run_dir);
  ~MonitoringDb();
  MonitoringDb(const MonitoringDb&) = delete;
  MonitoringDb& operator=(const MonitoringDb&) = delete;

  // Each call appends a record for the writer; thread-safe, cheap (no I/O).
  /// A submitted task: its row and its `pending` status. `depends`: its inputs' ids, comma-separated.
  void task(std::uint64_t id, const std::string& func_name, bool memoize, const std::string& depends);
  /// A task entered state `s` in try `try_id` (0: not launched yet): its status row, and
  /// what the state means for its try row (launched, running, returned with `failure`)
  /// and its task row (returned, with its fail count and `fail_cost`). Never throws.
  /// `from`: the state it left. Executors that run tasks elsewhere report running times
  /// with try_worker(); for those running in this process, `running` and the
  /// `running_ended` of a try that ran are this process's times.
  void state_changed(std::uint64_t id, std::uint32_t try_id, TaskState from, TaskState s, const Executor* executor,
                     const std::string& failure, double fail_cost) noexcept;
  /// Where and when a try ran on a worker (TaskHandle::ran_on): its `running` (and, when
  /// `ended_us` is not 0, `running_ended`) status at the worker's times, and its try row's
  /// host, rank, cores and running time.
  void try_worker(std::uint64_t id, std::uint32_t try_id, std::int32_t rank, std::string_view host,
                  std::string_view cores, std::int64_t started_us, std::int64_t ended_us) noexcept;
  /// A resource row of a running try.
  void resource(std::uint64_t id, std::uint32_t try_id, const ResourceSample& sample) noexcept;
  /// Once the executors have started: a `node` row per node they run tasks on and a `block`
  /// row per executor (the pilot job this run is in, when parsl-submit started it:
  /// $PARSL_SUBMIT_JOB and the scheduler's job id; else block "0").
  void executors_started(const std::vector<Executor*>& executors);
  /// At the kernel's end: the workflow row's completion time and counts, then flushes;
  /// and the blocks' last status (COMPLETED, or TIMEOUT once the job's drain has begun).
  void workflow_end(std::uint64_t completed, std::uint64_t failed);

  const std::filesystem::path& file() const noexcept { return file_; }
  /// For the log: "N records" queued, and how often the kernel's threads waited for the
  /// writer (the queue was full).
  std::string backlog() const;

  /// Now as Parsl's DateTime text ("YYYY-MM-DD HH:MM:SS.ffffff", local time), as SQLAlchemy
  /// stores it in SQLite.
  static std::string timestamp();
  /// `us` microseconds since the epoch as such text.
  static std::string format_time(std::int64_t us);

  // The writer is woken when kWakeWriter records are queued; pushers wait while
  // kMaxQueued are (136 bytes each: ~70 MB queued at most, as much being written).
  static constexpr std::size_t kWakeWriter = 8192, kMaxQueued = std::size_t{1} << 19;
  // A task or try that has not ended is written this long after its first record that is
  // not in the database yet (a reader sees tasks pending or running within about a second);
  // one that ends sooner is written once, when it ends. While the writer is busy (its batch
  // filled up: a campaign of short tasks), the delay is kBusyOpenRowDelayUs: a backlog of
  // pending tasks would otherwise be written twice, once pending and once ended.
  static constexpr std::int64_t kOpenRowDelayUs = 1'000'000, kBusyOpenRowDelayUs = 30'000'000;
  // Another program holding the database's write lock: the writer keeps its records and
  // tries again (each try waits up to the busy timeout, 2 s); at the kernel's end it gives
  // up after this long, and says how many records were not written.
  static constexpr int kLockedGiveUpS = 60;

 private:
  // The queue's lock is held for a push_back: a spin lock that yields, so that the kernel's
  // two threads (submitting, and taking results) never sleep in the kernel for it.
  class QueueLock {
   public:
    void lock() noexcept {
      for (int spins = 0; flag_.exchange(true, std::memory_order_acquire);)
        while (flag_.load(std::memory_order_relaxed))
          if (++spins > 64) std::this_thread::yield();
    }
    void unlock() noexcept { flag_.store(false, std::memory_order_release); }

   private:
    std::atomic<bool> flag_{false};
  };
  enum class Kind : std::uint8_t {
    task, status, try_launched, try_running, try_returned, task_returned, workflow_end, try_worker, resource, node, block
  };
  // What few records have: a resource sample; a block's job id.
  struct Extra {
    ResourceSample sample;
    std::string job_id;
  };
  // Cheap to make on the kernel's threads: the time as microseconds (formatted by the
  // writer), state names as views of static strings, text only where a record has some.
  struct Op {
    Kind kind;
    std::uint64_t id = 0;
    std::uint32_t try_id = 0;
    double number = 0;
    std::int64_t time_us = 0;
    std::string_view name;  // a static string: a state's name, "True"/"False"
    // task: depends, app; try_launched: executor, host; try_worker: host, cores;
    // try_returned: failure; node: host, block; block: executor, block.
    std::string a, b;
    std::int64_t time2_us = 0;  // try_worker: the worker's end of the try; try_returned: the in-process try's end
    std::int32_t rank = -1;     // try_worker: the worker's rank; node: its workers
    std::unique_ptr<Extra> extra;
  };
  // What the writer knows of a task that has not ended: its task_life row as it stands.
  struct Open;
  class Writer;
  static std::int64_t now_us();
  void push(Op op);
  void push(Op a, Op b);
  void wait_for_room(std::unique_lock<QueueLock>& lock);
  void status(std::uint64_t id, std::uint32_t try_id, std::string_view state);
  void writer_loop();
  // The writer's batch (monitoring_write.cpp): "" when written, else the error; `busy`:
  // another program holds the write lock, nothing was applied.
  std::string write_batch(std::vector<Op>& ops, bool all, bool& busy);

  std::filesystem::path file_;
  std::string run_id_;
  std::vector<std::pair<std::string, std::string>> blocks_;  // (executor, block id) for workflow_end
  std::string job_id_;
  sqlite3* db_ = nullptr;
  mutable QueueLock queue_lock_;
  std::condition_variable_any cv_;    // the writer waits for records
  std::condition_variable_any room_;  // pushers wait for room in the queue
  bool writer_waits_ = false;         // the writer sleeps on cv_: pushers wake it
  std::uint64_t waits_ = 0;       // how often a pusher waited (reported at the end)
  std::vector<Op> queue_;
  bool stop_ = false;
  std::string last_error_;
  struct Deleter {
    void operator()(Writer* w) const noexcept;
  };
  Writer* make_writer();
  std::unique_ptr<Writer, Deleter> w_;  // the writer thread's own: open tasks, statements
  std::thread writer_;
};

}  // namespace parsl::detail
