#pragma once
// Internal: the kernel's checkpoint writer, and the loading of earlier checkpoints into the
// memo table (see docs/design.md, "Checkpoints in the kernel").
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "memo_table.hpp"
#include "parsl/runtime/config.hpp"
#include "parsl/runtime/logger.hpp"
#include "parsl/serial/checkpoint_file.hpp"

namespace parsl::detail {

/// Writes memoized results to checkpoint segments: grouped as tasks finish (task_exit),
/// every period (periodic), or on demand (dfk_exit, manual, and at shutdown in all modes).
class Checkpointer {
 public:
  Checkpointer(std::filesystem::path dir, CheckpointMode mode, std::chrono::duration<double> period, Logger& log,
               std::function<void(const CheckpointReport&)> on_checkpoint)
      : dir_(std::move(dir)), mode_(mode), period_(period), log_(log), on_checkpoint_(std::move(on_checkpoint)) {
    std::filesystem::create_directories(dir_);
    if (mode_ == CheckpointMode::task_exit || mode_ == CheckpointMode::periodic)
      thread_ = std::thread([this] { loop(); });
  }
  ~Checkpointer() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  void add(const serial::ContentHash& key, std::string value, std::uint64_t task_id) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      pending_.push_back({key, std::move(value)});
      if (on_checkpoint_) pending_ids_.push_back(task_id);
      wake = mode_ == CheckpointMode::task_exit && pending_.size() >= kGroup;
    }
    if (wake) cv_.notify_one();
  }
  /// Writes what is pending as one new segment; returns how many entries.
  std::size_t flush() {
    std::lock_guard write_lock(write_mutex_);
    std::vector<serial::CheckpointEntry> batch;
    CheckpointReport report;
    {
      std::lock_guard lock(mutex_);
      batch.swap(pending_);
      report.task_ids.swap(pending_ids_);
    }
    if (batch.empty()) return 0;
    char name[32];
    std::snprintf(name, sizeof name, "seg-%06u.h5", next_++);
    report.segment = dir_ / name;
    try {
      serial::write_checkpoint_segment(report.segment, batch);
    } catch (...) {
      // Keep the results for the next attempt: a failed write loses nothing.
      std::lock_guard lock(mutex_);
      pending_.insert(pending_.begin(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
      if (on_checkpoint_) pending_ids_.insert(pending_ids_.begin(), report.task_ids.begin(), report.task_ids.end());
      throw;
    }
    if (log_.enabled(LogLevel::debug))
      log_.debug("checkpoint: " + std::to_string(batch.size()) + " results in " + report.segment.string());
    if (on_checkpoint_) {
      try {
        on_checkpoint_(report);
      } catch (const std::exception& e) {
        log_.error(std::string("on_checkpoint callback threw: ") + e.what());
      } catch (...) {
        log_.error("on_checkpoint callback threw a non-standard exception");
      }
    }
    return batch.size();
  }

 private:
  static constexpr std::size_t kGroup = 1000;
  void loop() {
    const auto wait = mode_ == CheckpointMode::task_exit
                          ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::milliseconds(50))
                          : std::chrono::duration_cast<std::chrono::steady_clock::duration>(period_);
    std::unique_lock lock(mutex_);
    while (!stop_) {
      cv_.wait_for(lock, wait, [&] { return stop_ || (mode_ == CheckpointMode::task_exit && pending_.size() >= kGroup); });
      if (stop_) break;
      lock.unlock();
      try {
        flush();
      } catch (const std::exception& e) {
        log_.error(std::string("checkpoint failed: ") + e.what());
      }
      lock.lock();
    }
  }

  std::filesystem::path dir_;
  CheckpointMode mode_;
  std::chrono::duration<double> period_;
  Logger& log_;
  std::function<void(const CheckpointReport&)> on_checkpoint_;
  std::mutex mutex_, write_mutex_;
  std::condition_variable cv_;
  std::vector<serial::CheckpointEntry> pending_;
  std::vector<std::uint64_t> pending_ids_;  // only kept when there is an on_checkpoint callback
  unsigned next_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

/// Loads every segment of `sources` (segments or folders of them) into `memo`; returns how
/// many results. Throws CheckpointError naming a bad file and what to do: nothing may run
/// on a checkpoint that could not be read whole.
std::size_t load_checkpoints(const std::vector<std::filesystem::path>& sources, MemoTable& memo);

}  // namespace parsl::detail
